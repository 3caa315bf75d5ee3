/*
 * Host-kernel oracle for test/procfs/kernel-oracle.test.ts (compiled at test time with gcc).
 *
 * Sets up a small known layout in this process (a 3-page anonymous mapping with its middle page
 * unmapped, so there is a gap), then, without allocating anything else:
 *   1. reads its own /proc/self/maps in one go (the layout the engine imports),
 *   2. reads it again in read(fd, buf, N) chunks (N = 4096 = the seq_file buffer, and 8192) and
 *      records each chunk's size,
 *   3. runs PROCMAP_QUERY cases (errno order, short/long structs, filters, name buffers).
 * Output (stdout, one write at the end): the maps text, "--END-MAPS--", then lines
 *   chunks N s1 s2 ...
 *   case NAME ADDR FLAGS SIZE NAMESZ NAMEADDR BIDSZ BIDADDR TAILNZ -> ERRNO START END NAMEOUT BIDOUT NAME
 * (NAME is the returned vma name with '\n' as "\\n", or "-").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef PROCMAP_QUERY
struct procmap_query {
  uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size, vma_offset;
  uint64_t inode;
  uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
  uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#endif

static char maps[1 << 16];
static char out[1 << 17];
static size_t outlen;
static char chunk[1 << 16];
static char namebuf[8192];
static unsigned char bidbuf[64];
static unsigned char qbuf[256];

static void emit(const char *s, size_t n) {
  memcpy(out + outlen, s, n);
  outlen += n;
}

static void emitf(const char *fmt, unsigned long long a, unsigned long long b) {
  char tmp[128];
  int n = snprintf(tmp, sizeof tmp, fmt, a, b);
  emit(tmp, (size_t)n);
}

static void run_case(int fd, const char *name, uint64_t addr, uint64_t flags, uint64_t size,
                     uint32_t namesz, int nameaddr, uint32_t bidsz, int bidaddr, int tailnz) {
  struct procmap_query *q = (struct procmap_query *)qbuf;
  memset(qbuf, 0, sizeof qbuf);
  q->size = size;
  q->query_flags = flags;
  q->query_addr = addr;
  q->vma_name_size = namesz;
  q->vma_name_addr = nameaddr ? (uint64_t)(uintptr_t)namebuf : 0;
  q->build_id_size = bidsz;
  q->build_id_addr = bidaddr ? (uint64_t)(uintptr_t)bidbuf : 0;
  if (tailnz) qbuf[sizeof(struct procmap_query) + 2] = 1;
  memset(namebuf, 0, sizeof namebuf);
  int r = ioctl(fd, PROCMAP_QUERY, qbuf);
  int err = r < 0 ? errno : 0;
  char line[9000];
  int n = snprintf(line, sizeof line, "case %s %llx %llx %llu %u %d %u %d %d -> %d %llx %llx %u %u ",
                   name, (unsigned long long)addr, (unsigned long long)flags,
                   (unsigned long long)size, namesz, nameaddr, bidsz, bidaddr, tailnz, err,
                   (unsigned long long)(err ? 0 : q->vma_start),
                   (unsigned long long)(err ? 0 : q->vma_end), err ? 0 : q->vma_name_size,
                   err ? 0 : q->build_id_size);
  emit(line, (size_t)n);
  if (!err && q->vma_name_size > 0) {
    for (const char *p = namebuf; *p; p++) {
      if (*p == '\n') emit("\\n", 2);
      else emit(p, 1);
    }
  } else {
    emit("-", 1);
  }
  emit("\n", 1);
}

int main(void) {
  long page = 4096;
  char *a = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED || munmap(a + page, page) != 0) return 1;
  uint64_t anon = (uint64_t)(uintptr_t)a, gap = anon + page, after = anon + 2 * page;
  uint64_t exe = (uint64_t)(uintptr_t)&main;
  /* 241 one-page VMAs (alternating ---p / r--p) so the maps text spans several 4 KiB reads. */
  char *r = mmap(NULL, 241 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (r == MAP_FAILED) return 1;
  for (int i = 1; i < 241; i += 2)
    if (mprotect(r + i * page, page, PROT_READ) != 0) return 1;

  int fd = open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return 1;
  size_t len = 0;
  ssize_t n;
  while ((n = read(fd, maps + len, sizeof maps - len)) > 0) len += (size_t)n;
  emit(maps, len);
  emit("--END-MAPS--\n", 13);

  static const size_t sizes[] = {4096, 8192};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    emitf("chunks %llu%.0llu", sizes[i], 0);
    lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, chunk, sizes[i])) > 0) emitf(" %llu%.0llu", (unsigned long long)n, 0);
    emit("\n", 1);
  }

  uint64_t S = sizeof(struct procmap_query);
  run_case(fd, "e2big_size", anon, 0x40, 4097, 0, 0, 0, 0, 0);
  run_case(fd, "einval_small", anon, 0x40, 23, 0, 0, 0, 0, 0);
  run_case(fd, "ok_size24", anon, 0, 24, 100, 1, 0, 0, 0);
  run_case(fd, "e2big_tail", anon, 0x40, S + 8, 0, 0, 0, 0, 1);
  run_case(fd, "ok_tail_zero", anon, 0, S + 8, 0, 0, 0, 0, 0);
  run_case(fd, "einval_flags", anon, 0x40, S, 0, 0, 0, 0, 0);
  run_case(fd, "einval_name_noaddr", anon, 0, S, 10, 0, 0, 0, 0);
  run_case(fd, "einval_name_nosize", anon, 0, S, 0, 1, 0, 0, 0);
  run_case(fd, "einval_bid_noaddr", anon, 0, S, 0, 0, 20, 0, 0);
  run_case(fd, "einval_bid_nosize", anon, 0, S, 0, 0, 0, 1, 0);
  run_case(fd, "einval_size84", anon, 0, 84, 100, 1, 0, 0, 0);
  run_case(fd, "ok_size96_name", exe, 0, 96, 4096, 1, 0, 0, 0);
  run_case(fd, "covering", anon, 0, S, 0, 0, 0, 0, 0);
  run_case(fd, "enoent_gap", gap, 0, S, 0, 0, 0, 0, 0);
  run_case(fd, "next_from_gap", gap, 0x10, S, 0, 0, 0, 0, 0);
  run_case(fd, "enoent_exec_filter", after, 0x04, S, 0, 0, 0, 0, 0);
  run_case(fd, "exec_next", after, 0x14, S, 4096, 1, 0, 0, 0);
  run_case(fd, "file_next", after, 0x30, S, 4096, 1, 0, 0, 0);
  run_case(fd, "shared_next", 0, 0x18, S, 4096, 1, 0, 0, 0);
  run_case(fd, "rw_next", 0, 0x13, S, 4096, 1, 0, 0, 0);
  run_case(fd, "name_too_small", exe, 0, S, 5, 1, 0, 0, 0);
  {
    struct procmap_query q;
    memset(&q, 0, sizeof q);
    q.size = S;
    q.query_addr = exe;
    q.vma_name_size = sizeof namebuf;
    q.vma_name_addr = (uint64_t)(uintptr_t)namebuf;
    if (ioctl(fd, PROCMAP_QUERY, &q) != 0) return 1;
    run_case(fd, "name_exact", exe, 0, S, q.vma_name_size, 1, 0, 0, 0);
    run_case(fd, "name_exact_minus1", exe, 0, S, q.vma_name_size - 1, 1, 0, 0, 0);
  }
  run_case(fd, "anon_name_none", anon, 0, S, 100, 1, 0, 0, 0);
  run_case(fd, "anon_build_id", anon, 0, S, 0, 0, 20, 1, 0);
  run_case(fd, "vsyscall", 0xffffffffff600000ULL, 0x10, S, 0, 0, 0, 0, 0);
  run_case(fd, "top", 0x7ffffffff000ULL, 0x10, S, 0, 0, 0, 0, 0);
  run_case(fd, "stack_name", 0x7ffffffff000ULL - 1, 0, S, 0, 0, 0, 0, 0);
  if (write(1, out, outlen) != (ssize_t)outlen) return 1;
  return 0;
}
