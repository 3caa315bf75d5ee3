import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { E2BIG, EINTR, EINVAL, ENAMETOOLONG, ENOENT, ESRCH } from '../../src/mm/errno.js';
import {
  PROCMAP_QUERY_COVERING_OR_NEXT_VMA as COVERING_OR_NEXT,
  PROCMAP_QUERY_FILE_BACKED_VMA as FILE_BACKED,
  type ProcmapQueryArgs,
  ProcmapQueryResult,
  procmapQuery,
  queryArgs,
  PROCMAP_QUERY_VMA_EXECUTABLE as VMA_EXEC,
  PROCMAP_QUERY_VMA_READABLE as VMA_READ,
  PROCMAP_QUERY_VMA_SHARED as VMA_SHARED,
  PROCMAP_QUERY_VMA_WRITABLE as VMA_WRITE,
} from '../../src/procfs/procmap-query.js';
import { fakeMmFromText, fakeQueryTarget, REAL_MAPS, readFixture } from './fake-vmas.js';

/** Independent oracle: the VMA lines of the text, parsed with a regex. */
interface TextVma {
  start: number;
  end: number;
  perms: string;
  offset: number;
  major: number;
  minor: number;
  inode: number;
  name: string;
}
function textVmas(text: string): TextVma[] {
  const out: TextVma[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\w+)-(\w+) (\S{4}) (\w+) (\w+):(\w+) (\d+) *(.*)$/.exec(line);
    if (!m || m[8] === '[vsyscall]') continue;
    out.push({
      start: Number.parseInt(m[1], 16),
      end: Number.parseInt(m[2], 16),
      perms: m[3],
      offset: Number.parseInt(m[4], 16),
      major: Number.parseInt(m[5], 16),
      minor: Number.parseInt(m[6], 16),
      inode: Number(m[7]),
      // The query returns the raw name: undo the maps escaping of '\n'.
      name: m[8].replaceAll('\\012', '\n'),
    });
  }
  return out;
}

function query(text: string, args: ProcmapQueryArgs, opts = {}): [number, ProcmapQueryResult] {
  const out = new ProcmapQueryResult();
  const r = procmapQuery(args, fakeQueryTarget(fakeMmFromText(text), opts), out);
  return [r, out];
}

for (const name of REAL_MAPS) {
  test(`${name}: iterating COVERING_OR_NEXT from 0 yields exactly the text's VMAs (blazesym vma_comparison)`, () => {
    const text = readFixture(name);
    const expected = textVmas(text);
    const target = fakeQueryTarget(fakeMmFromText(text));
    const out = new ProcmapQueryResult();
    let addr = 0;
    let i = 0;
    for (;;) {
      const r = procmapQuery(queryArgs(addr, COVERING_OR_NEXT, true, false), target, out);
      if (r === -ENOENT) break;
      assert.equal(r, 0);
      const e = expected[i++];
      assert.ok(e, 'more VMAs than lines');
      assert.equal(out.vmaStart, e.start);
      assert.equal(out.vmaEnd, e.end);
      const flags =
        (e.perms[0] === 'r' ? VMA_READ : 0) |
        (e.perms[1] === 'w' ? VMA_WRITE : 0) |
        (e.perms[2] === 'x' ? VMA_EXEC : 0) |
        (e.perms[3] === 's' ? VMA_SHARED : 0);
      assert.equal(out.vmaFlags, flags);
      assert.equal(out.vmaOffset, e.offset);
      assert.equal(out.devMajor, e.major);
      assert.equal(out.devMinor, e.minor);
      assert.equal(out.inode, e.inode);
      assert.equal(out.vmaPageSize, 4096);
      assert.equal(out.nameString(), e.name === '' ? null : e.name);
      assert.equal(out.vmaNameSize, e.name === '' ? 0 : Buffer.byteLength(e.name, 'latin1') + 1);
      addr = out.vmaEnd;
    }
    assert.equal(i, expected.length);
    // Every setup is matched by a teardown.
    assert.equal(target.setups, target.teardowns);
  });
}

test('covering vs next: gaps, the last VMA, and the [vsyscall] gate is never returned', () => {
  const text = readFixture('bash.maps');
  const v = textVmas(text);
  // Inside a VMA (last byte): that VMA.
  let [r, out] = query(text, queryArgs(v[3].end - 1, 0, false, false));
  assert.equal(r, 0);
  assert.equal(out.vmaStart, v[3].start);
  // In the gap after the executable: ENOENT without COVERING_OR_NEXT, the heap with it.
  assert.ok(v[5].start > v[4].end);
  [r] = query(text, queryArgs(v[4].end, 0, false, false));
  assert.equal(r, -ENOENT);
  [r, out] = query(text, queryArgs(v[4].end, COVERING_OR_NEXT, false, false));
  assert.equal(r, 0);
  assert.equal(out.vmaStart, v[5].start);
  // Past the stack (and at the gate address): ENOENT.
  for (const a of [v[v.length - 1].end, 0xffffffffff600000]) {
    [r] = query(text, queryArgs(a, COVERING_OR_NEXT, false, false));
    assert.equal(r, -ENOENT);
  }
});

