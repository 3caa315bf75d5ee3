/* PROCMAP_QUERY on the helper's own /proc/self/maps fd: the checkpoint query list. Included once,
 * by procfs-oracle.c. test/differential/query-suite.ts mirrors this list: change both together. */
#ifndef PROCFS_ORACLE_QUERY_H
#define PROCFS_ORACLE_QUERY_H

#include "oracle-sys.h"

/* The fd of /proc/self/maps: read for the text, ioctl'd for the queries. */
static int maps_fd;

/* ---- PROCMAP_QUERY ----------------------------------------------------------------------- */

struct procmap_query { /* include/uapi/linux/fs.h (6.11+); Debian 12's headers predate it */
  uint64_t size, query_flags, query_addr;
  uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
  uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
  uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY 0xC0686611UL
#define Q_READ 0x01
#define Q_WRITE 0x02
#define Q_EXEC 0x04
#define Q_SHARED 0x08
#define Q_COVERING_OR_NEXT 0x10
#define Q_FILE_BACKED 0x20

/* Room for a bigger-than-known struct (the E2BIG / zero-tail cases). */
static union {
  struct procmap_query q;
  unsigned char raw[256];
} qbuf;
static char name_buf[4096];
static unsigned char build_id_buf[64];

static void clear_query(void) {
  for (size_t i = 0; i < sizeof qbuf.raw; i++) qbuf.raw[i] = 0;
  for (size_t i = 0; i < sizeof name_buf; i++) name_buf[i] = 0;
  for (size_t i = 0; i < sizeof build_id_buf; i++) build_id_buf[i] = 0;
}

/* "q LABEL ADDR FLAGS -ERRNO" or "q LABEL ADDR FLAGS ok START END VMAFLAGS PGSIZE OFFSET INODE
 * MAJOR MINOR BUILDIDSIZE BUILDIDHEX NAMESIZE NAME" (NAME last: it may contain spaces). */
static void print_query(const char *label, long r) {
  struct procmap_query *q = &qbuf.q;
  put_str("q ");
  put_str(label);
  put_char(' ');
  put_hex(q->query_addr);
  put_char(' ');
  put_hex(q->query_flags);
  put_char(' ');
  if (r < 0) {
    put_ret(r);
    put_char('\n');
    return;
  }
  put_str("ok ");
  put_hex(q->vma_start);
  put_char(' ');
  put_hex(q->vma_end);
  put_char(' ');
  put_hex(q->vma_flags);
  put_char(' ');
  put_hex(q->vma_page_size);
  put_char(' ');
  put_hex(q->vma_offset);
  put_char(' ');
  put_dec(q->inode);
  put_char(' ');
  put_dec(q->dev_major);
  put_char(' ');
  put_dec(q->dev_minor);
  put_char(' ');
  put_dec(q->build_id_size);
  put_char(' ');
  if (q->build_id_size == 0 || q->build_id_addr == 0) put_char('-');
  for (uint32_t i = 0; q->build_id_addr && i < q->build_id_size && i < sizeof build_id_buf; i++) {
    put_char("0123456789abcdef"[build_id_buf[i] >> 4]);
    put_char("0123456789abcdef"[build_id_buf[i] & 15]);
  }
  put_char(' ');
  put_dec(q->vma_name_size);
  put_char(' ');
  if (q->vma_name_size > 0 && q->vma_name_addr) put_str(name_buf);
  put_char('\n');
}

static long do_query(void) { return sys3(SYS_ioctl, maps_fd, PROCMAP_QUERY, &qbuf); }

/* A standard query: full struct, a name buffer, optionally a build-ID buffer. */
static long std_query(const char *label, u64 addr, u64 flags, int with_build_id) {
  clear_query();
  qbuf.q.size = sizeof(struct procmap_query);
  qbuf.q.query_addr = addr;
  qbuf.q.query_flags = flags;
  qbuf.q.vma_name_size = sizeof name_buf;
  qbuf.q.vma_name_addr = (u64)name_buf;
  if (with_build_id) {
    qbuf.q.build_id_size = sizeof build_id_buf;
    qbuf.q.build_id_addr = (u64)build_id_buf;
  }
  long r = do_query();
  print_query(label, r);
  return r;
}

/* Walk every VMA with COVERING_OR_NEXT (+ extra filter flags) until ENOENT. */
static void walk(const char *label, u64 extra_flags) {
  u64 addr = 0;
  for (int guard = 0; guard < 70000; guard++) {
    std_query(label, addr, Q_COVERING_OR_NEXT | extra_flags, 0);
    if (qbuf.q.vma_end == 0 || qbuf.q.vma_end <= addr) return; /* ENOENT (struct untouched) */
    addr = qbuf.q.vma_end;
  }
}

#define MAX_PROBES 64
#define ERROR_PROBES 3 /* the argument-check cases run on the first few probes only */
static u64 probes[MAX_PROBES];
static int nprobes;

static const u64 probe_flags[] = {
    0,
    Q_READ,
    Q_WRITE,
    Q_EXEC,
    Q_SHARED,
    Q_FILE_BACKED,
    Q_READ | Q_WRITE | Q_SHARED,
    Q_COVERING_OR_NEXT | Q_WRITE,
    Q_COVERING_OR_NEXT | Q_EXEC,
    Q_COVERING_OR_NEXT | Q_SHARED,
    Q_COVERING_OR_NEXT | Q_FILE_BACKED,
    Q_COVERING_OR_NEXT | Q_READ | Q_WRITE | Q_SHARED,
};

/* The kernel's argument checks, in its order (reference §2). Each on `addr`. */
static void error_queries(u64 addr) {
  /* size smaller than offsetofend(query_addr) */
  clear_query();
  qbuf.q.size = 23;
  qbuf.q.query_addr = addr;
  print_query("size23", do_query());
  clear_query();
  qbuf.q.size = 0;
  qbuf.q.query_addr = addr;
  print_query("size0", do_query());
  /* size exactly 24: accepted; only the first 24 bytes are copied back (outputs stay 0) */
  clear_query();
  qbuf.q.size = 24;
  qbuf.q.query_addr = addr;
  print_query("size24", do_query());
  /* size larger than PAGE_SIZE */
  clear_query();
  qbuf.q.size = 4097;
  qbuf.q.query_addr = addr;
  print_query("size4097", do_query());
  /* bigger than known, zero tail: accepted */
  clear_query();
  qbuf.q.size = 128;
  qbuf.q.query_addr = addr;
  print_query("size128", do_query());
  /* bigger than known, non-zero tail */
  clear_query();
  qbuf.q.size = 128;
  qbuf.q.query_addr = addr;
  qbuf.raw[120] = 1;
  print_query("size128dirty", do_query());
  /* unknown flag bit */
  clear_query();
  qbuf.q.size = sizeof(struct procmap_query);
  qbuf.q.query_addr = addr;
  qbuf.q.query_flags = 0x40;
  print_query("badflags", do_query());
  /* name size without address, address without size */
  clear_query();
  qbuf.q.size = sizeof(struct procmap_query);
  qbuf.q.query_addr = addr;
  qbuf.q.vma_name_size = 16;
  print_query("namesize-noaddr", do_query());
  clear_query();
  qbuf.q.size = sizeof(struct procmap_query);
  qbuf.q.query_addr = addr;
  qbuf.q.vma_name_addr = (u64)name_buf;
  print_query("nameaddr-nosize", do_query());
  clear_query();
  qbuf.q.size = sizeof(struct procmap_query);
  qbuf.q.query_addr = addr;
  qbuf.q.build_id_size = 20;
  print_query("bidsize-noaddr", do_query());
  /* name buffers of 1 byte and of exactly strlen(name) bytes: ENAMETOOLONG for named VMAs */
  clear_query();
  qbuf.q.size = sizeof(struct procmap_query);
  qbuf.q.query_addr = addr;
  qbuf.q.vma_name_size = 1;
  qbuf.q.vma_name_addr = (u64)name_buf;
  print_query("name1", do_query());
  /* a 1-byte build-ID buffer: ENAMETOOLONG when the file has a build ID, size 0 otherwise */
  clear_query();
  qbuf.q.size = sizeof(struct procmap_query);
  qbuf.q.query_addr = addr;
  qbuf.q.build_id_size = 1;
  qbuf.q.build_id_addr = (u64)build_id_buf;
  print_query("bid1", do_query());
  /* build ID with a big enough buffer */
  long found = std_query("bid64", addr, 0, 1);
  /* name buffers of exactly strlen(name) (no room for the NUL: ENAMETOOLONG) and strlen + 1 */
  uint32_t need = found == 0 ? qbuf.q.vma_name_size : 0;
  if (need > 1) {
    for (uint32_t size = need - 1; size <= need; size++) {
      clear_query();
      qbuf.q.size = sizeof(struct procmap_query);
      qbuf.q.query_addr = addr;
      qbuf.q.vma_name_size = size;
      qbuf.q.vma_name_addr = (u64)name_buf;
      print_query(size < need ? "name-nul-short" : "name-exact", do_query());
    }
  }
}

static void print_queries(void) {
  walk("walk", 0);
  walk("walk-file", Q_FILE_BACKED);
  walk("walk-rw", Q_READ | Q_WRITE);
  for (int i = 0; i < nprobes; i++) {
    for (size_t k = 0; k < sizeof probe_flags / sizeof probe_flags[0]; k++)
      std_query("probe", probes[i], probe_flags[k], 0);
  }
  error_queries(0x400000); /* the binary's first page: a file VMA with a build ID */
  for (int i = 0; i < nprobes && i < ERROR_PROBES; i++) error_queries(probes[i]);
}

#endif
