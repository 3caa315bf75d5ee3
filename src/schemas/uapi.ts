/**
 * u64 values at the HTTP boundary. API.md: addresses, lengths and offsets arrive as `0x…` hex
 * strings, decimal strings or safe JSON integers, and real ones (`ffffffffff600000`) exceed 2^53.
 * We parse them exactly (without BigInt when the string is plainly below 2^53, as every user-space
 * address is; with BigInt otherwise), then hand the engine a `number` (docs/ARCHITECTURE.md:
 * "Numbers and units inside the engine"; src/mm/syscalls/u64.ts does the kernel's mod-2^64
 * arithmetic on such numbers).
 *
 * The mapping (`toEngineNumber`) is exact wherever a double can be:
 *   - below 2^53: the value itself;
 *   - any multiple of 4096 below 2^64 (at most 52 significant bits): the value itself;
 *   - an unaligned value >= 2^53 (not representable): a stand-in the kernel treats identically.
 *     For such a value every syscall we simulate only asks "is it page aligned?" (no: EINVAL
 *     paths), "what is PAGE_ALIGN(v) mod 2^64?" (lengths; may wrap to 0), and "is it above
 *     TASK_SIZE?" (yes). The stand-in PAGE_ALIGN(v) - 2048 (mod 2^64) is representable (doubles
 *     in [2^53, 2^64) are spaced at most 2048 apart), unaligned, has the same PAGE_ALIGN, and is
 *     within 4 KiB of v, so all three answers are unchanged.
 * Values >= 2^64 cannot reach a syscall at all; we refuse them with EINVAL.
 */

export const U64_LIMIT = 1n << 64n;
const TWO_53 = 1n << 53n;
const PAGE = 4096n;

/**
 * Bad input found while converting a request (the error handler makes it a 400 with this errno).
 * Built without a stack trace: it is an answer, not a bug, and capturing the stack was most of
 * what a batch of 65,536 bad entries cost.
 */
export class UapiValueError extends Error {
  readonly code: 'EINVAL' | 'EOVERFLOW' | 'E2BIG';
  constructor(code: 'EINVAL' | 'EOVERFLOW' | 'E2BIG', message: string) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'UapiValueError';
    this.code = code;
  }
}

const HEX = /^0[xX][0-9a-fA-F]+$/;
const DEC = /^[0-9]+$/;
/**
 * Longest u64 string taken: 2^64 - 1 is 20 decimal digits, 0x + 16 hex digits; some room for
 * leading zeros. Bounded so that a megabyte of digits is refused before BigInt parses it
 * (quadratic in the digits: a 15-million-digit address stalled the event loop for seconds).
 */
export const U64_MAX_CHARS = 64;

/** Parses a `0x…` hex string, a decimal string, or a non-negative safe integer, exactly. */
export function parseU64(field: string, input: string | number): bigint {
  let v: bigint;
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) {
      throw new UapiValueError(
        'EINVAL',
        `${field}: ${input} is not a non-negative safe integer; send larger values as a "0x…" string`,
      );
    }
    v = BigInt(input);
  } else if (input.length > U64_MAX_CHARS) {
    throw new UapiValueError(
      'EINVAL',
      `${field}: ${input.length} characters is too long for a u64 (at most ${U64_MAX_CHARS})`,
    );
  } else if (HEX.test(input) || DEC.test(input)) {
    v = BigInt(input);
  } else {
    throw new UapiValueError(
      'EINVAL',
      `${field}: "${input}" is neither "0x…" hex nor a decimal integer`,
    );
  }
  if (v >= U64_LIMIT) {
    throw new UapiValueError('EINVAL', `${field}: ${input} does not fit in 64 bits`);
  }
  return v;
}

/** The engine number for a u64 (see the file comment for unaligned values >= 2^53). */
export function toEngineNumber(v: bigint): number {
  if (v < TWO_53 || v % PAGE === 0n) return Number(v);
  const aligned = (v + PAGE - 1n) & ~(PAGE - 1n);
  return Number((aligned - 2048n) % U64_LIMIT);
}

/** Value of a hex digit's char code, or -1. */
export function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  const l = c | 0x20; // a-f, A-F
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * The engine number of a string that is plainly below 2^53 — "0x" and at most 13 hex digits, or
 * at most 15 decimal digits — computed without BigInt (exact: every partial value stays below
 * 2^53); -1 for anything else (the exact path decides, and words its error).
 */
function smallU64(input: string): number {
  const n = input.length;
  let v = 0;
  if (n >= 3 && n <= 15 && input.charCodeAt(0) === 48 && (input.charCodeAt(1) | 0x20) === 120) {
    for (let i = 2; i < n; i++) {
      const d = hexDigit(input.charCodeAt(i));
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }
  if (n === 0 || n > 15) return -1;
  for (let i = 0; i < n; i++) {
    const d = input.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Parse + map in one step. Values below 2^53 (every user-space address) take a fast path with no
 * BigInt (the batch query parses one per address); the rest, and every error, go through
 * `parseU64`.
 */
export function engineU64(field: string, input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input >= 0) return input;
  } else {
    const v = smallU64(input);
    if (v >= 0) return v;
  }
  return toEngineNumber(parseU64(field, input));
}

/** `HEX_BYTE[b]`: byte b as two lowercase hex digits. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b.toString(16).padStart(2, '0'),
);

/** Lowercase `0x` hex, as every output address is. */
export function hex(n: number | bigint): string {
  // Number#toString(16) on a heap number costs ~224 ns (node-perf.md §5), and the low 32 bits of
  // half of all addresses are one (>= 2^31 is not a small integer on x64): addresses go out as
  // the high part (a small integer) and four table bytes (A/B in process: 240-260 -> 120-125 ns).
  if (typeof n === 'number' && n >= 2 ** 32 && n < 2 ** 53 && Number.isInteger(n)) {
    const hi = Math.floor(n / 2 ** 32);
    const lo = n - hi * 2 ** 32;
    return `0x${hi.toString(16)}${HEX_BYTE[lo >>> 24]}${HEX_BYTE[(lo >>> 16) & 255]}${HEX_BYTE[(lo >>> 8) & 255]}${HEX_BYTE[lo & 255]}`;
  }
  return `0x${n.toString(16)}`;
}