test('filters: a covering VMA failing a filter is ENOENT unless COVERING_OR_NEXT skips ahead', () => {
  const text = readFixture('bash.maps');
  const v = textVmas(text);
  const heap = v[5]; // rw-p anonymous, followed by an anonymous rw-p then file r--p LC_CTYPE
  [VMA_EXEC, FILE_BACKED, VMA_SHARED].forEach((f) => {
    const [r] = query(text, queryArgs(heap.start, f, false, false));
    assert.equal(r, -ENOENT, `flag ${f}`);
  });
  let [r, out] = query(text, queryArgs(heap.start, FILE_BACKED | COVERING_OR_NEXT, true, false));
  assert.equal(r, 0);
  assert.equal(out.nameString(), '/usr/lib/locale/C.utf8/LC_CTYPE');
  [r, out] = query(text, queryArgs(heap.start, VMA_EXEC | COVERING_OR_NEXT, true, false));
  assert.equal(out.nameString(), '/usr/lib/x86_64-linux-gnu/libc.so.6');
  assert.equal(out.vmaFlags, VMA_READ | VMA_EXEC);
  [r, out] = query(text, queryArgs(0, VMA_SHARED | COVERING_OR_NEXT, true, false));
  assert.equal(out.nameString(), '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache');
  [r, out] = query(
    text,
    queryArgs(0, VMA_READ | VMA_WRITE | VMA_EXEC | COVERING_OR_NEXT, false, false),
  );
  assert.equal(r, -ENOENT);
});

const base = (over: Partial<ProcmapQueryArgs> = {}): ProcmapQueryArgs => ({
  ...queryArgs(0x1000, COVERING_OR_NEXT, false, false),
  ...over,
});

test('errno check order of do_procmap_query (and the LTP ioctl list)', () => {
  const text = readFixture('cat.maps');
  const cases: Array<[string, ProcmapQueryArgs, object, number]> = [
    ['size > PAGE_SIZE', base({ size: 4097, queryFlags: 0x40 }), {}, -E2BIG],
    ['size < 24', base({ size: 23, queryFlags: 0x40 }), { alive: false }, -EINVAL],
    ['size = 24 is enough', base({ size: 24 }), {}, 0],
    [
      'extra non-zero bytes',
      base({ size: 112, trailingNonZero: true, queryFlags: 0x40 }),
      {},
      -E2BIG,
    ],
    ['extra zero bytes', base({ size: 112 }), {}, 0],
    ['unknown flag', base({ queryFlags: 0x40 }), { alive: false }, -EINVAL],
    ['name size without addr', base({ vmaNameSize: 10 }), { alive: false }, -EINVAL],
    ['name addr without size', base({ vmaNameAddr: 0x1000 }), {}, -EINVAL],
    ['build id size without addr', base({ buildIdSize: 20 }), {}, -EINVAL],
    ['build id addr without size', base({ buildIdAddr: 0x1000 }), {}, -EINVAL],
    ['exited process', base(), { alive: false }, -ESRCH],
    ['lock interrupted', base({ queryAddr: 0xffffffffff600000 }), { setupErr: -EINTR }, -EINTR],
    ['no match', base({ queryAddr: 0x7fffffffe000 }), {}, -ENOENT],
    ['name buffer too small', base({ vmaNameSize: 5, vmaNameAddr: 1 }), {}, -ENAMETOOLONG],
  ];
  for (const [what, args, opts, want] of cases) {
    const [r] = query(text, args, opts);
    assert.equal(r, want, what);
  }
});

test('a short struct zero-fills the tail: size 84 has a name size but no name address', () => {
  const text = readFixture('cat.maps');
  const full = base({ vmaNameSize: 100, vmaNameAddr: 0x5000 });
  let [r, out] = query(text, { ...full, size: 24 });
  assert.equal(r, 0);
  assert.equal(out.vmaNameSize, 0, 'size 24: name fields are not read');
  [r] = query(text, { ...full, size: 84 });
  assert.equal(r, -EINVAL);
  [r] = query(text, { ...full, size: 82 }); // low 2 bytes of vma_name_size = 100
  assert.equal(r, -EINVAL);
  [r, out] = query(text, { ...full, size: 96 });
  assert.equal(r, 0);
  assert.equal(out.nameString(), '/usr/bin/cat');
});

