/*
 * procfs-oracle: runs a syscall script in a real process and prints what the host kernel answers.
 *
 * Built by test/oracle/oracle-binary.ts with `gcc -static -O2` (a static binary has no shared
 * libraries in the mmap area). Usage: procfs-oracle TMPDIR < script > transcript
 *
 * Determinism: the first run re-execs itself once with personality(ADDR_NO_RANDOMIZE),
 * RLIMIT_STACK = 8 MiB and a fixed one-variable environment, so the binary, heap,
 * [vvar]/[vvar_vclock]/[vdso] (right below mmap_base = 0x7ffff7fff000) and [stack] land at the
 * same addresses on every run.
 * After the header is printed the helper never allocates (no malloc, no stdio; static buffers and
 * raw syscalls only) and stays shallow on the stack, so its own layout changes only through the
 * script. Every syscall is issued with the raw `syscall` instruction so that glibc neither
 * interferes (no errno, no wrappers that validate arguments) nor runs atfork handlers.
 *
 * Script: one op per line, numbers in hex (0x...) or decimal, all unsigned 64-bit:
 *   mmap ADDR LEN PROT FLAGS FD OFF   FD: -1 (none), a file index 0..3, or 99 (a closed fd)
 *   munmap ADDR LEN
 *   mprotect ADDR LEN PROT
 *   mremap OLD OLDLEN NEWLEN FLAGS NEW
 *   brk ADDR
 *   anon ADDR LEN HEXNAME|-           prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, ...)
 *   fork                              the child prints its maps and exits
 *   forkchild                         the child carries on with the script, the parent waits
 *   unlink IDX                        unlink file IDX (its mappings print " (deleted)")
 *   probe ADDR                        add a PROCMAP_QUERY probe address (no output)
 *   touch ADDR LEN W                  access every page of the range (W=1: store, 0: load)
 *   madvise ADDR LEN ADVICE           madvise(2)
 *   check                             print maps text, 4096-byte read sizes, PROCMAP_QUERY answers,
 *                                     smaps_rollup, status and smaps (oracle-memory.h)
 * The header ends with the helper's VmPeak so far (`vm_peak KB`) and its maps.
 * The transcript format is documented in docs/differential.md; test/differential/transcript.ts
 * parses it and test/differential/engine-transcript.ts produces the same format from the engine.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oracle-sys.h"
#include "oracle-query.h"

/* ---- the test files ---------------------------------------------------------------------- */

#define NFILES 4
#define FILE_PAGES 16
#define BAD_FD_INDEX 99
static const int file_rdwr[NFILES] = {1, 1, 1, 0};
static char file_path[NFILES][512];
static int file_fd[NFILES];

struct kstat_min { /* x86-64 struct stat, only what we read */
  u64 st_dev, st_ino, st_nlink;
  unsigned st_mode, st_uid, st_gid, pad0;
  u64 st_rdev;
  long st_size, st_blksize, st_blocks;
  u64 rest[6];
};

static void make_path(int idx, const char *dir) {
  char *p = file_path[idx];
  size_t n = 0;
  while (dir[n] && n < 480) {
    p[n] = dir[n];
    n++;
  }
  p[n++] = '/';
  p[n++] = 'f';
  p[n++] = (char)('0' + idx);
  p[n] = 0;
}

static void create_files(const char *dir) {
  for (int i = 0; i < NFILES; i++) {
    make_path(i, dir);
    long fd = sys4(SYS_openat, AT_FDCWD, file_path[i], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("create file");
    if (sys2(SYS_ftruncate, fd, FILE_PAGES * 4096L) < 0) die("ftruncate");
    if (!file_rdwr[i]) {
      sys1(SYS_close, fd);
      fd = sys4(SYS_openat, AT_FDCWD, file_path[i], O_RDONLY | O_CLOEXEC, 0);
      if (fd < 0) die("reopen read-only");
    }
    file_fd[i] = (int)fd;
  }
}

static void print_files(void) {
  for (int i = 0; i < NFILES; i++) {
    struct kstat_min st;
    if (sys2(SYS_fstat, file_fd[i], &st) < 0) die("fstat");
    /* Linux's new_encode_dev split: major = bits 8..19, minor = bits 0..7 and 20..31. */
    u64 major = ((st.st_dev >> 8) & 0xfff) | ((st.st_dev >> 32) & ~0xfffUL);
    u64 minor = (st.st_dev & 0xff) | ((st.st_dev >> 12) & ~0xffUL);
    put_str("file ");
    put_dec((u64)i);
    put_char(' ');
    put_dec(major);
    put_char(' ');
    put_dec(minor);
    put_char(' ');
    put_dec(st.st_ino);
    put_str(file_rdwr[i] ? " rdwr " : " rdonly ");
    put_str(file_path[i]);
    put_char('\n');
  }
}

#include "oracle-proc-files.h"

#include "oracle-memory.h"

static void checkpoint(long op) {
  put_str("check ");
  put_dec((u64)op);
  put_char('\n');
  print_maps("maps");
  print_chunks();
  print_queries();
  print_memory();
  put_str("check-end\n");
}

#include "oracle-script-parse.h"

#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0

/* A child must open /proc/self/maps again: the inherited fd shows the parent's address space
 * ("self" was resolved when the parent opened it). */
static void reopen_maps(void) {
  long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) die("reopen maps");
  sys1(SYS_close, maps_fd);
  maps_fd = (int)fd;
}

