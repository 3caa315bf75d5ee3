import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hasCloseOp,
  OPS_DUMMY,
  OPS_NONE,
  OPS_VDSO,
  OPS_VVAR,
  OPS_VVAR_VCLOCK,
  SPECIAL_MAPPINGS,
  specialMappingName,
  VSYSCALL_END,
  VSYSCALL_LINE,
  VSYSCALL_START,
} from '../../src/mm/special-mappings.js';
import { VM_EXEC, VM_READ, VM_SPECIAL, VM_WRITE } from '../../src/mm/vm-flags.js';

describe('special mappings', () => {
  it('names special mappings through ops; none and dummy ops have no name', () => {
    assert.equal(specialMappingName(OPS_VDSO), '[vdso]');
    assert.equal(specialMappingName(OPS_VVAR), '[vvar]');
    assert.equal(specialMappingName(OPS_VVAR_VCLOCK), '[vvar_vclock]');
    assert.equal(specialMappingName(OPS_NONE), null);
    assert.equal(specialMappingName(OPS_DUMMY), null);
    assert.equal(specialMappingName(99), null);
    for (const [i, m] of SPECIAL_MAPPINGS.entries()) {
      assert.equal(m.ops, i);
      assert.equal(m.nameBytes === null ? null : Buffer.from(m.nameBytes).toString(), m.name);
    }
    assert.ok(hasCloseOp(OPS_VDSO) && !hasCloseOp(OPS_DUMMY) && !hasCloseOp(OPS_NONE));
  });

  it('gives vdso r-x and the vvars r-- and never-mergeable (VM_SPECIAL), as maps shows them', () => {
    const perms = (f: number) =>
      `${f & VM_READ ? 'r' : '-'}${f & VM_WRITE ? 'w' : '-'}${f & VM_EXEC ? 'x' : '-'}`;
    assert.equal(perms(SPECIAL_MAPPINGS[OPS_VDSO].vmFlags), 'r-x');
    assert.equal(perms(SPECIAL_MAPPINGS[OPS_VVAR].vmFlags), 'r--');
    assert.equal(perms(SPECIAL_MAPPINGS[OPS_VVAR_VCLOCK].vmFlags), 'r--');
    for (const o of [OPS_VDSO, OPS_VVAR, OPS_VVAR_VCLOCK]) {
      assert.notEqual(SPECIAL_MAPPINGS[o].vmFlags & VM_SPECIAL, 0);
    }
  });

  it('has the gate line the kernel prints, with the name at column 73', () => {
    assert.ok(VSYSCALL_LINE.endsWith('[vsyscall]\n'));
    assert.equal(VSYSCALL_LINE.indexOf('[vsyscall]'), 73);
    const [range] = VSYSCALL_LINE.split(' ');
    const [s, e] = range.split('-').map((h) => BigInt(`0x${h}`));
    assert.equal(BigInt(VSYSCALL_START), s);
    assert.equal(BigInt(VSYSCALL_END), e);
  });
});
