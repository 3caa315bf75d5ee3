/**
 * u64 values at the HTTP boundary. API.md: addresses, lengths and offsets arrive as `0x…` hex
 * strings, decimal strings or safe JSON integers, and real ones (`ffffffffff600000`) exceed 2^53.
 * We parse them exactly with BigInt, then hand the engine a `number` (docs/ARCHITECTURE.md:
 * "Numbers and units inside the engine").
 *
 * How values that do not fit a number are mapped (`toEngineNumber`): every syscall we simulate
 * treats a value above TASK_SIZE (2^47 - 4096) only through "is it above TASK_SIZE" and its page
 * offset (alignment checks, PAGE_ALIGN, `len > TASK_SIZE - addr`). So any value >= 2^52 becomes
 * 2^52 plus its low 12 bits: still above TASK_SIZE, same page offset, still exact, and far enough
 * below 2^53 that engine arithmetic such as `addr + len` stays exact. Known difference: lengths
 * within 4095 of 2^64, which the kernel's PAGE_ALIGN wraps to 0 (e.g. mprotect then says ENOMEM
 * via `end <= start`, and so does the engine via "no VMA"; madvise-style anon_name says EINVAL,
 * the engine ENOMEM). File offsets are the exception: maps prints them, so they must be exact
 * and one >= 2^53 is refused with EOVERFLOW (`toFileOffset`).
 * Values >= 2^64 cannot reach a syscall at all; we refuse them with EINVAL.
 */

export const U64_LIMIT = 1n << 64n;
const CLAMP_BASE = 2 ** 52;
const CLAMP_BASE_BIG = 1n << 52n;

/** Thrown for a value that is not a u64 (the error handler turns it into 400 EINVAL/EOVERFLOW). */
export class UapiValueError extends Error {
  readonly code: 'EINVAL' | 'EOVERFLOW';
  constructor(code: 'EINVAL' | 'EOVERFLOW', message: string) {
    super(message);
    this.name = 'UapiValueError';
    this.code = code;
  }
}

const HEX = /^0[xX][0-9a-fA-F]+$/;
const DEC = /^[0-9]+$/;

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

/** The engine number for a u64 (see the file comment for values >= 2^52). */
export function toEngineNumber(v: bigint): number {
  if (v < CLAMP_BASE_BIG) return Number(v);
  return CLAMP_BASE + Number(v & 0xfffn);
}

/** Parse + map in one step, for address and length fields. */
export function engineU64(field: string, input: string | number): number {
  return toEngineNumber(parseU64(field, input));
}

/** A file offset must be exact (maps prints it); offsets >= 2^53 are refused with EOVERFLOW. */
export function toFileOffset(field: string, input: string | number): number {
  const v = parseU64(field, input);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new UapiValueError('EOVERFLOW', `${field}: offsets above 2^53 are not supported`);
  }
  return Number(v);
}

/** Lowercase `0x` hex, as every output address is. */
export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}
