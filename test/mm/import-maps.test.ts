import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EACCES, EINVAL, ENOMEM } from '../../src/mm/errno.js';
import { importMaps, MapsImportError } from '../../src/mm/import-maps.js';
import { MmGlobals } from '../../src/mm/mm-struct.js';
import { mprotect } from '../../src/mm/syscalls/mprotect.js';
import { munmap } from '../../src/mm/syscalls/munmap.js';
import { VM_ACCOUNT, VM_GROWSDOWN, VM_MAYWRITE, VM_SHARED } from '../../src/mm/vm-flags.js';
import { readWholeMaps } from '../../src/procfs/maps-text.js';
import { directMapsWalker } from '../../src/procfs/vma-capture.js';
import { REAL_MAPS, readFixture } from '../procfs/fake-vmas.js';

const globals = MmGlobals.create({ maxFiles: 4096, fileHeapBytes: 1 << 20, anonNameSlots: 4096 });
const render = (text: string) =>
  Buffer.from(
    readWholeMaps(directMapsWalker(importMaps(text, { globals, maxVmas: 4096 }))),
  ).toString('latin1');

function sameText(actual: string, expected: string, what = ''): void {
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) assert.fail(`${what} line ${i + 1}: got ${a[i]} want ${e[i]}`);
  }
}

for (const name of REAL_MAPS) {
  test(`import → render of real ${name} is byte-identical`, () => {
    const text = readFixture(name);
    sameText(render(text), text, name);
  });
}

test('import sets brk/start_stack so only the [heap]/[stack] lines are named, and hidden flags', () => {
  const text = readFixture('bash.maps');
  const mm = importMaps(text, { globals, maxVmas: 4096 });
  const heap = mm.findVma(0x5607c195a000);
  assert.equal(mm.startBrk, 0x5607c195a000);
  assert.equal(mm.brk, 0x5607c197b000);
  assert.ok(mm.startStack > 0x7ffc92308000 && mm.startStack < 0x7ffc92329000);
  const stack = mm.findVma(mm.startStack);
  assert.ok(mm.vmas.flags(stack) & VM_GROWSDOWN);
  assert.ok(mm.vmas.flags(heap) & VM_ACCOUNT);
  // r--s gconv cache: read-only shared file → no VM_MAYWRITE, no VM_SHARED.
  const gconv = mm.findVma(0x7fcbc59e6000);
  assert.equal(mm.vmas.flags(gconv) & (VM_MAYWRITE | VM_SHARED), 0);
  assert.equal(mm.mapCount, 37);
  // Later syscalls work on the imported mm: unmapping the heap removes its line.
  assert.equal(munmap(mm, 0x5607c195a000, 0x21000), 0);
  const after = Buffer.from(readWholeMaps(directMapsWalker(mm))).toString('latin1');
  assert.ok(!after.includes('[heap]'));
  assert.equal(after.split('\n').length, text.split('\n').length - 1);
});

test('anon names, anon shmem, unknown bracket names and non-canonical spacing', () => {
  const entries: Array<[string, string]> = [
    ['00400000-00401000 r-xp 00000000 fe:00 42', '/bin/x'],
    ['00401000-00402000 rw-p 00000000 00:00 0', ''],
    ['10000000-10004000 rw-p 00000000 00:00 0', '[anon:malloc arena]'],
    ['10004000-10005000 rw-s 00000000 00:01 77', '[anon_shmem:ring]'],
    ['10005000-10006000 r-xp 00000000 00:00 0', '[uprobes]'],
    ['7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0', '[stack]'],
    ['ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0', '[vsyscall]'],
  ];
  // The input separates names by one space and drops the unnamed line's trailing space; the
  // kernel's form pads to column 73 and keeps "0 ".
  const text = entries.map(([p, n]) => (n ? `${p} ${n}` : p)).join('\n');
  const canonical = entries.map(([p, n]) => (n ? `${`${p} `.padEnd(73)}${n}` : `${p} `)).join('\n');
  sameText(render(text), `${canonical}\n`);
});

const HEAP = (range: string) => `${range} rw-p 00000000 00:00 0${' '.repeat(26)}[heap]\n`;