test('name size counts the NUL; the buffer is capped at PATH_MAX; unnamed VMAs give 0', () => {
  const path = `/${'p'.repeat(4094)}`; // 4095 bytes + NUL = PATH_MAX
  const text = `00400000-00401000 r--p 00000000 fe:00 12 ${' '.repeat(31)}${path}
00401000-00402000 r--p 00001000 fe:00 13 ${' '.repeat(31)}${path}x
00402000-00403000 rw-p 00000000 00:00 0 
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
`;
  const ask = (addr: number, size: number) =>
    query(text, base({ queryAddr: addr, queryFlags: 0, vmaNameSize: size, vmaNameAddr: 1 }));
  let [r, out] = ask(0x400000, 4096);
  assert.equal(r, 0);
  assert.equal(out.vmaNameSize, 4096);
  [r] = ask(0x400000, 4095);
  assert.equal(r, -ENAMETOOLONG);
  [r] = ask(0x401000, 1 << 20); // 4097 bytes needed: more than PATH_MAX whatever the buffer
  assert.equal(r, -ENAMETOOLONG);
  [r, out] = ask(0x402000, 1);
  assert.equal(r, 0);
  assert.equal(out.vmaNameSize, 0);
  [r, out] = ask(0x7ffc00000000, 8); // "[stack]" + NUL = 8
  assert.equal(r, 0);
  assert.equal(out.nameString(), '[stack]');
  [r] = ask(0x7ffc00000000, 7);
  assert.equal(r, -ENAMETOOLONG);
});

test('names are raw: no \\012, " (deleted)" kept, special names as printed', () => {
  const text = readFixture('edge-host.maps');
  const names: string[] = [];
  const target = fakeQueryTarget(fakeMmFromText(text));
  const out = new ProcmapQueryResult();
  for (let a = 0; procmapQuery(queryArgs(a, COVERING_OR_NEXT, true, false), target, out) === 0; ) {
    names.push(out.nameString() ?? '');
    a = out.vmaEnd;
  }
  assert.ok(names.includes('/tmp/edgecap/edge\nnewline (deleted)'));
  assert.ok(names.includes('/dev/zero (deleted)'));
  assert.ok(names.includes('[vvar_vclock]'));
  assert.ok(!names.includes('[vsyscall]'));
});

test('build id: returned for a file that has one, 0 (not an error) otherwise, ENAMETOOLONG if short', () => {
  const text = readFixture('cat.maps');
  const mm = fakeMmFromText(text);
  const id = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
  const buildIds = new Map([[mm.vmas[0].fileId, id]]);
  const run = (addr: number, size: number) => {
    const out = new ProcmapQueryResult();
    const target = fakeQueryTarget(mm, { buildIds });
    const r = procmapQuery(
      base({ queryAddr: addr, buildIdSize: size, buildIdAddr: 1 }),
      target,
      out,
    );
    assert.equal(target.setups, target.teardowns);
    return [r, out] as const;
  };
  let [r, out] = run(mm.vmas[0].start, 20);
  assert.equal(r, 0);
  assert.equal(out.buildIdSize, 20);
  assert.deepEqual(out.buildId, id);
  [r] = run(mm.vmas[0].start, 19);
  assert.equal(r, -ENAMETOOLONG);
  [r, out] = run(mm.vmas[5].start, 20); // [heap]: no file
  assert.equal(r, 0);
  assert.equal(out.buildIdSize, 0);
  [r, out] = run(mm.vmas[1].start, 20); // a file without a build id
  assert.equal(r, 0);
  assert.equal(out.buildIdSize, 0);
});

test('nameString decodes the name bytes, also through its cache of recent names', () => {
  const out = new ProcmapQueryResult();
  const put = (bytes: Uint8Array) => {
    out.name.set(bytes);
    out.vmaNameSize = bytes.length + 1;
  };
  // "Aa" and "BB" have the same hash (31 * 65 + 97 = 31 * 66 + 66): the bytes decide.
  for (const s of ['Aa', 'BB', 'Aa', '/usr/lib/libc.so.6', 'BB']) {
    put(Buffer.from(s));
    assert.equal(out.nameString(), s);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      put(bytes);
      assert.equal(out.nameString(), Buffer.from(bytes).toString('utf8'));
      assert.equal(out.nameString(), Buffer.from(bytes).toString('utf8'));
    }),
  );
  out.vmaNameSize = 0;
  assert.equal(out.nameString(), null);
});
