/**
 * The strace reader over the two recorded start-ups (test/fixtures/traces/) and hand-written lines
 * in every prefix form strace has.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { splitArgs } from '../../../src/cpus/replay/strace-args.js';
import { parseStraceTrace, TraceSyntaxError } from '../../../src/cpus/replay/strace-trace.js';
import { EINVAL, ENOMEM } from '../../../src/mm/errno.js';
import {
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
} from '../../../src/mm/syscalls/madvise.js';
import {
  MAP_ANONYMOUS,
  MAP_DENYWRITE,
  MAP_FIXED,
  MAP_HUGE_SHIFT,
  MAP_PRIVATE,
  MAP_STACK,
  MREMAP_MAYMOVE,
  PROT_NONE,
  PROT_READ,
} from '../../../src/mm/vm-flags.js';
import { repoRoot } from '../../http/server-process.js';

const fixture = (name: string) =>
  readFileSync(join(repoRoot(), 'test', 'fixtures', 'traces', name, 'trace.txt'), 'utf8');

for (const name of ['node-startup', 'jvm-startup'])
  test(`${name}: every call line is read, modelled or counted`, () => {
    const text = fixture(name);
    const parsed = parseStraceTrace(text);
    // Call starts in the text: complete lines and unfinished starts, less the results-less and
    // injected ones (exit_group's "= ?" and the capture's EINTR).
    const starts = text
      .split('\n')
      .filter((l) => /^\d+ \d+\.\d+ [a-z_0-9]+\(/.test(l) && !/\(INJECTED\)|= \?$/.test(l));
    const unmodelled = Object.values(parsed.unmodelled).reduce((a, b) => a + b, 0);
    assert.equal(parsed.calls.length + unmodelled, starts.length);
    assert.ok(parsed.calls.length > 300, `${parsed.calls.length} calls`);
    // Each call once (a split call is one call), each with a thread id and a time.
    assert.equal(new Set(parsed.calls.map((c) => c.line)).size, parsed.calls.length);
    assert.ok(parsed.calls.every((c) => c.tid > 0 && c.time !== null));
    // The program's first call is brk(NULL), answered with the initial break.
    const first = parsed.calls[0]!;
    assert.deepEqual(first.call, { op: 'brk', addr: 0 });
    assert.ok(first.result > 0);
    // -y gives file mmaps their paths.
    assert.ok(
      parsed.calls.some(
        (c) => c.call.op === 'mmap' && c.call.file?.path === '/usr/lib/x86_64-linux-gnu/libc.so.6',
      ),
    );
  });

test('a call split around another thread is joined, with its start line and time', () => {
  const parsed = parseStraceTrace(fixture('jvm-startup'));
  const split = parsed.calls.find((c) => c.line === 135)!;
  assert.deepEqual(split.call, {
    op: 'mmap',
    addr: 0,
    length: 1052672,
    prot: PROT_NONE,
    flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
    offset: 0,
    file: null,
  });
  assert.equal(split.result, 0x7ffff5c9f000);
  assert.equal(split.tid, 16098);
  assert.equal(split.time, 1796313412.130505);
  assert.ok(parsed.unmodelled.prctl! > 0, 'PR_SET_NAME is counted, not run');
});

test('prefix forms: none, -f, [pid N], -ttt or not; errno results; every modelled call', () => {
  const text = [
    'brk(NULL) = 0x555555559000',
    '1234 mmap(0x7f0000000000, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS|MAP_HUGE_2MB, -1, 0) = 0x7f0000000000',
    '[pid  1235] 1700000000.000001 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3</a, b>c>, 0x3000) = 0x7f0000100000',
    '1700000000.5 munmap(0x7f0000000000, 4096) = 0',
    'mprotect(0x7f0000001000, 4096, PROT_NONE) = -1 ENOMEM (Cannot allocate memory)',
    'pkey_mprotect(0x7f0000001000, 4096, PROT_READ, -1) = 0',
    'pkey_mprotect(0x7f0000001000, 4096, PROT_READ, 1) = 0',
    'mremap(0x7f0000001000, 4096, 8192, MREMAP_MAYMOVE) = 0x7f0000200000',
    'prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x7f0000200000, 8192, "heap,\\x41\\n") = 0',
    'prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x7f0000200000, 8192, NULL) = 0',
    'madvise(0x7f0000200000, 8192, MADV_DONTNEED) = 0',
    'madvise(0x7f0000200000, 8192, MADV_DONTFORK) = 0',
    'madvise(0x7f0000200000, 8192, MADV_FREE) = 0',
    'madvise(0x7f0000200000, 8192, MADV_HUGEPAGE) = -1 EINVAL (Invalid argument)',
    'madvise(0x7f0000200000, 8192, 15) = 0',
    'madvise(0x7f0000200000, 8192, 0x63 /* MADV_??? */) = -1 EINVAL (Invalid argument)',
    '--- SIGSEGV {si_signo=SIGSEGV} ---',
    '+++ exited with 0 +++',
    '',
  ].join('\n');
  const { calls, unmodelled } = parseStraceTrace(text);
  assert.deepEqual(
    calls.map((c) => [c.tid, c.time, c.call.op, c.result]),
    [
      [0, null, 'brk', 0x555555559000],
      [1234, null, 'mmap', 0x7f0000000000],
      [1235, 1700000000.000001, 'mmap', 0x7f0000100000],
      [0, 1700000000.5, 'munmap', 0],
      [0, null, 'mprotect', -ENOMEM],
      [0, null, 'mprotect', 0],
      [0, null, 'mremap', 0x7f0000200000],
      [0, null, 'anon_name', 0],
      [0, null, 'anon_name', 0],
      [0, null, 'madvise', 0],
      [0, null, 'madvise', 0],
      [0, null, 'madvise', -EINVAL],
      [0, null, 'madvise', 0],
    ],
  );
  assert.deepEqual(
    calls.slice(-4).map((c) => c.call.op === 'madvise' && c.call.advice),
    [MADV_DONTNEED, MADV_DONTFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE],
  );
  // Advices the engine does not model are counted, by advice, like unmodelled syscalls.
  assert.deepEqual(unmodelled, {
    pkey_mprotect: 1,
    'madvise(MADV_FREE)': 1,
    'madvise(0x63 /* MADV_??? */)': 1,
  });
  const huge = calls[1]!.call;
  assert.equal(
    huge.op === 'mmap' && huge.flags,
    MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | (21 << MAP_HUGE_SHIFT),
  );
  const file = calls[2]!.call;
  assert.ok(file.op === 'mmap');
  assert.deepEqual(file.file, { fd: 3, path: '/a, b>c' });
  assert.equal(file.offset, 0x3000);
  assert.equal(file.flags, MAP_PRIVATE | MAP_DENYWRITE);
  assert.equal(file.prot, PROT_READ);
  const moved = calls[6]!.call;
  assert.deepEqual(moved, {
    op: 'mremap',
    oldAddr: 0x7f0000001000,
    oldSize: 4096,
    newSize: 8192,
    flags: MREMAP_MAYMOVE,
    newAddr: 0,
  });
  assert.equal(calls[7]!.call.op === 'anon_name' && calls[7]!.call.name, 'heap,A\n');
  assert.equal(calls[8]!.call.op === 'anon_name' && calls[8]!.call.name, null);
});