test('invalid text: EINVAL naming the line; too many VMAs: ENOMEM', () => {
  const gate =
    'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n';
  // [text without the gate line, errno, line named, append the gate line?]
  const cases: Array<[string, number, number, boolean]> = [
    ['00400000-00401000 r-xp 00000000 fe:00 42 /bin/x\nnonsense\n', EINVAL, 2, true],
    ['00401000-00400000 rw-p 00000000 00:00 0 \n', EINVAL, 1, true],
    ['00400800-00401000 rw-p 00000000 00:00 0 \n', EINVAL, 1, true],
    [
      '00400000-00402000 rw-p 00000000 00:00 0 \n00401000-00403000 rw-p 00000000 00:00 0 \n',
      EINVAL,
      2,
      true,
    ],
    ['00400000-00401000 rw-p 00001000 00:00 0 \n', EINVAL, 1, true],
    [
      `${HEAP('00400000-00401000')}00401000-00402000 rw-p 00000000 00:00 0 \n${HEAP('00402000-00403000')}`,
      EINVAL,
      2,
      true,
    ],
    [
      `00400000-00401000 rw-p 00000000 00:00 0${' '.repeat(26)}[anon:${'n'.repeat(80)}]\n`,
      EINVAL,
      1,
      true,
    ],
    ['00400000-00401000 rw-p 00000000 00:00 0 \n', EINVAL, 1, false],
    [`${gate}00400000-00401000 rw-p 00000000 00:00 0 \n`, EINVAL, 1, true],
  ];
  for (const [body, errno, lineNo, addGate] of cases) {
    const text = addGate ? body + gate : body;
    assert.throws(
      () => importMaps(text, { globals, maxVmas: 4096 }),
      (e: unknown) => e instanceof MapsImportError && e.errno === errno && e.lineNo === lineNo,
      JSON.stringify(text),
    );
  }
  const many = Array.from(
    { length: 5 },
    (_, i) =>
      `${(0x400000 + i * 0x2000).toString(16).padStart(8, '0')}-${(0x401000 + i * 0x2000).toString(16).padStart(8, '0')} rw-p 00000000 00:00 0 \n`,
  ).join('');
  assert.throws(
    () => importMaps(many + gate, { globals, maxVmas: 4 }),
    (e: unknown) => e instanceof MapsImportError && e.errno === ENOMEM,
  );
});

/** A generated layout, rendered by an independent template-string formatter (the oracle). */
const layoutArb = fc
  .array(
    fc.record({
      gapPages: fc.integer({ min: 0, max: 64 }),
      pages: fc.integer({ min: 1, max: 300 }),
      perms: fc.constantFrom('r--p', 'rw-p', 'r-xp', '---p', 'rwxp', 'r--s', 'rw-s'),
      kind: fc.constantFrom('anon', 'file', 'named', 'shmem', 'vdso'),
      offPages: fc.integer({ min: 0, max: 2 ** 20 }),
      inode: fc.integer({ min: 1, max: 2 ** 40 }),
      dev: fc.tuple(fc.integer({ min: 0, max: 0xfff }), fc.integer({ min: 0, max: 0xfffff })),
      name: fc.stringMatching(/^[a-z0-9 ._\n-]{1,40}$/),
      deleted: fc.boolean(),
    }),
    { minLength: 1, maxLength: 60 },
  )
  .map((vmas) => {
    let addr = 0x10000;
    const lines: string[] = [];
    for (const v of vmas) {
      addr += v.gapPages * 4096;
      const start = addr;
      const end = start + v.pages * 4096;
      addr = end;
      const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
      let off = 0;
      let dev = '00:00';
      let inode = 0;
      let name = '';
      if (v.kind === 'file') {
        off = v.offPages * 4096;
        dev = `${hex(v.dev[0], 2)}:${hex(v.dev[1], 2)}`;
        inode = v.inode;
        name = `/${v.name.replaceAll('\n', '\\012')}${v.deleted ? ' (deleted)' : ''}`;
      } else if (v.kind === 'named') {
        name = `[anon:${v.name.replaceAll('\n', '_')}]`;
      } else if (v.kind === 'shmem') {
        dev = '00:01';
        inode = v.inode;
        name = '/dev/zero (deleted)';
      } else if (v.kind === 'vdso') {
        name = '[vdso]';
      }
      const perms = v.kind === 'file' || v.kind === 'shmem' ? v.perms : v.perms.replace('s', 'p');
      const prefix = `${hex(start, 8)}-${hex(end, 8)} ${perms} ${hex(off, 8)} ${dev} ${inode} `;
      lines.push(name === '' ? prefix : `${prefix.padEnd(73, ' ')}${name}`);
    }
    lines.push(
      'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
    );
    return `${lines.join('\n')}\n`;
  });

test('generated layouts round-trip byte for byte (fast-check)', () => {
  fc.assert(
    fc.property(layoutArb, (text) => {
      sameText(render(text), text);
    }),
    { numRuns: 150, seed: 42 },
  );
});

test('hidden flags make later syscalls behave as on the real process', () => {
  const mm = importMaps(readFixture('bash.maps'), { globals, maxVmas: 4096 });
  // r--s gconv cache (read-only fd): PROT_WRITE is refused like the kernel's EACCES.
  assert.equal(mprotect(mm, 0x7fcbc59e6000, 0x1000, 3), -EACCES);
  // A private file mapping may become writable (VM_MAYWRITE), splitting the VMA.
  assert.equal(mprotect(mm, 0x7fcbc59d2000, 0x1000, 3), 0);
  const t = Buffer.from(readWholeMaps(directMapsWalker(mm))).toString('latin1');
  assert.ok(t.includes('7fcbc59d2000-7fcbc59d3000 rw-p 001cf000 fe:00 339380'));
  assert.ok(t.includes('7fcbc59d3000-7fcbc59d6000 r--p 001d0000 fe:00 339380'));
});