static void print_ret_line(long op, long r) {
  put_str("r ");
  put_dec((u64)op);
  put_char(' ');
  put_ret(r);
  put_char('\n');
}

static void wait_child(long pid, int *status) {
  while (sys4(SYS_wait4, pid, status, 0, 0) == -4) {
  }
}

/* "forkchild": fork, and the child carries on with the rest of the script while the parent waits
 * for it and exits with its status (so merges in a fork child, whose anon_vmas have a parent,
 * are compared too). */
static void do_fork_continue(long op) {
  flush_out();
  long pid = sys0(SYS_fork);
  if (pid < 0) {
    print_ret_line(op, pid);
    return;
  }
  if (pid > 0) {
    int status = 0;
    wait_child(pid, &status);
    sys1(SYS_exit_group, (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f));
  }
  reopen_maps();
  prefault_after_fork();
  print_ret_line(op, 0); /* the pid is not comparable; 0 stands for "forked" */
}

static void do_fork(long op) {
  flush_out(); /* the parent's pending lines first, so the child's block follows them */
  long pid = sys0(SYS_fork);
  if (pid == 0) {
    /* child: its maps right after fork, then leave without running anything of the parent's */
    reopen_maps();
    out_len = 0;
    put_str("fork-child ");
    put_dec((u64)op);
    put_char('\n');
    print_maps("forkmaps");
    flush_out();
    sys1(SYS_exit_group, 0);
  }
  if (pid < 0) {
    print_ret_line(op, pid);
    return;
  }
  int status = 0;
  wait_child(pid, &status);
  prefault_after_fork();
  print_ret_line(op, 0); /* the pid is not comparable; 0 stands for "forked" */
}

static void run_script(void) {
  long op = 0;
  for (pos = 0; pos < script_len; op++) {
    skip_spaces();
    if (pos < script_len && script[pos] == '\n') { /* blank line: not an op */
      pos++;
      op--;
      continue;
    }
    long r;
    int print = 1;
    if (word_is("mmap")) {
      u64 a = num(), l = num(), p = num(), f = num(), fd = num(), off = num();
      r = sys6(SYS_mmap, (long)a, (long)l, (long)p, (long)f, file_fd_for(fd), (long)off);
    } else if (word_is("munmap")) {
      u64 a = num(), l = num();
      r = sys2(SYS_munmap, a, l);
    } else if (word_is("mprotect")) {
      u64 a = num(), l = num(), p = num();
      r = sys3(SYS_mprotect, a, l, p);
    } else if (word_is("mremap")) {
      u64 a = num(), ol = num(), nl = num(), f = num(), na = num();
      r = sys5(SYS_mremap, a, ol, nl, f, na);
    } else if (word_is("brk")) {
      u64 a = num();
      r = sys1(SYS_brk, a);
    } else if (word_is("anon")) {
      u64 a = num(), l = num();
      const char *name = hex_name();
      r = sys5(SYS_prctl, PR_SET_VMA, PR_SET_VMA_ANON_NAME, a, l, name);
    } else if (word_is("touch")) {
      u64 a = num(), l = num(), w = num();
      r = do_touch(a, l, w);
    } else if (word_is("madvise")) {
      u64 a = num(), l = num(), adv = num();
      r = sys3(SYS_madvise, a, l, adv);
    } else if (word_is("unlink")) {
      u64 idx = num();
      if (idx >= NFILES) die("bad file index");
      r = sys3(SYS_unlinkat, AT_FDCWD, file_path[idx], 0);
    } else if (word_is("fork")) {
      do_fork(op);
      print = 0;
    } else if (word_is("forkchild")) {
      do_fork_continue(op);
      print = 0;
    } else if (word_is("probe")) {
      if (nprobes == MAX_PROBES) die("too many probes");
      probes[nprobes++] = num();
      print = 0;
    } else if (word_is("check")) {
      checkpoint(op);
      print = 0;
    } else {
      die("unknown op");
    }
    if (!at_eol()) die("trailing text after op");
    if (pos < script_len) pos++;
    if (print) {
      put_str("r ");
      put_dec((u64)op);
      put_char(' ');
      put_ret(r);
      put_char('\n');
    }
  }
  put_str("done ");
  put_dec((u64)op);
  put_char('\n');
}

