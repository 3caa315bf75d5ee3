/**
 * The per-query batch's reply (`POST /proc/:pid/procmap_query` with `{"queries":[…]}`) written
 * as bytes from the engine's columns (query-batch.ts): `{"results":[…]}` with, per entry, the
 * answer (`formatQueryAnswer`'s JSON, field for field), `{"error":…,"errno":…}` of an ioctl that
 * failed, or the error body of an entry that did not parse. Byte for byte `JSON.stringify` of the
 * same array (test/schemas/query-json.test.ts): as a string, a reply of a few hundred kilobytes
 * cost more to measure and encode on its way out than everything else the route does.
 *
 * A batch asks about the same few VMAs again and again (1,000 addresses of a 100-VMA process),
 * so the reply is made of few distinct pieces: each distinct answer, error entry and bad entry is
 * written once into a scratch (first pass, which also sums the reply's size), then the reply is
 * allocated at its exact size and filled with one native copy per entry (second pass): a piece's
 * first use is copied from where it was written, every later one from that first use within the
 * reply. An answer written for an earlier batch is taken from there (answer-bytes-cache.ts).
 */
import { errnoName } from '../mm/errno.js';
import type { QueryColumns } from '../procfs/query-batch.js';
import { AnswerBytesCache } from './answer-bytes-cache.js';
import { JsonBytes, jsonName, MAX_HEX_STRING_BYTES, MAX_NUMBER_BYTES } from './json-bytes.js';
import { FLAG_NAMES_JSON } from './query.js';
import type { QueryEntryBatch } from './query-entries.js';
import type { ReplyAlloc } from './reply-buffers.js';

const FLAG_NAMES = FLAG_NAMES_JSON.map((j) => Buffer.from(j, 'latin1'));
/** Bytes of an answer at most, name and build id aside (keys, 3 hex strings, 5 numbers, flags). */
const MAX_ANSWER_BYTES =
  200 +
  3 * MAX_HEX_STRING_BYTES +
  5 * MAX_NUMBER_BYTES +
  Math.max(...FLAG_NAMES.map((b) => b.length));

/** `{"error":"ENOENT","errno":2}` and the like, by errno (a failed ioctl's entry). */
const errorEntries = new Map<number, Buffer>();
function errorEntry(errno: number): Buffer {
  let b = errorEntries.get(errno);
  if (b === undefined) {
    b = Buffer.from(JSON.stringify({ error: errnoName(errno), errno }), 'latin1');
    errorEntries.set(errno, b);
  }
  return b;
}

/** Row `j`'s answer (errno 0) as `formatQueryAnswer`'s JSON. */
function writeAnswer(
  out: JsonBytes,
  c: QueryColumns,
  j: number,
  names: Buffer[],
  buildIds: Buffer[],
): void {
  const name = c.name[j] < 0 ? null : names[c.name[j]];
  const buildId = c.buildId[j] < 0 ? null : buildIds[c.buildId[j]];
  out.reserve(MAX_ANSWER_BYTES + (name?.length ?? 0) + (buildId?.length ?? 0));
  out.ascii('{"vma_start":');
  out.hexString(c.start[j]);
  out.ascii(',"vma_end":');
  out.hexString(c.end[j]);
  out.ascii(',"vma_flags":');
  out.number(c.flags[j]);
  out.ascii(',"vma_flags_names":');
  out.bytes(FLAG_NAMES[c.flags[j] & 15]);
  out.ascii(',"vma_page_size":');
  out.number(c.pageSize[j]);
  out.ascii(',"vma_offset":');
  out.hexString(c.offset[j]);
  out.ascii(',"inode":');
  out.number(c.inode[j]);
  out.ascii(',"dev_major":');
  out.number(c.devMajor[j]);
  out.ascii(',"dev_minor":');
  out.number(c.devMinor[j]);
  out.ascii(',"vma_name":');
  if (name === null) out.null();
  else out.bytes(name);
  out.ascii(',"build_id":');
  if (buildId === null) out.null();
  else out.bytes(buildId);
  out.ascii('}');
}

/** Whether rows `a` and `b` have the same answer (a batch asks about the same VMAs again). */
function sameAnswer(c: QueryColumns, a: number, b: number): boolean {
  return (
    c.start[a] === c.start[b] &&
    c.end[a] === c.end[b] &&
    c.flags[a] === c.flags[b] &&
    c.pageSize[a] === c.pageSize[b] &&
    c.offset[a] === c.offset[b] &&
    c.inode[a] === c.inode[b] &&
    c.devMajor[a] === c.devMajor[b] &&
    c.devMinor[a] === c.devMinor[b] &&
    c.name[a] === c.name[b] &&
    c.buildId[a] === c.buildId[b]
  );
}

/**
 * The distinct pieces of one reply, reused from batch to batch (one is written at a time): piece
 * k is bytes [from[k], to[k]) of `source[k]` (null: the scratch); `row[k]` the engine row of an
 * answer piece (else -1). `table` finds an answer piece by its VMA start (open addressing,
 * piece + 1, 0 = empty).
 */
