/**
 * The per-query batch's reply (`POST /proc/:pid/procmap_query` with `{"queries":[…]}`) written
 * as bytes from the engine's columns (query-batch.ts): `{"results":[…]}` with, per entry, the
 * answer (`formatQueryAnswer`'s JSON, field for field), `{"error":…,"errno":…}` of an ioctl that
 * failed, or the error body of an entry that did not parse. Byte for byte `JSON.stringify` of the
 * same array (test/schemas/query-json.test.ts): as a string, a reply of a few hundred kilobytes
 * cost more to measure and encode on its way out than everything else the route does.
 */
import { errnoName } from '../mm/errno.js';
import type { QueryColumns } from '../procfs/query-batch.js';
import { JsonBytes, jsonName, MAX_HEX_STRING_BYTES, MAX_NUMBER_BYTES } from './json-bytes.js';
import { FLAG_NAMES_JSON } from './query.js';
import type { QueryEntryBatch } from './query-entries.js';

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

/** Where an answer was written in this reply: its row and bytes [from, to). */
interface Written {
  row: number;
  from: number;
  to: number;
}

/**
 * `JSON.stringify({ results })` of the batch `q` whose parsed entries the engine answered in
 * `cols` (entry i that did not parse: its error body; else the next row). An answer equal to one
 * already written in this reply (same VMA start and every field) is copied from there.
 */
export function queryResultsBytes(q: QueryEntryBatch, cols: QueryColumns): Buffer {
  const names = cols.names.map(jsonName);
  // A build id is lowercase hex: its JSON is the string in quotes.
  const buildIds = cols.buildIds.map((h) => Buffer.from(`"${h}"`, 'latin1'));
  const written = new Map<number, Written>();
  const bad = q.bad;
  const out = new JsonBytes();
  out.reserve(16);
  out.ascii('{"results":[');
  for (let i = 0, j = 0; i < q.count; i++) {
    if (i > 0) {
      out.reserve(1);
      out.comma();
    }
    const badBody = bad === null ? undefined : bad[i];
    if (badBody !== undefined) {
      const body = Buffer.from(JSON.stringify(badBody), 'utf8');
      out.reserve(body.length);
      out.bytes(body);
      continue;
    }
    const row = j++;
    const errno = cols.errno[row];
    if (errno !== 0) {
      const e = errorEntry(errno);
      out.reserve(e.length);
      out.bytes(e);
      continue;
    }
    const seen = written.get(cols.start[row]);
    if (seen !== undefined && sameAnswer(cols, seen.row, row)) {
      const n = seen.to - seen.from;
      out.reserve(n);
      out.buf.copyWithin(out.pos, seen.from, seen.to);
      out.pos += n;
      continue;
    }
    const from = out.pos;
    writeAnswer(out, cols, row, names, buildIds);
    written.set(cols.start[row], { row, from, to: out.pos });
  }
  out.reserve(2);
  out.ascii(']}');
  return out.done();
}
