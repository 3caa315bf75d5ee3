/* procfs-oracle: touched memory. The `touch` op, the smaps/smaps_rollup/status blocks printed at
 * each checkpoint, and what keeps the helper's own page counts still while a checkpoint reads
 * them (test/differential/memory-compare.ts compares only the sandbox's share of them).
 *
 * - Files: every page is written and fsync'ed at start, so the whole file is in the page cache
 *   and clean (fault-around maps every page of its window; nothing shows as dirty because of
 *   writeback timing).
 * - The helper's own pages: before the header, every page of its rw mappings (data, bss with
 *   the static buffers, heap) is written with its own value, every other page of the binary read,
 *   and 128 KiB of stack touched, so later checkpoints fault nothing of the helper's. A fork
 *   child reads the binary's read-only file pages again (fork does not copy their page tables).
 * - touch ADDR LEN W: one access per page, in order, as a program would: a store of 0 (W=1) or a
 *   load (W=0). SIGSEGV/SIGBUS end it with -EFAULT (14); otherwise the result is the number of
 *   page faults getrusage() counted (minor + major).
 */
#ifndef PROCFS_ORACLE_MEMORY_H
#define PROCFS_ORACLE_MEMORY_H

#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>

#define PAGE 4096UL

static void fill_files(void) {
  static char page[PAGE];
  for (int i = 0; i < NFILES; i++) {
    long fd = sys4(SYS_openat, AT_FDCWD, file_path[i], O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) die("open file to fill");
    for (long p = 0; p < FILE_PAGES; p++) {
      page[0] = (char)(p + 1);
      if (sys4(SYS_pwrite64, fd, page, PAGE, p * (long)PAGE) != (long)PAGE) die("fill file");
    }
    if (sys1(SYS_fsync, fd) < 0) die("fsync");
    sys1(SYS_close, fd);
  }
}

/* The binary's read-only file mappings (their page tables are not copied by fork). */
#define MAX_RANGES 16
static u64 ro_start[MAX_RANGES], ro_end[MAX_RANGES];
static int nro;
/* Its rw mappings but [heap] (the script's brk may release heap pages: the heap is redone from
 * brk(0) in a child). */
static u64 rw_start[MAX_RANGES], rw_end[MAX_RANGES];
static int nrw;
static u64 heap_start;

static u64 hex_at(const char *b, size_t *i, size_t end) {
  u64 v = 0;
  int d;
  while (*i < end && (d = hexval_c(b[*i])) >= 0) v = v * 16 + (u64)d, (*i)++;
  return v;
}

static void read_range(u64 s, u64 e) {
  for (u64 a = s; a < e; a += PAGE) (void)*(volatile const char *)a;
}

__attribute__((noinline)) static void touch_stack(void) {
  volatile char deep[128 << 10];
  for (size_t i = 0; i < sizeof deep; i += PAGE) deep[i] = 0;
}

/* Faults in everything of the helper's that a later checkpoint could touch (see above). */
static void prefault_self(void) {
  size_t len = read_whole(maps_fd, maps_buf, sizeof maps_buf);
  for (size_t i = 0; i < len;) {
    size_t eol = i;
    while (eol < len && maps_buf[eol] != '\n') eol++;
    size_t k = i;
    u64 s = hex_at(maps_buf, &k, eol);
    k++;
    u64 e = hex_at(maps_buf, &k, eol);
    const char *perm = maps_buf + k + 1;
    int named_special = 0, file = 0;
    for (size_t j = k; j < eol; j++) {
      if (maps_buf[j] == '[' && maps_buf[j + 1] != 'h') named_special = 1; /* not [heap] */
      if (maps_buf[j] == '/') file = 1;
    }
    if (!named_special && perm[0] == 'r') {
      if (perm[1] == 'w') {
        for (u64 a = s; a < e; a += PAGE) *(volatile char *)a = *(volatile char *)a;
        int heap = 0;
        for (size_t j = k; j + 5 < eol; j++)
          if (maps_buf[j] == '[' && maps_buf[j + 1] == 'h') heap = 1;
        if (heap) heap_start = s;
        else if (nrw < MAX_RANGES) rw_start[nrw] = s, rw_end[nrw++] = e;
      } else {
        read_range(s, e);
        if (file && nro < MAX_RANGES) ro_start[nro] = s, ro_end[nro++] = e;
      }
    }
    i = eol + 1;
  }
  /* The static buffers above are in the bss: written once here, whole. */
  for (size_t i = 0; i < sizeof maps_buf; i += PAGE) maps_buf[i] = 0;
  touch_stack();
}

static void rewrite_range(u64 s, u64 e) {
  for (u64 a = s; a < e; a += PAGE) *(volatile char *)a = *(volatile char *)a;
}

/* In a fork child: the binary's read-only pages again (fork copied no page table for them), and
 * every rw page written (copy-on-write broken now rather than by the checkpoint's own writes),
 * so the child's checkpoint changes none of the helper's counts. */
static void prefault_child(void) {
  for (int i = 0; i < nro; i++) read_range(ro_start[i], ro_end[i]);
  for (int i = 0; i < nrw; i++) rewrite_range(rw_start[i], rw_end[i]);
  if (heap_start != 0) rewrite_range(heap_start, ((u64)sys1(SYS_brk, 0) + PAGE - 1) & ~(PAGE - 1));
  touch_stack();
}

static sigjmp_buf touch_env;

static void on_touch_fault(int sig) { siglongjmp(touch_env, sig); }

static void install_touch_handlers(void) {
  struct sigaction sa;
  for (size_t i = 0; i < sizeof sa; i++) ((char *)&sa)[i] = 0;
  sa.sa_handler = on_touch_fault;
  if (sigaction(SIGSEGV, &sa, 0) < 0 || sigaction(SIGBUS, &sa, 0) < 0) die("sigaction");
}

static long faults_now(void) {
  struct rusage ru;
  if (sys2(SYS_getrusage, RUSAGE_SELF, &ru) < 0) die("getrusage");
  return ru.ru_minflt + ru.ru_majflt;
}

static long do_touch(u64 addr, u64 len, u64 write) {
  if (len == 0) return 0;
  u64 first = addr & ~(PAGE - 1);
  u64 end = addr + len;
  long before = faults_now();
  if (sigsetjmp(touch_env, 1) != 0) return -14; /* EFAULT */
  for (u64 a = first; a < end; a += PAGE) {
    if (write)
      *(volatile char *)a = 0;
    else
      (void)*(volatile const char *)a;
  }
  return faults_now() - before;
}

static void print_proc_file(const char *path, const char *tag) {
  long fd = sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) die("open /proc/self file");
  size_t len = read_whole((int)fd, maps_buf, sizeof maps_buf);
  sys1(SYS_close, fd);
  put_str(tag);
  put_str("-begin\n");
  put_bytes(maps_buf, len);
  put_str(tag);
  put_str("-end\n");
}

/* The rollup first, then status, then smaps: no fault of the helper's in between. */
static void print_memory(void) {
  print_proc_file("/proc/self/smaps_rollup", "rollup");
  print_proc_file("/proc/self/status", "status");
  print_proc_file("/proc/self/smaps", "smaps");
}

#endif