class Pieces {
  source: (Buffer | null)[] = [];
  from = new Int32Array(256);
  to = new Int32Array(256);
  row = new Int32Array(256);
  /** Where the piece was first copied into the reply being filled (-1: not yet). */
  at = new Int32Array(256);
  count = 0;
  table = new Int32Array(1024);
  mask = 1023;
  /** Piece of each entry of the batch. */
  ofEntry = new Int32Array(1024);

  reset(entries: number): void {
    this.count = 0;
    if (this.ofEntry.length < entries) this.ofEntry = new Int32Array(2 * entries);
    // At most one answer piece per entry: a table at least twice that stays short of full.
    let size = 1024;
    while (size < 2 * entries) size *= 2;
    if (this.table.length !== size) this.table = new Int32Array(size);
    else this.table.fill(0);
    this.mask = size - 1;
  }

  add(source: Buffer | null, from: number, to: number, row: number): number {
    const k = this.count++;
    this.source[k] = source;
    if (k === this.from.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(2 * a.length);
        b.set(a);
        return b;
      };
      this.from = grow(this.from);
      this.to = grow(this.to);
      this.row = grow(this.row);
      this.at = grow(this.at);
    }
    this.from[k] = from;
    this.to[k] = to;
    this.row[k] = row;
    this.at[k] = -1;
    return k;
  }

  /** The table slot where the answer of `row` is, or the empty slot it would go in. */
  slotOf(cols: QueryColumns, row: number): number {
    // Page-aligned starts: their page numbers, mixed (Fibonacci hashing), pick the slot.
    let h = Math.imul((cols.start[row] / 4096) >>> 0, 0x9e3779b1) & this.mask;
    for (;;) {
      const p = this.table[h];
      if (p === 0 || sameAnswer(cols, this.row[p - 1], row)) return h;
      h = (h + 1) & this.mask;
    }
  }
}

const pieces = new Pieces();
const answers = new AnswerBytesCache();
const HEAD = Buffer.from('{"results":[', 'latin1');

/**
 * `JSON.stringify({ results })` of the batch `q` whose parsed entries the engine answered in
 * `cols` (entry i that did not parse: its error body; else the next row), in a Buffer from
 * `alloc`.
 */
export function queryResultsBytes(
  q: QueryEntryBatch,
  cols: QueryColumns,
  alloc: ReplyAlloc = Buffer.allocUnsafe,
): Buffer {
  const n = q.count;
  const bad = q.bad;
  const p = pieces;
  p.reset(n);
  const ofEntry = p.ofEntry;
  // The batch's names and build ids as JSON, made when an answer is first written.
  let nameBytes: Buffer[] | null = null;
  let buildIdBytes: Buffer[] | null = null;
  const names = () => {
    nameBytes ??= cols.names.map(jsonName);
    return nameBytes;
  };
  // A build id is lowercase hex: its JSON is the string in quotes.
  const buildIds = () => {
    buildIdBytes ??= cols.buildIds.map((h) => Buffer.from(`"${h}"`, 'latin1'));
    return buildIdBytes;
  };
  const errnoPiece = new Map<number, number>();
  const out = new JsonBytes();
  // First pass: each entry's piece, each distinct piece written once; the reply's size.
  let size = HEAD.length + 2 + Math.max(0, n - 1);
  for (let i = 0, j = 0; i < n; i++) {
    let k: number;
    const badBody = bad === null ? undefined : bad[i];
    if (badBody !== undefined) {
      const body = Buffer.from(JSON.stringify(badBody), 'utf8');
      out.reserve(body.length);
      const from = out.pos;
      out.bytes(body);
      k = p.add(null, from, out.pos, -1);
    } else {
      const row = j++;
      const errno = cols.errno[row];
      if (errno !== 0) {
        const known = errnoPiece.get(errno);
        if (known !== undefined) k = known;
        else {
          const e = errorEntry(errno);
          out.reserve(e.length);
          const from = out.pos;
          out.bytes(e);
          k = p.add(null, from, out.pos, -1);
          errnoPiece.set(errno, k);
        }
      } else {
        const slot = p.slotOf(cols, row);
        k = p.table[slot] - 1;
        if (k < 0) {
          let bytes = answers.get(cols, row);
          if (bytes === undefined) {
            const from = out.pos;
            writeAnswer(out, cols, row, names(), buildIds());
            bytes = answers.put(cols, row, out.buf.subarray(from, out.pos));
            out.pos = from;
          }
          k = p.add(bytes, 0, bytes.length, row);
          p.table[slot] = k + 1;
        }
      }
    }
    ofEntry[i] = k;
    size += p.to[k] - p.from[k];
  }
  // Second pass: the reply at its size, one copy per entry.
  const scratch = out.buf;
  const reply = alloc(size);
  reply.set(HEAD, 0);
  let pos = HEAD.length;
  const { from, to, at } = p;
  for (let i = 0; i < n; i++) {
    if (i > 0) reply[pos++] = 0x2c;
    const k = ofEntry[i];
    const len = to[k] - from[k];
    const first = at[k];
    if (first < 0) {
      at[k] = pos;
      (p.source[k] ?? scratch).copy(reply, pos, from[k], to[k]);
    } else {
      reply.copyWithin(pos, first, first + len);
    }
    pos += len;
  }
  reply[pos] = 0x5d;
  reply[pos + 1] = 0x7d;
  return reply;
}
