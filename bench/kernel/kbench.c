/*
 * kbench: the host kernel's side of the engine benchmark (bench/engine/).
 *
 *   kbench N REPS [FILE]
 *   kbench pairs MS REPS VMAS READERS WRITERS      (reader/writer pairs: kbench-pairs.c)
 *
 * Builds an address space of about N VMAs in this process (2-page private mappings with
 * alternating PROT_READ|PROT_WRITE / PROT_READ so that neighbours never merge, as the kernel
 * selftest proc-maps-race does; with FILE, every other mapping maps FILE at offset 0 so that half
 * of the lines carry a path, as real processes' do), prints its /proc/self/maps text, then times, REPS times
 * each, and prints one JSON object:
 *   maps_ns_per_line     read(2) of the whole /proc/self/maps in 4 KiB reads, per line
 *   query_ns             PROCMAP_QUERY for a pseudo-random covered address (flags 0), per query
 *   mmap_munmap_ns       mmap(2 pages, hint inside a free gap) + munmap, per pair
 *   mprotect_ns          mprotect of one page in the middle of a VMA and back, per call
 * Each figure is the median over REPS batches. The maps text goes to stdout first, terminated by
 * a line "--END-MAPS--", so the caller can import the identical layout into the engine.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kbench.h"

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *maps_buf;
static size_t maps_cap = 64u << 20;

/* Reads the whole maps text with 4 KiB reads (as seq_file serves it); returns bytes, counts lines. */
static size_t read_maps(int fd, size_t *lines) {
  size_t len = 0;
  ssize_t n;
  lseek(fd, 0, SEEK_SET);
  while ((n = read(fd, maps_buf + len, 4096)) > 0) len += (size_t)n;
  if (lines) {
    size_t c = 0;
    for (size_t i = 0; i < len; i++) c += maps_buf[i] == '\n';
    *lines = c;
  }
  return len;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "pairs")) return pairs_main(argc, argv);
  long n = argc > 1 ? atol(argv[1]) : 1000;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  if (reps < 1 || reps > 64) reps = 5;
  maps_buf = malloc(maps_cap);
  uintptr_t *addrs = calloc((size_t)n, sizeof *addrs);
  if (!maps_buf || !addrs) return 1;

  /* The mappings: top-down placement packs them together below the libraries. */
  int file = argc > 3 ? open(argv[3], O_RDONLY) : -1;
  for (long i = 0; i < n; i++) {
    int prot = PROT_READ | (i % 2 ? 0 : PROT_WRITE);
    int use_file = file >= 0 && i % 2;
    void *p = mmap(NULL, 2 * PAGE, prot, MAP_PRIVATE | (use_file ? 0 : MAP_ANONYMOUS),
                   use_file ? file : -1, 0);
    if (p == MAP_FAILED) { n = i; break; }
    addrs[i] = (uintptr_t)p;
  }
  int fd = open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return 1;
  size_t lines = 0;
  size_t len = read_maps(fd, &lines);
  fwrite(maps_buf, 1, len, stdout);
  printf("--END-MAPS--\n");
  fflush(stdout);

  double maps_ns[64], query_ns[64], pair_ns[64], mprot_ns[64];
  int maps_iters = lines > 20000 ? 3 : lines > 2000 ? 20 : 200;
  int ops = 20000;
  uint64_t seed = 88172645463325252ull;
  for (int r = 0; r < reps; r++) {
    uint64_t t0 = now_ns();
    for (int k = 0; k < maps_iters; k++) read_maps(fd, NULL);
    maps_ns[r] = (double)(now_ns() - t0) / maps_iters / (double)lines;

    struct procmap_query q;
    t0 = now_ns();
    for (int k = 0; k < ops; k++) {
      seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
      memset(&q, 0, sizeof q);
      q.size = sizeof q;
      q.query_addr = addrs[seed % (uint64_t)n] + PAGE;
      if (ioctl(fd, PROCMAP_QUERY, &q) != 0) return 2;
    }
    query_ns[r] = (double)(now_ns() - t0) / ops;

    /* mmap+munmap of a 1-page anonymous mapping at a hint in the middle of the layout. */
    uintptr_t hint = addrs[n / 2] - 64 * PAGE;
    t0 = now_ns();
    for (int k = 0; k < ops; k++) {
      void *p = mmap((void *)hint, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return 3;
      munmap(p, PAGE);
    }
    pair_ns[r] = (double)(now_ns() - t0) / ops;

    /* mprotect splits a VMA in three, the next call re-merges it: two calls per iteration. */
    uintptr_t mid = addrs[n / 2];
    t0 = now_ns();
    for (int k = 0; k < ops; k++) {
      int w = (n / 2) % 2 ? 0 : PROT_WRITE;
      mprotect((void *)mid, PAGE, PROT_READ | (w ? 0 : PROT_WRITE));
      mprotect((void *)mid, PAGE, PROT_READ | w);
    }
    mprot_ns[r] = (double)(now_ns() - t0) / ops / 2;
  }
  printf("{\"vmas\":%zu,\"maps_ns_per_line\":%.1f,\"query_ns\":%.1f,\"mmap_munmap_ns\":%.1f,"
         "\"mprotect_ns\":%.1f}\n",
         lines, median(maps_ns, reps), median(query_ns, reps), median(pair_ns, reps),
         median(mprot_ns, reps));
  return 0;
}
