/**
 * The per-query batch's reply (`POST /proc/:pid/procmap_query` with `{"queries":[…]}`) written
 * as bytes: `{"results":[…]}` with, per entry, the answer (`formatQueryAnswer`'s JSON, field for
 * field), `{"error":…,"errno":…}` of an ioctl that failed, or the error body of an entry that did
 * not parse. Byte for byte `JSON.stringify` of the same array: as a string, a reply of a few
 * hundred kilobytes cost more to measure and encode on its way out than everything else the
 * route does (a CPU profile under inject: Buffer.byteLength and Buffer.from of the flattened
 * string, ~40%).
 */
import { type QueryAnswer, SimError } from '../cpus/sim-api.js';
import { JsonBytes, jsonName, MAX_HEX_STRING_BYTES, MAX_NUMBER_BYTES } from './json-bytes.js';
import { FLAG_NAMES_JSON } from './query.js';

/** One entry of the reply: the engine's outcome, or the error body of an entry that did not parse. */
export type QueryResultEntry = QueryAnswer | SimError | object;

const FLAG_NAMES = FLAG_NAMES_JSON.map((j) => Buffer.from(j, 'latin1'));
/** Bytes of an answer at most, name and build id aside (keys, 3 hex strings, 5 numbers, flags). */
const MAX_ANSWER_BYTES =
  200 +
  3 * MAX_HEX_STRING_BYTES +
  5 * MAX_NUMBER_BYTES +
  Math.max(...FLAG_NAMES.map((b) => b.length));

function isAnswer(e: QueryResultEntry): e is QueryAnswer {
  return (e as QueryAnswer).vmaStart !== undefined;
}

function writeAnswer(out: JsonBytes, a: QueryAnswer): void {
  const name = a.vmaName === null ? null : jsonName(a.vmaName);
  out.reserve(MAX_ANSWER_BYTES + (name?.length ?? 0) + (a.buildId?.length ?? 0));
  out.ascii('{"vma_start":');
  out.hexString(a.vmaStart);
  out.ascii(',"vma_end":');
  out.hexString(a.vmaEnd);
  out.ascii(',"vma_flags":');
  out.number(a.vmaFlags);
  out.ascii(',"vma_flags_names":');
  out.bytes(FLAG_NAMES[a.vmaFlags & 15]);
  out.ascii(',"vma_page_size":');
  out.number(a.vmaPageSize);
  out.ascii(',"vma_offset":');
  out.hexString(a.vmaOffset);
  out.ascii(',"inode":');
  out.number(a.inode);
  out.ascii(',"dev_major":');
  out.number(a.devMajor);
  out.ascii(',"dev_minor":');
  out.number(a.devMinor);
  out.ascii(',"vma_name":');
  if (name === null) out.null();
  else out.bytes(name);
  out.ascii(',"build_id":');
  // A build id is lowercase hex: its JSON is the string in quotes.
  if (a.buildId === null) out.null();
  else out.ascii(`"${a.buildId}"`);
  out.ascii('}');
}

/** Whether two answers have the same JSON (a batch asks about the same VMAs again and again). */
function sameAnswer(a: QueryAnswer, b: QueryAnswer): boolean {
  return (
    a.vmaEnd === b.vmaEnd &&
    a.vmaFlags === b.vmaFlags &&
    a.vmaPageSize === b.vmaPageSize &&
    a.vmaOffset === b.vmaOffset &&
    a.inode === b.inode &&
    a.devMajor === b.devMajor &&
    a.devMinor === b.devMinor &&
    a.vmaName === b.vmaName &&
    a.buildId === b.buildId
  );
}

/**
 * `JSON.stringify({ results })` of the entries (answers as `formatQueryAnswer` shapes them). An
 * answer equal to one already written in this reply (same VMA start and every field) is copied
 * from there instead of being written again.
 */
export function queryResultsBytes(results: readonly QueryResultEntry[]): Buffer {
  const written = new Map<number, { a: QueryAnswer; json: Buffer }>();
  const out = new JsonBytes();
  out.reserve(16);
  out.ascii('{"results":[');
  for (let i = 0; i < results.length; i++) {
    const e = results[i];
    if (i > 0) {
      out.reserve(1);
      out.comma();
    }
    if (e instanceof SimError) {
      out.reserve(40 + e.code.length + MAX_NUMBER_BYTES);
      out.ascii(`{"error":"${e.code}","errno":`);
      out.number(e.errno);
      out.ascii('}');
    } else if (isAnswer(e)) {
      const seen = written.get(e.vmaStart);
      if (seen !== undefined && sameAnswer(seen.a, e)) {
        out.reserve(seen.json.length);
        out.copy(seen.json);
        continue;
      }
      const from = out.pos;
      writeAnswer(out, e);
      written.set(e.vmaStart, { a: e, json: Buffer.from(out.buf.subarray(from, out.pos)) });
    } else {
      const body = Buffer.from(JSON.stringify(e), 'utf8');
      out.reserve(body.length);
      out.bytes(body);
    }
  }
  out.reserve(2);
  out.ascii(']}');
  return out.done();
}
