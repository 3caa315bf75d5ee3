/* procfs-oracle: touched memory. The `touch` op, the smaps/smaps_rollup/status blocks printed at
 * each checkpoint, and what keeps the helper's own page counts still while a checkpoint reads
 * them (test/differential/memory-compare.ts compares only the sandbox's share of them).
 *
 * - Files: every page is written and fsync'ed at start, so the whole file is in the page cache
 *   and clean (fault-around maps every page of its window; nothing shows as dirty because of
 *   writeback timing).
 * - The helper's own pages: before the header, every page of its rw mappings (data, bss with
 *   the static buffers, heap) is written with its own value, every other page of the binary read,
 *   and 128 KiB of stack touched, so later checkpoints fault nothing of the helper's. After a
 *   fork both sides write their rw pages again, and a child reads the binary's read-only file
 *   pages again (fork does not copy their page tables): prefault_after_fork().
 * - touch ADDR LEN W: one access per page, in order, as a program would: a store of 0 (W=1) or a
 *   load (W=0). SIGSEGV/SIGBUS end it with -EFAULT (14); otherwise the result is the number of
 *   page faults getrusage() counted (minor + major).
 */
#ifndef PROCFS_ORACLE_MEMORY_H
#define PROCFS_ORACLE_MEMORY_H

#include <ucontext.h>
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
/* Its rw mappings but [heap]: after start nothing of the helper's lives in the heap (glibc's
 * TLS does, but raw syscalls and touch_pages never use it), and a script's brk changes it. */
static u64 rw_start[MAX_RANGES], rw_end[MAX_RANGES];
static int nrw;

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
    int named_special = 0, file = 0, vdso = 0;
    for (size_t j = k; j < eol; j++) {
      if (maps_buf[j] == '[' && maps_buf[j + 1] != 'h') named_special = 1; /* not [heap] */
      if (maps_buf[j] == '[' && maps_buf[j + 1] == 'v' && maps_buf[j + 2] == 'd') vdso = 1;
      if (maps_buf[j] == '/') file = 1;
    }
    /* The vDSO is read too, so that its 2 MiB region (the one the script's top-down mappings
     * start in) surely has a page table, as the engine's start assumes for every region of the
     * helper's mappings ([vvar] shares it). */
    if (vdso) read_range(s, e);
    if (!named_special && perm[0] == 'r') {
      if (perm[1] == 'w') {
        for (u64 a = s; a < e; a += PAGE) *(volatile char *)a = *(volatile char *)a;
        int heap = 0;
        for (size_t j = k; j + 5 < eol; j++)
          if (maps_buf[j] == '[' && maps_buf[j + 1] == 'h') heap = 1;
        if (!heap && nrw < MAX_RANGES) rw_start[nrw] = s, rw_end[nrw++] = e;
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

/* After a fork, on both sides: in the child the binary's read-only pages again (fork copied no
 * page table for them); on both, every rw page but the heap's written (fork write-protected them:
 * copy-on-write broken, or the page reused once the child is gone, now rather than by a later
 * checkpoint's or touch's own stores and getrusage() results), so nothing later faults a page of
 * the helper's. Not the heap: writing the pages a script's brk added would give those VMAs an
 * anon_vma the script never asked for (and so change their merges). */
static void prefault_after_fork(void) {
  for (int i = 0; i < nro; i++) read_range(ro_start[i], ro_end[i]);
  for (int i = 0; i < nrw; i++) rewrite_range(rw_start[i], rw_end[i]);
  touch_stack();
}

/* The accesses of a touch, in assembly so that a fault in them can be resumed without glibc:
 * touch_pages(first, end, write) loads from (write = 0) or stores 0 to (write != 0) the first
 * byte of every page from `first` up to `end` and returns 0; a SIGSEGV/SIGBUS in it resumes at
 * touch_pages_fault, which returns 1. (Not sigsetjmp/siglongjmp: they read the thread pointer's
 * TLS, which a static binary keeps in its initial heap, and a script's brk may release that.) The
 * loop is a leaf that never moves %rsp, so the landing's `ret` returns to the caller. */
long touch_pages(u64 first, u64 end, u64 write);
extern const char touch_pages_fault[], touch_pages_end[];
__asm__(".text\n"
        ".globl touch_pages\n"
        ".type touch_pages, @function\n"
        "touch_pages:\n"
        "  cmp %rsi, %rdi\n"
        "  jae 3f\n"
        "1: test %rdx, %rdx\n"
        "  jz 2f\n"
        "  movb $0, (%rdi)\n"
        "  jmp 4f\n"
        "2: movb (%rdi), %al\n"
        "4: add $4096, %rdi\n"
        "  cmp %rsi, %rdi\n"
        "  jb 1b\n"
        "3: xor %eax, %eax\n"
        "  ret\n"
        ".globl touch_pages_fault\n"
        "touch_pages_fault:\n"
        "  mov $1, %eax\n"
        "  ret\n"
        ".globl touch_pages_end\n"
        "touch_pages_end:\n"
        ".size touch_pages, . - touch_pages\n");

#define GREG_RIP 16 /* REG_RIP of <sys/ucontext.h> (named only under _GNU_SOURCE) */

/* A fault signal inside touch_pages resumes at its landing; anywhere else it is a helper bug. */
static void on_touch_fault(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)info;
  ucontext_t *uc = ctx;
  u64 rip = (u64)uc->uc_mcontext.gregs[GREG_RIP];
  if (rip < (u64)touch_pages || rip >= (u64)touch_pages_fault) die("fault outside a touch");
  uc->uc_mcontext.gregs[GREG_RIP] = (long long)touch_pages_fault;
}

static void install_touch_handlers(void) {
  struct sigaction sa;
  for (size_t i = 0; i < sizeof sa; i++) ((char *)&sa)[i] = 0;
  sa.sa_sigaction = on_touch_fault;
  sa.sa_flags = SA_SIGINFO;
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
  long before = faults_now();
  if (touch_pages(first, addr + len, write) != 0) return -14; /* EFAULT */
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
