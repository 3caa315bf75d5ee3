/**
 * Every strategy reads through its context's maps line memo (src/procfs/maps-line-memo.ts). A
 * VMA changed in place between two reads — start (munmap of its head), flags (mprotect), end (mremap in place), name kind and
 * name (prctl anon name), heap end (brk), a file unlinked, a file mapping split, another file or another offset of the
 * same file over the same range — must show the change on the very next
 * read, whatever was memoised, in one chunk and in small chunks. Lines a reader holding the lock
 * matched are stamped with the mm's sequence and copied on the range alone while it stands:
 * the changes above move it, all but the unlink, which the stamp path checks itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  brk,
  mmap,
  mprotect,
  mremap,
  munmap,
  prctlSetVmaAnonName,
} from '../../../src/mm/syscalls/index.js';
import { MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE } from '../../../src/mm/vm-flags.js';
import { ALL_STRATEGIES } from '../../../src/procfs/strategies/strategy.js';
import { context, directText, readAll } from './helpers.js';
import { hookAt, layoutMm, PAGE, v, write } from './layout.js';

/** A file of its own (unique path and inode) mapped read-only at `at`, 2 pages. */
function mapOwnFile(mm: ReturnType<typeof layoutMm>, at: number, name: string): number {
  const fileId = mm.internFile({
    path: `/tmp/memo/${name}`,
    devMajor: 8,
    devMinor: 3,
    inode: 4242,
  });
  const flags = MAP_PRIVATE | MAP_FIXED_NOREPLACE;
  const r = write(mm, () =>
    mmap(mm, at, 2 * PAGE, 1, flags, { fileId, offset: 0, writable: false }),
  );
  mm.putFile(fileId); // the mapping holds its own reference
  assert.equal(r, at);
  return fileId;
}

/**
 * Maps 2 pages of `fileId` from page `pgoff` read-only over whatever is at `at` (MAP_FIXED), then
 * drops the caller's reference to the file (the mapping holds its own).
 */
function remapAt(mm: ReturnType<typeof layoutMm>, at: number, fileId: number, pgoff: number): void {
  const flags = MAP_PRIVATE | MAP_FIXED;
  const opts = { fileId, offset: pgoff * PAGE, writable: false };
  assert.equal(
    write(mm, () => mmap(mm, at, 2 * PAGE, 1, flags, opts)),
    at,
  );
  mm.putFile(fileId);
}

for (const s of ALL_STRATEGIES) {
  for (const limit of [0, 700]) {
    test(`${s.name} (chunks ${limit || 'none'}): in-place changes show on the next read`, () => {
      const mm = layoutMm();
      const ctx = context();
      const check = (what: string) => {
        const got = readAll(s, ctx, mm, limit);
        assert.equal(got.err, 0, what);
        assert.equal(got.text, directText(mm, limit), what);
      };
      check('first read');
      check('second read (copied from the memo)');
      assert.ok(ctx.mapsLines(mm).heldBytes > 0, 'the reader memoised its lines');
      const file = mapOwnFile(mm, v(10), `${s.name}-${limit}`);
      const changes: [string, () => void][] = [
        ['munmap of a head page (start)', () => write(mm, () => munmap(mm, v(0), PAGE))],
        ['mprotect (flags)', () => write(mm, () => mprotect(mm, v(3), 2 * PAGE, 5))],
        [
          'mremap in place (end)',
          () => write(mm, () => mremap(mm, v(7), 2 * PAGE, 4 * PAGE, 0, 0)),
        ],
        [
          'anon name set (kind)',
          () => write(mm, () => prctlSetVmaAnonName(mm, v(2), 2 * PAGE, 'x')),
        ],
        [
          'anon name renamed',
          () => write(mm, () => prctlSetVmaAnonName(mm, v(6), 2 * PAGE, 'new')),
        ],
        ['anon name cleared', () => write(mm, () => prctlSetVmaAnonName(mm, v(6), 2 * PAGE, null))],
        ['brk (heap end)', () => write(mm, () => (brk(mm, mm.brk + 2 * PAGE) > 0 ? 0 : -1))],
        ['file unlinked (deleted)', () => mm.files.markDeleted(file)],
        ['mprotect of a file mapping (split)', () => write(mm, () => mprotect(mm, v(10), PAGE, 3))],
        [
          'another file over the split range',
          () => {
            write(mm, () => munmap(mm, v(10), 2 * PAGE));
            mapOwnFile(mm, v(10), `${s.name}-${limit}-again`);
          },
        ],
        [
          'the same file at another offset (pgoff only)',
          () => {
            const again = mm.vmas.file(mm.vmaLookup(v(10)));
            mm.files.get(again); // ours while the mapping it comes from is replaced
            remapAt(mm, v(10), again, 3);
          },
        ],
        [
          'another file, same range, offset and flags (file serial only)',
          () => {
            const other = mm.internFile({
              path: `/tmp/memo/${s.name}-${limit}-other`,
              devMajor: 8,
              devMinor: 3,
              inode: 4243,
            });
            remapAt(mm, v(10), other, 3);
          },
        ],
      ];
      for (const [what, change] of changes) {
        const before = directText(mm);
        change();
        assert.notEqual(directText(mm), before, `${what} changed the file`);
        check(what);
        check(`${what}, read again`);
      }
    });
  }
}

