// The kernel-oracle helper itself: deterministic layout, the transcript format, and that it reports
// what the kernel does (each expectation here follows from the kernel's documented behaviour, not
// from a previous run).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOracleOutput } from '../differential/transcript.js';
import { runOracle } from './oracle-binary.js';

const SANDBOX = 0x1000_0000_0000;
const PAGE = 0x1000;
const TASK_SIZE = 0x7fff_ffff_f000;

function mapsLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

function blockAfter(body: string[], header: string, tag: string): string[] {
  const at = body.indexOf(header);
  assert.ok(at >= 0, `no "${header}" in transcript`);
  const begin = body.indexOf(`${tag}-begin`, at);
  const end = body.indexOf(`${tag}-end`, begin);
  return body.slice(begin + 1, end);
}

test('the helper layout is deterministic and mmap_base is TASK_SIZE - 128 MiB', async () => {
  const a = parseOracleOutput((await runOracle('')).stdout);
  const b = parseOracleOutput((await runOracle('')).stdout);
  assert.equal(a.header.initialMaps, b.header.initialMaps);
  assert.deepEqual(a.header.stat, b.header.stat);
  // mmap_base(): gap = RLIMIT_STACK (8 MiB) + stack_guard_gap (1 MiB), clamped up to 128 MiB;
  // no randomisation. The vdso sits right below it.
  const mmapBase = TASK_SIZE - 128 * 1024 * 1024;
  const vdso = mapsLines(a.header.initialMaps).find((l) => l.endsWith(' [vdso]'));
  assert.ok(vdso);
  assert.equal(Number.parseInt(vdso.split(/[- ]/)[1]!, 16), mmapBase);
  // [heap] starts at start_brk and ends at brk(0).
  const heap = mapsLines(a.header.initialMaps).find((l) => l.endsWith(' [heap]'));
  assert.ok(heap);
  const [hs, he] = heap
    .split(' ')[0]!
    .split('-')
    .map((h) => Number.parseInt(h, 16));
  assert.equal(hs, a.header.stat.start_brk);
  assert.equal(he, a.header.stat.brk);
  assert.ok(mapsLines(a.header.initialMaps).at(-1)!.endsWith(' [vsyscall]'));
  assert.equal(a.header.files.length, 4);
  assert.deepEqual(
    a.header.files.map((f) => f.rdwr),
    [true, true, true, false],
  );
  assert.match(a.header.binaryBuildId, /^[0-9a-f]{40}$/);
  assert.equal(a.body.at(-1), 'done 0');
});

test('the helper reports return values, errno, maps text and query answers', async () => {
  const script = [
    `probe 0x${SANDBOX.toString(16)}`,
    `mmap 0x${SANDBOX.toString(16)} 0x2000 0x3 0x32 -1 0`, // MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED
    `munmap 0x${(SANDBOX + 1).toString(16)} 0x1000`, // unaligned: EINVAL
    'mmap 0x0 0x0 0x3 0x22 -1 0', // zero length: EINVAL
    `mmap 0x${SANDBOX.toString(16)} 0x1000 0x1 0x12 99 0`, // closed fd: EBADF
    'unlink 1',
    `mmap 0x${(SANDBOX + 4 * PAGE).toString(16)} 0x1000 0x1 0x12 1 0x2000`,
    'fork',
    'check',
  ].join('\n');
  const run = await runOracle(script);
  const { header, body } = parseOracleOutput(run.stdout);
  assert.ok(body.includes(`r 1 0x${SANDBOX.toString(16)}`));
  assert.ok(body.includes('r 2 -22'));
  assert.ok(body.includes('r 3 -22'));
  assert.ok(body.includes('r 4 -9'));
  assert.ok(body.includes('r 5 0x0'));
  assert.ok(body.includes('r 7 0x0'));
  const maps = blockAfter(body, 'check 8', 'maps');
  // An anonymous line ends in "0 " with no padding (reference §1).
  assert.ok(maps.includes('100000000000-100000002000 rw-p 00000000 00:00 0 '));
  const f1 = header.files[1]!;
  const dev = `${f1.major.toString(16).padStart(2, '0')}:${f1.minor.toString(16).padStart(2, '0')}`;
  const prefix = `100000004000-100000005000 r--p 00002000 ${dev} ${f1.inode} `;
  assert.ok(maps.includes(`${prefix.padEnd(73, ' ')}${f1.path} (deleted)`));
  // The forked child saw the same maps as the parent had at the fork.
  assert.deepEqual(blockAfter(body, 'fork-child 7', 'forkmaps'), maps);
  // The probe at the sandbox start: the 2-page VMA, readable+writable, no name.
  const probe = body.find((l) => l.startsWith(`q probe 0x${SANDBOX.toString(16)} 0x0 `));
  assert.equal(
    probe,
    'q probe 0x100000000000 0x0 ok 0x100000000000 0x100000002000 0x3 0x1000 0x0 0 0 0 0 - 0 ',
  );
  // The walk never returns [vsyscall] and ends in ENOENT.
  const walk = body.filter((l) => l.startsWith('q walk '));
  assert.match(walk.at(-1)!, / -2$/);
  assert.ok(!walk.some((l) => l.includes('[vsyscall]')));
  // Argument checks in the kernel's order.
  assert.ok(body.includes('q size23 0x400000 0x0 -22'));
  assert.ok(body.includes('q size4097 0x400000 0x0 -7'));
  assert.ok(body.includes('q badflags 0x400000 0x40 -22'));
  assert.ok(body.includes('q name1 0x400000 0x0 -36'));
});

test('a transcript longer than a string may be stops the helper with an error that says so', async () => {
  // The limit made small: the header alone is longer than 1,000 bytes.
  await assert.rejects(
    runOracle('check\n', 1000),
    /printed more than 1,000 bytes .* use a shorter script/,
  );
  const whole = await runOracle('check\n');
  assert.ok(whole.stdout.length > 1000, 'the same script under the real limit');
});
