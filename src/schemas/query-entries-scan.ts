/**
 * The per-query batch's body (`{"queries":[{"addr":…,"flags":…,"name":…,"build_id":…},…]}`)
 * parsed straight from its bytes into the engine's columns (`EntryColumns`, query-entries.ts),
 * without JSON.parse building an object per entry (~0.1 µs each, more than the rest of the parse).
 *
 * It reads only a plain subset of JSON: the one key `queries`; entries with the keys `addr`,
 * `flags`, `name` and `build_id`, each at most once, `addr` present; strings of printable ASCII
 * without escapes; non-negative integers of at most 15 digits without a fraction or exponent;
 * `true`/`false`; JSON whitespace between tokens. Within it, every value is what JSON.parse would
 * give, and each entry goes through the same checks and conversions as the parsed JSON does
 * (`EntryColumns.add`, after the same shape check as `isQueryInput`), so the answer is the same.
 * Anything else — another key, an escape, non-ASCII, a float, null, a duplicate key, a batch over
 * `--max-batch`, a value the schema might refuse — returns null: the body then takes the ordinary
 * road (the app's JSON parser, the batch-count check, the validator), with its usual answers.
 */
import { WANT_BUILD_ID, WANT_NAME } from '../procfs/query-batch.js';
import { isBatchAddressInput } from './query.js';
import { EntryColumns, isFlagsInput, type QueryEntryBatch } from './query-entries.js';
import { hexDigit } from './uapi.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** The key `"queries"` (with its quotes) as bytes. */
const QUERIES_KEY = [0x22, 0x71, 0x75, 0x65, 0x72, 0x69, 0x65, 0x73, 0x22];
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];

const KEY_ADDR = 1;
const KEY_FLAGS = 2;
const KEY_NAME = 4;
const KEY_BUILD_ID = 8;

/** Digits of an integer taken as exact here (below 2^53: 15 decimal digits, 13 hex). */
const MAX_DECIMAL_DIGITS = 15;
const MAX_HEX_DIGITS = 13;

/** Bytes of an entry at least (`{"addr":0}`), for the first guess at the batch's size. */
const MIN_ENTRY_BYTES = 10;

/** The reader's place in the body and the value it read last. */
class Scan {
  pos = 0;
  /** A string value: bytes [strFrom, strTo) (no quotes). */
  strFrom = 0;
  strTo = 0;
  constructor(readonly b: Uint8Array) {}

