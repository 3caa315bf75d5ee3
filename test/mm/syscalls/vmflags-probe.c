/*
 * vmflags-probe: the host kernel's side of test/mm/syscalls/kernel-vmflags.test.ts.
 *
 *   vmflags-probe FILE... < script
 *
 * Files are opened once, in order (even positions O_RDWR, odd O_RDONLY), so that mappings of
 * one file share one struct file and can merge. Each script line is an op whose numbers are
 * decimal or 0x-hex u64 values:
 *   mmap ADDR LEN PROT FLAGS FD OFF   (FD = file position, -1 for none)
 *   munmap ADDR LEN
 *   mprotect ADDR LEN PROT
 *   mremap OLD OLDLEN NEWLEN FLAGS NEWADDR
 *   dump
 * Each op prints "R <hex result>" or "R -<errno>"; dump prints "V start end perms offset path |
 * VmFlags" for every VMA inside [0x100000000000, 0x100001000000) from /proc/self/smaps, then "E".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static const unsigned long LO = 0x100000000000UL, HI = 0x100001000000UL;

static unsigned long rd(void) {
  char w[64];
  if (scanf("%63s", w) != 1) exit(2);
  return strtoull(w, 0, 0);
}

static void dump(void) {
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[512];
  int in = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long a, b, off, ino;
    char perms[8], dev[16], path[256] = "";
    int n = sscanf(line, "%lx-%lx %7s %lx %15s %lu %255s", &a, &b, perms, &off, dev, &ino, path);
    if (n >= 6 && strlen(perms) == 4) {
      in = a >= LO && b <= HI;
      if (in) printf("V %lx %lx %s %lx %s", a, b, perms, off, n == 7 ? path : "-");
    } else if (in && !strncmp(line, "VmFlags:", 8)) {
      line[strcspn(line, "\n")] = 0;
      printf(" |%s\n", line + 8);
    }
  }
  fclose(f);
  printf("E\n");
}

int main(int argc, char **argv) {
  int fds[16];
  for (int i = 1; i < argc && i <= 16; i++) fds[i - 1] = open(argv[i], (i - 1) % 2 ? O_RDONLY : O_RDWR);
  char op[32];
  while (scanf("%31s", op) == 1) {
    long r;
    if (!strcmp(op, "mmap")) {
      unsigned long a = rd(), b = rd(), c = rd(), d = rd();
      long fd;
      if (scanf("%ld", &fd) != 1) return 2;
      unsigned long e = rd();
      void *p = mmap((void *)a, b, c, d, fd < 0 ? -1 : fds[fd], e);
      r = p == MAP_FAILED ? -errno : (long)p;
    } else if (!strcmp(op, "munmap")) {
      unsigned long a = rd(), b = rd();
      r = munmap((void *)a, b) ? -errno : 0;
    } else if (!strcmp(op, "mprotect")) {
      unsigned long a = rd(), b = rd(), c = rd();
      r = mprotect((void *)a, b, c) ? -errno : 0;
    } else if (!strcmp(op, "mremap")) {
      unsigned long a = rd(), b = rd(), c = rd(), d = rd(), e = rd();
      r = syscall(SYS_mremap, a, b, c, d, e);
      if (r == -1) r = -errno;
    } else if (!strcmp(op, "dump")) {
      dump();
      continue;
    } else {
      fprintf(stderr, "bad op %s\n", op);
      return 1;
    }
    if (r < 0 && r > -4096) printf("R %ld\n", r);
    else printf("R %lx\n", r);
  }
  return 0;
}