test('unreadable traces are refused whole, naming the line', () => {
  const bad: Array<[string, RegExp]> = [
    ['brk(NULL) = 0x1000\nmmap(NULL, 4096, PROT_READ, MAP_PRIV', /line 2: not a strace line/],
    [
      '1 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0 <unfinished ...>',
      /line 1: mmap never resumed/,
    ],
    ['1 <... mmap resumed>) = 0x1000', /line 1: "mmap resumed" without its start/],
    ['mmap(NULL, 4096, PROT_READ, MAP_BOGUS, -1, 0) = 0x1000', /unknown flag MAP_BOGUS/],
    ['mmap(NULL, 4096, PROT_READ) = 0x1000', /mmap with 3 arguments/],
    ['munmap(0x1000, 4096) = -1 EWHATEVER (x)', /unknown errno/],
    ['munmap(0x1000, 4096.5) = 0', /not a number/],
    [
      'prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x1000, 4096, "0123456789abcdef"...) = 0',
      /truncated/,
    ],
    ['mmap(NULL, 4096, toString, MAP_PRIVATE, -1, 0) = 0x1000', /unknown flag toString/],
  ];
  for (const [text, re] of bad)
    assert.throws(
      () => parseStraceTrace(text),
      (e: unknown) => e instanceof TraceSyntaxError && re.test(e.message),
      text,
    );
});

test('splitArgs keeps strings, structures and -y paths whole', () => {
  assert.deepEqual(splitArgs('NULL, 4096, "a,\\"b", {x=1, y=2}, [1, 2], 3</p,q>, 0'), [
    'NULL',
    '4096',
    '"a,\\"b"',
    '{x=1, y=2}',
    '[1, 2]',
    '3</p,q>',
    '0',
  ]);
  assert.deepEqual(splitArgs(''), []);
});