  ws(): void {
    const b = this.b;
    let p = this.pos;
    for (;;) {
      const c = b[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  /** The byte at the reader (undefined at the end). */
  peek(): number {
    return this.b[this.pos];
  }

  /** Skips whitespace, then takes byte `c` if it is next. */
  take(c: number): boolean {
    this.ws();
    if (this.b[this.pos] !== c) return false;
    this.pos++;
    return true;
  }

  /** Takes the bytes `word` if they are next. */
  word(word: readonly number[]): boolean {
    const b = this.b;
    const p = this.pos;
    for (let i = 0; i < word.length; i++) if (b[p + i] !== word[i]) return false;
    this.pos = p + word.length;
    return true;
  }

  /** A string of printable ASCII without escapes, at the reader: its bytes, or false. */
  string(): boolean {
    const b = this.b;
    let p = this.pos;
    if (b[p] !== QUOTE) return false;
    const from = ++p;
    for (;;) {
      const c = b[p];
      if (c === QUOTE) break;
      // A backslash (an escape), a control character, non-ASCII or the end: not ours.
      if (c === undefined || c < 0x20 || c > 0x7e || c === 0x5c) return false;
      p++;
    }
    this.strFrom = from;
    this.strTo = p;
    this.pos = p + 1;
    return true;
  }

  /** A non-negative integer of at most 15 digits, no fraction or exponent; or -1. */
  integer(): number {
    const b = this.b;
    let p = this.pos;
    let v = 0;
    const from = p;
    while (b[p] >= 48 && b[p] <= 57) v = v * 10 + (b[p++] - 48);
    const n = p - from;
    if (n === 0 || n > MAX_DECIMAL_DIGITS || (n > 1 && b[from] === 48)) return -1;
    const c = b[p];
    if (c === 0x2e || c === 0x65 || c === 0x45) return -1; // . e E
    this.pos = p;
    return v;
  }

  /** The string just read, as JSON.parse gives it. */
  text(): string {
    return Buffer.from(
      this.b.buffer,
      this.b.byteOffset + this.strFrom,
      this.strTo - this.strFrom,
    ).toString('latin1');
  }

  /**
   * The string just read as an address when it is plainly one below 2^53 ("0x" and 1–13 hex
   * digits, or 1–15 decimal digits), else -1.
   */
  smallAddress(): number {
    const b = this.b;
    const from = this.strFrom;
    const n = this.strTo - from;
    let v = 0;
    if (n >= 3 && n <= 2 + MAX_HEX_DIGITS && b[from] === 48 && (b[from + 1] | 0x20) === 120) {
      for (let i = from + 2; i < from + n; i++) {
        const d = hexDigit(b[i]);
        if (d < 0) return -1;
        v = v * 16 + d;
      }
      return v;
    }
    if (n === 0 || n > MAX_DECIMAL_DIGITS) return -1;
    for (let i = from; i < from + n; i++) {
      const d = b[i] - 48;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  }
}

/** Which key is at the reader (one of KEY_*), or 0. */
function entryKey(s: Scan): number {
  if (!s.string()) return 0;
  const b = s.b;
  const p = s.strFrom;
  switch (s.strTo - p) {
    case 4:
      if (b[p] === 0x61 && b[p + 1] === 0x64 && b[p + 2] === 0x64 && b[p + 3] === 0x72) {
        return KEY_ADDR;
      }
      if (b[p] === 0x6e && b[p + 1] === 0x61 && b[p + 2] === 0x6d && b[p + 3] === 0x65) {
        return KEY_NAME;
      }
      return 0;
    case 5:
      return s.text() === 'flags' ? KEY_FLAGS : 0;
    case 8:
      return s.text() === 'build_id' ? KEY_BUILD_ID : 0;
    default:
      return 0;
  }
}

/** A boolean flag's value (`true`, `false`, 0 or 1) at the reader, or undefined. */
function booleanFlag(s: Scan): boolean | 0 | 1 | undefined {
  if (s.word(TRUE)) return true;
  if (s.word(FALSE)) return false;
  const v = s.integer();
  return v === 0 || v === 1 ? v : undefined;
}

/** Reads one entry `{…}` into `cols`; false when it is not in the subset (or not valid). */
function entry(s: Scan, cols: EntryColumns): boolean {
  if (!s.take(OPEN_BRACE)) return false;
  let seen = 0;
  let addr: string | number = -1;
  let fast = -1;
  let flags: string | number | undefined;
  let name: boolean | 0 | 1 | undefined;
  let buildId: boolean | 0 | 1 | undefined;
  do {
    s.ws();
    const key = entryKey(s);
    if (key === 0 || (seen & key) !== 0 || !s.take(COLON)) return false;
    seen |= key;
    s.ws();
    if (key === KEY_ADDR) {
      if (s.string()) {
        fast = s.smallAddress();
        if (fast < 0) {
          addr = s.text();
          if (!isBatchAddressInput(addr)) return false;
        }
      } else {
        fast = s.integer();
        if (fast < 0) return false;
      }
    } else if (key === KEY_FLAGS) {
      if (s.string()) flags = s.text();
      else flags = s.integer();
      if (!isFlagsInput(flags)) return false;
    } else {
      const v = booleanFlag(s);
      if (v === undefined) return false;
      if (key === KEY_NAME) name = v;
      else buildId = v;
    }
  } while (s.take(COMMA));
  if (!s.take(CLOSE_BRACE) || (seen & KEY_ADDR) === 0) return false;
  // The common entry: a plain address, no flags (ioctl flags 0 cannot fail to convert).
  if (fast >= 0 && flags === undefined) {
    const want =
      (name === false || name === 0 ? 0 : WANT_NAME) |
      (buildId === false || buildId === 0 ? 0 : WANT_BUILD_ID);
    cols.addParsed(fast, 0, want);
  } else {
    cols.add(fast >= 0 ? fast : addr, flags, name, buildId);
  }
  return true;
}

/** Value of each byte as a hex digit, or -1. */
const HEX_VALUE = Int8Array.from({ length: 256 }, (_, c) => hexDigit(c));

/** `{"addr":"0x` as bytes: how the common entry starts. */
const PLAIN_ENTRY = [0x7b, 0x22, 0x61, 0x64, 0x64, 0x72, 0x22, 0x3a, 0x22, 0x30, 0x78];

/**
 * The common entry at `p`, `{"addr":"0x…"}` with 1–13 hex digits and nothing else: into `cols`,
 * and the position after it; or -1 (the entry is read the general way).
 */
function plainEntry(b: Uint8Array, p: number, cols: EntryColumns): number {
  for (let i = 0; i < PLAIN_ENTRY.length; i++) if (b[p + i] !== PLAIN_ENTRY[i]) return -1;
  const from = p + PLAIN_ENTRY.length;
  const end = Math.min(b.length, from + MAX_HEX_DIGITS + 1);
  let q = from;
  let v = 0;
  for (; q < end; q++) {
    const d = HEX_VALUE[b[q]];
    if (d < 0) break;
    v = v * 16 + d;
  }
  const n = q - from;
  if (n === 0 || n > MAX_HEX_DIGITS || b[q] !== QUOTE || b[q + 1] !== CLOSE_BRACE) return -1;
  cols.addParsed(v, 0, WANT_NAME | WANT_BUILD_ID);
  return q + 2;
}

/**
 * The per-query batch in `body` (UTF-8 JSON) parsed into the engine's columns, or null when the
 * body is not in the plain subset this reads or has more than `maxBatch` entries.
 */
export function scanQueryEntries(body: Uint8Array, maxBatch: number): QueryEntryBatch | null {
  const s = new Scan(body);
  if (!s.take(OPEN_BRACE)) return null;
  s.ws();
  if (!s.word(QUERIES_KEY) || !s.take(COLON) || !s.take(OPEN_BRACKET)) return null;
  const cols = new EntryColumns(Math.min(maxBatch, Math.ceil(body.length / MIN_ENTRY_BYTES)));
  if (!s.take(CLOSE_BRACKET)) {
    for (;;) {
      if (cols.count === maxBatch) return null;
      const next = plainEntry(body, s.pos, cols);
      if (next >= 0) s.pos = next;
      else if (!entry(s, cols)) return null;
      // Entries separated by a bare comma (no whitespace) need no call.
      if (body[s.pos] === COMMA) s.pos++;
      else if (!s.take(COMMA)) break;
      else s.ws();
    }
    if (!s.take(CLOSE_BRACKET)) return null;
  }
  if (!s.take(CLOSE_BRACE)) return null;
  s.ws();
  return s.pos === body.length ? cols.done() : null;
}
