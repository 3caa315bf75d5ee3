/* Raw syscalls and the output buffer of procfs-oracle.c (included once, by it alone). */
#ifndef PROCFS_ORACLE_SYS_H
#define PROCFS_ORACLE_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

typedef unsigned long u64;

/* ---- raw syscalls ------------------------------------------------------------------------ */

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#define sys0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

static void die(const char *msg) __attribute__((noreturn));

/* ---- output: one static buffer, flushed with write(2) ------------------------------------ */

static char out[1 << 20];
static size_t out_len;

static void flush_out(void) {
  size_t off = 0;
  while (off < out_len) {
    long n = sys3(SYS_write, 1, out + off, out_len - off);
    if (n == -4 /* EINTR */) continue;
    if (n <= 0) sys1(SYS_exit_group, 3);
    off += (size_t)n;
  }
  out_len = 0;
}

static void put_bytes(const char *s, size_t n) {
  if (out_len + n > sizeof out) flush_out();
  while (n > sizeof out) { /* larger than the whole buffer: write through */
    for (size_t i = 0; i < sizeof out; i++) out[i] = s[i];
    out_len = sizeof out;
    flush_out();
    s += sizeof out;
    n -= sizeof out;
  }
  for (size_t i = 0; i < n; i++) out[out_len + i] = s[i];
  out_len += n;
}

static void put_str(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  put_bytes(s, n);
}

static void put_char(char c) { put_bytes(&c, 1); }

static void put_hex(u64 v) {
  char tmp[24];
  int i = 0;
  do {
    tmp[i++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  put_str("0x");
  while (i) put_char(tmp[--i]);
}

static void put_dec(u64 v) {
  char tmp[24];
  int i = 0;
  do {
    tmp[i++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (i) put_char(tmp[--i]);
}

/* A syscall result: -errno as "-N", anything else as hex. */
static void put_ret(long r) {
  if (r < 0 && r >= -4095) {
    put_char('-');
    put_dec((u64)-r);
  } else {
    put_hex((u64)r);
  }
}

static void die(const char *msg) {
  flush_out();
  put_str("fatal ");
  put_str(msg);
  put_char('\n');
  flush_out();
  sys1(SYS_exit_group, 2);
  __builtin_unreachable();
}

#endif
