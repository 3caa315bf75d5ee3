/**
 * Unsigned 64-bit arithmetic on JS numbers, for syscall arguments (`unsigned long`).
 *
 * Callers may pass any u64 a double holds exactly: every value below 2^53, and every multiple of
 * 4096 below 2^64 (those have at most 52 significant bits), e.g. the overflow probes 2^64 - 4096
 * and 2^63. For such inputs the helpers below give the kernel's results bit for bit, including
 * wrap-around at 2^64, because the sums they form are multiples of 4096 below 2^65 (exact) or
 * below 2^53 (exact).
 */
import { PAGE_SIZE } from '../vm-flags.js';

export const TWO_64 = 2 ** 64;

/** a + b modulo 2^64. */
export function add64(a: number, b: number): number {
  const s = a + b;
  return s >= TWO_64 ? s - TWO_64 : s;
}

/** a - b modulo 2^64. */
export function sub64(a: number, b: number): number {
  const d = a - b;
  return d < 0 ? d + TWO_64 : d;
}

/** PAGE_ALIGN(x) = (x + PAGE_SIZE - 1) & PAGE_MASK, modulo 2^64 (a length near 2^64 wraps to 0). */
export function pageAlign64(x: number): number {
  const r = x % PAGE_SIZE;
  if (r === 0) return x;
  const up = x - r + PAGE_SIZE;
  return up >= TWO_64 ? up - TWO_64 : up;
}

/** offset_in_page(x) !== 0. */
export function offsetInPage(x: number): boolean {
  return x % PAGE_SIZE !== 0;
}