/* ---- start ------------------------------------------------------------------------------- */

#define REEXEC_MARK "--deterministic"

int main(int argc, char **argv) {
  if (argc == 2) {
    /* First run: fix the layout, then become ourselves again. The personality and the stack
     * rlimit are inherited across execve; the fixed environment keeps [stack] the same size. */
    /* Docker's default seccomp profile refuses this personality (EPERM): run such containers
     * with a profile that allows it (or seccomp=unconfined). */
    if (sys1(SYS_personality, ADDR_NO_RANDOMIZE) < 0)
      die("personality(ADDR_NO_RANDOMIZE) refused (a seccomp profile?): the layout cannot be fixed");
    struct rlimit rl = {8UL << 20, 8UL << 20};
    struct rlimit old;
    if (sys2(SYS_getrlimit, RLIMIT_STACK, &old) == 0 && old.rlim_max != RLIM_INFINITY &&
        old.rlim_max < rl.rlim_max)
      die("hard RLIMIT_STACK below 8 MiB");
    if (sys2(SYS_getrlimit, RLIMIT_STACK, &old) == 0) rl.rlim_max = old.rlim_max;
    if (sys2(SYS_setrlimit, RLIMIT_STACK, &rl) < 0) die("setrlimit");
    char *args[] = {argv[0], argv[1], (char *)REEXEC_MARK, NULL};
    /* glibc registers an rseq area in the TLS, which lives in the initial heap; once a script's
     * brk releases that memory the kernel's rseq update would kill us with SIGSEGV. */
    char *envp[] = {(char *)"GLIBC_TUNABLES=glibc.pthread.rseq=0", NULL};
    sys3(SYS_execve, "/proc/self/exe", args, envp);
    die("re-exec");
  }
  if (argc != 3) die("usage: procfs-oracle TMPDIR");

  long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) die("open maps");
  maps_fd = (int)fd;
  create_files(argv[1]);
  fill_files();
  install_touch_handlers();

  /* CONFIG_ANON_VMA_NAME: an empty range succeeds with it and is EINVAL without it. */
  long anon = sys5(SYS_prctl, PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0, 0, "x");
  /* Protection keys (x86 PKU enabled by the kernel, OSPKE): pkey_alloc answers a key >= 1 with
   * them, ENOSPC without (only key 0 exists), ENOSYS on a kernel built without them. The key is
   * freed at once; execute-only mappings later take the lowest free key as they would have. */
  long pkey = sys2(SYS_pkey_alloc, 0, 0);
  if (pkey > 0) sys1(SYS_pkey_free, pkey);
  int zero_page = probe_zero_page();
  prefault_self();
  put_str("oracle 1\n");
  put_str(anon == 0 ? "anon_vma_name 1\n" : "anon_vma_name 0\n");
  put_str("pkey_alloc ");
  put_ret(pkey);
  put_char('\n');
  put_str(zero_page ? "zero_page 1\n" : "zero_page 0\n");
  print_stat();
  print_max_map_count();
  print_anon_vmas();
  print_files();
  print_vm_peak();
  print_maps("maps");
  std_query("self", 0x400000, 0, 1); /* the binary's build ID, for the engine's file table */
  flush_out();

  /* The script, whole, before anything runs (reading never changes the layout). */
  for (;;) {
    if (script_len == sizeof script) die("script too long");
    long n = sys3(SYS_read, 0, script + script_len, sizeof script - script_len);
    if (n == -4) continue;
    if (n < 0) die("read script");
    if (n == 0) break;
    script_len += (size_t)n;
  }
  run_script();
  flush_out();
  /* Not `return`: glibc's exit path reads TLS, which lives in the initial heap that a script's
   * brk may have released. */
  sys1(SYS_exit_group, 0);
  return 0;
}
