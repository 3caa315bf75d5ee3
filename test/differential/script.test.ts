// The differential test's own machinery: script format, generator, transcript comparison.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateScript, type ScriptLayout } from './random-script.js';
import { formatScript, parseScript, prefixWithCheck } from './script.js';
import { firstDifference, normaliseLine } from './transcript.js';

const layout: ScriptLayout = {
  startBrk: 0x1db2000,
  brk: 0x1dd4000,
  windowEnd: 0x7ffff7ff7000,
  anonNames: true,
  stackStart: 0x7ffffffde000,
  mmapBase: 0x7ffff7fff000,
};

test('scripts round-trip through the line format, u64 extremes included', () => {
  const ops = generateScript(7, 400, layout);
  const text = formatScript(ops);
  assert.deepEqual(parseScript(text), ops);
  assert.equal(formatScript(parseScript(text)), text);
  // 2^64 - 4096 is written as the helper reads it (strtoull-style hex), and read back exactly.
  assert.deepEqual(parseScript('munmap 0x100000000000 0xfffffffffffff000\n'), [
    { op: 'munmap', addr: 0x1000_0000_0000, len: 2 ** 64 - 4096 },
  ]);
  assert.deepEqual(parseScript('anon 0x1000 0x1000 6120620a\n'), [
    { op: 'anon', addr: 0x1000, len: 0x1000, name: 'a b\n' },
  ]);
  assert.throws(() => parseScript('munmap 0x1 0x20000000000001\n'), RangeError);
});

test('the generator is seeded and prefix-stable', () => {
  const short = generateScript(42, 150, layout);
  const long = generateScript(42, 600, layout);
  // Same seed: the short script is the long one's prefix (up to the final check).
  assert.deepEqual(short.slice(0, -1), long.slice(0, short.length - 1));
  assert.notDeepEqual(generateScript(43, 150, layout), short);
  // It covers every op kind and a share of deliberately invalid calls.
  const kinds = new Set(long.map((o) => o.op));
  for (const k of [
    'mmap',
    'munmap',
    'mprotect',
    'mremap',
    'brk',
    'anon',
    'touch',
    'probe',
    'check',
  ]) {
    assert.ok(kinds.has(k as never), `no ${k} in 600 ops`);
  }
  const noAnon = generateScript(42, 600, { ...layout, anonNames: false });
  assert.ok(!noAnon.some((o) => o.op === 'anon'));
  const noTouch = generateScript(42, 600, { ...layout, touch: false });
  assert.ok(!noTouch.some((o) => o.op === 'touch'));
  // Nothing but brk ever touches the helper's own low mappings or [vvar] and above: a range either
  // lies in the sandbox or below [vvar], or is one the kernel rejects whole (end past TASK_SIZE).
  const sandbox = 0x1000_0000_0000;
  const vvar = layout.windowEnd;
  for (const o of long) {
    if (o.op === 'munmap' || o.op === 'mprotect' || (o.op === 'mmap' && o.flags & 0x10)) {
      const end = o.addr + o.len;
      const inSandbox = o.addr >= sandbox && o.addr < sandbox + 2 ** 32;
      const belowVvar = o.addr > sandbox + 2 ** 32 && end <= vvar;
      const rejected =
        o.addr >= 0x7fff_ffff_f000 || (o.op !== 'mprotect' && end > 0x7fff_ffff_f000);
      assert.ok(inSandbox || belowVvar || rejected || o.len === 0, formatScript([o]));
    }
    if (o.op === 'mremap' && o.flags & 2 && o.flags & 1) {
      // MREMAP_FIXED unmaps whatever is at the destination: never the helper's own mappings.
      const end = o.newAddr + o.newLen;
      const inSandbox = o.newAddr >= sandbox && end <= sandbox + 2 ** 32;
      const belowVvar = o.newAddr > sandbox + 2 ** 32 && end <= vvar;
      const rejected = end > 0x7fff_ffff_f000 || o.newAddr % 4096 !== 0;
      assert.ok(inSandbox || belowVvar || rejected || o.newLen === 0, formatScript([o]));
    }
  }
});

test('prefixWithCheck ends every prefix with one checkpoint', () => {
  const ops = parseScript('probe 0x0\nbrk 0x0\ncheck\nbrk 0x0\n');
  assert.deepEqual(prefixWithCheck(ops, 2).at(-1), { op: 'check' });
  assert.equal(prefixWithCheck(ops, 3).length, 3);
});

test('only the shmem inode is normalised, and the first difference names its op', () => {
  const shm =
    '7ffff7ff1000-7ffff7ff3000 rw-s 00000000 00:01 6                          /dev/zero (deleted)';
  assert.equal(
    normaliseLine(shm),
    '7ffff7ff1000-7ffff7ff3000 rw-s 00000000 00:01 * /dev/zero (deleted)',
  );
  const file = '7ffff7ff3000-7ffff7ff5000 r--s 00000000 fe:00 2146705                    /tmp/f3';
  assert.equal(normaliseLine(file), file);
  const q =
    'q walk 0x0 0x10 ok 0x7ffff7ff1000 0x7ffff7ff3000 0xb 0x1000 0x0 6 0 1 0 - 20 /dev/zero (deleted)';
  assert.equal(
    normaliseLine(q),
    'q walk 0x0 0x10 ok 0x7ffff7ff1000 0x7ffff7ff3000 0xb 0x1000 0x0 * 0 1 0 - 20 /dev/zero (deleted)',
  );
  const a = ['r 0 0x0', 'r 1 -22', 'check 2', 'maps-begin', 'x', 'maps-end'];
  const b = ['r 0 0x0', 'r 1 -22', 'check 2', 'maps-begin', 'y', 'maps-end'];
  assert.equal(firstDifference(a, a), undefined);
  const d = firstDifference(a, b);
  assert.equal(d?.line, 4);
  assert.equal(d?.op, 2);
  assert.equal(firstDifference(a, a.slice(0, 2))?.op, 2);
});
