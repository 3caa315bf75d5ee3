/**
 * The JSON bytes of PROCMAP_QUERY answers written lately (query-results.ts), found by their
 * fields: one batch after another asks about the same VMAs of the same processes, and writing an
 * answer (~250 bytes: 11 keys, 3 hex strings, 6 numbers, flag names, a name) costs ~0.5 µs, ten
 * times copying it. An entry is used only when every field the bytes are made of is equal (the
 * VMA's start, end, flags, page size, offset, inode, device, name and build id), so it can never
 * give bytes other than writing them would.
 */
import type { QueryColumns } from '../procfs/query-batch.js';

interface CachedAnswer {
  end: number;
  flags: number;
  pageSize: number;
  offset: number;
  inode: number;
  devMajor: number;
  devMinor: number;
  name: string | null;
  buildId: string | null;
  bytes: Buffer;
}

/** Answers kept at most (then the cache starts again empty): ~1 MB of bytes. */
const MAX_ANSWERS = 4096;

function nameOf(c: QueryColumns, row: number): string | null {
  return c.name[row] < 0 ? null : c.names[c.name[row]];
}

function buildIdOf(c: QueryColumns, row: number): string | null {
  return c.buildId[row] < 0 ? null : c.buildIds[c.buildId[row]];
}

export class AnswerBytesCache {
  /** Answers by VMA start (a few per start: the same VMA asked with and without its name). */
  private readonly byStart = new Map<number, CachedAnswer[]>();
  private count = 0;

  /** The bytes of the answer in row `row` of `c` (errno 0), if written lately. */
  get(c: QueryColumns, row: number): Buffer | undefined {
    const list = this.byStart.get(c.start[row]);
    if (list === undefined) return undefined;
    for (const a of list) {
      if (
        a.end === c.end[row] &&
        a.flags === c.flags[row] &&
        a.pageSize === c.pageSize[row] &&
        a.offset === c.offset[row] &&
        a.inode === c.inode[row] &&
        a.devMajor === c.devMajor[row] &&
        a.devMinor === c.devMinor[row] &&
        a.name === nameOf(c, row) &&
        a.buildId === buildIdOf(c, row)
      ) {
        return a.bytes;
      }
    }
    return undefined;
  }

  /** Keeps `bytes` (copied) as the answer in row `row` of `c`; returns the copy. */
  put(c: QueryColumns, row: number, bytes: Uint8Array): Buffer {
    if (this.count === MAX_ANSWERS) {
      this.byStart.clear();
      this.count = 0;
    }
    const copy = Buffer.from(bytes);
    const a: CachedAnswer = {
      end: c.end[row],
      flags: c.flags[row],
      pageSize: c.pageSize[row],
      offset: c.offset[row],
      inode: c.inode[row],
      devMajor: c.devMajor[row],
      devMinor: c.devMinor[row],
      name: nameOf(c, row),
      buildId: buildIdOf(c, row),
      bytes: copy,
    };
    const list = this.byStart.get(c.start[row]);
    if (list === undefined) this.byStart.set(c.start[row], [a]);
    else list.push(a);
    this.count++;
    return copy;
  }
}