test('readers that copy from the live record stamp memo lines with the sequence', () => {
  // mmap_lock and per_vma hold the record's lock; the lockless pair stamp once their validation
  // passed. snapshot formats from its own copies of the records.
  const stamping = new Set(['mmap_lock', 'per_vma', 'lockless', 'lockless_nofallback']);
  for (const s of ALL_STRATEGIES) {
    const mm = layoutMm();
    const ctx = context();
    for (let i = 0; i < 3; i++) assert.equal(readAll(s, ctx, mm, 0).text, directText(mm));
    const memo = ctx.mapsLines(mm);
    const stamped = memo.stamped;
    // V0..V7 but the hole V4 and the anon-named V6: an anon name's line is never stamped (a
    // lockless_nofallback reader meeting a stamp would skip the name it has to read; tested in
    // speculation.test.ts).
    if (stamping.has(s.name)) assert.ok(stamped >= 6, `${s.name}: ${stamped} stamped`);
    else assert.equal(stamped, 0, `${s.name} prints from its copies: no stamp`);
    // Every line of a read with nothing changed is copied, the anon-named one included.
    const before = memo.hits;
    const text = readAll(s, ctx, mm, 0).text;
    assert.equal(memo.hits - before, text.split('\n').length - 2, `${s.name}: lines copied`);
  }
});

test("a stamp stands while its own VMA is not written, whatever the mm's other writes", () => {
  // Every stamping strategy; the write splits [stack] (near the end of the file), so every line
  // before it is compared with the same entry as before.
  for (const s of ALL_STRATEGIES.filter((x) => x.name !== 'snapshot')) {
    const mm = layoutMm();
    const ctx = context();
    const memo = ctx.mapsLines(mm);
    for (let i = 0; i < 2; i++) assert.equal(readAll(s, ctx, mm, 0).text, directText(mm));
    const text = directText(mm).split('\n');
    const stack = text.findIndex((l) => l.endsWith('[stack]'));
    // Stamped lines: neither an anon name nor a special mapping's name.
    const stampable = text.slice(0, stack).filter((l) => !/\[(anon:|v)/.test(l)).length;
    const stackStart = mm.vmas.start(mm.findVma(mm.startStack));
    assert.equal(
      write(mm, () => mprotect(mm, stackStart, PAGE, 1)),
      0,
    );
    const before = memo.stampedHits;
    assert.equal(readAll(s, ctx, mm, 0).text, directText(mm), `${s.name}: after the write`);
    assert.ok(
      memo.stampedHits - before >= stampable,
      `${s.name}: ${memo.stampedHits - before} of ${stampable} lines copied on their stamp`,
    );
  }
});

test('a locked reader copies an anon-named line only while the name reads the same', () => {
  for (const s of ALL_STRATEGIES) {
    const mm = layoutMm();
    const ctx = context();
    const same = (what: string) => assert.equal(readAll(s, ctx, mm, 0).text, directText(mm), what);
    same('first read');
    same('second read');
    // The same length, so the same slot's bytes may be rewritten in place.
    assert.equal(
      write(mm, () => prctlSetVmaAnonName(mm, v(6), 2 * PAGE, 'new')),
      0,
    );
    same(`${s.name}: renamed to a name of the same length`);
    same(`${s.name}: renamed, read again`);
    assert.equal(
      write(mm, () => prctlSetVmaAnonName(mm, v(6), PAGE, 'new')),
      0,
    );
    same(`${s.name}: half renamed (split, both halves named alike)`);
    assert.equal(
      write(mm, () => prctlSetVmaAnonName(mm, v(6) + PAGE, PAGE, 'ne')),
      0,
    );
    same(`${s.name}: the second half renamed shorter`);
  }
});

for (const name of ['lockless', 'lockless_nofallback']) {
  test(`${name}: a line copied and then invalidated leaves no stamp behind`, () => {
    // The first read formats and stores every line; the second copies them after a full
    // compare, and its validation then fails once: a write section between the copy of V3 and
    // its validation gives V3 other flags over the same range. Had that copy stamped V3's entry
    // with the sequence the write left (which the retry reads at), the retry would take the
    // stamp and print V3's old flags.
    const s = ALL_STRATEGIES.find((x) => x.name === name);
    assert.ok(s);
    const mm = layoutMm();
    const ctx = context();
    assert.equal(readAll(s, ctx, mm, 0).text, directText(mm), 'first read');
    const { hooks, calls } = hookAt('beforeValidate', v(3), 1, (m) => {
      assert.equal(
        write(m, () => mprotect(m, v(3), 2 * PAGE, 7)),
        0,
      );
    });
    ctx.hooks = hooks;
    const memo = ctx.mapsLines(mm);
    const hitsBefore = memo.hits;
    const got = readAll(s, ctx, mm, 0).text;
    assert.equal(calls.fired, 1);
    assert.ok(memo.hits > hitsBefore, 'the second read copied lines');
    assert.equal(ctx.stats.retries, 1);
    assert.equal(got, directText(mm), 'the hooked read shows the new flags');
    assert.match(got, new RegExp(`${v(3).toString(16)}-${(v(3) + 2 * PAGE).toString(16)} rwx`));
    ctx.hooks = null;
    assert.equal(readAll(s, ctx, mm, 0).text, directText(mm), 'and so does the next');
    // With nothing changing, the lines copied on a validation that passed are stamped.
    assert.equal(readAll(s, ctx, mm, 0).text, directText(mm));
    assert.ok(memo.stamped >= 6, `${memo.stamped} stamped`);
  });
}
