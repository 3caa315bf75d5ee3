/*
 * kbench pairs: the host kernel's twin of `npm run report` (bench/workloads/definitions.ts).
 *
 *   kbench pairs MS REPS VMAS READERS WRITERS
 *
 * READERS and WRITERS are comma-separated workload names. In this process it builds about VMAS
 * VMAs (2-page anonymous mappings of alternating protection, plus 16 mappings of its own binary
 * with PROT_READ|PROT_EXEC: "text" VMAs; a symbolizer's targets are every file-backed r-x VMA),
 * then for REPS repetitions runs MS-millisecond windows on real threads (pthreads), started and
 * stopped together, and prints one JSON line per window:
 *   {"kind":"reader_alone"|"writer_alone"|"pair","reader":R,"writer":W,"hot":0|1,"rep":N,
 *    "r":{"ops":..,"seconds":..,"p99_ns":..,"sleeps":..},"w":{...}}
 * ("sleeps": the thread's voluntary context switches in the window, getrusage(RUSAGE_THREAD):
 * how often it went to sleep, e.g. on the mmap lock after a failed per-VMA lock.)
 * Readers: query_point / query_point_name (PROCMAP_QUERY at a random text address, flags 0,
 * without / with the name), query_batch (3,244 sorted addresses of 464 distinct, one ioctl each),
 * query_walk (COVERING_OR_NEXT_VMA from 0 with names), maps (/proc/self/maps in 4 KiB reads).
 * Writers: cold (mmap+munmap of one page in an empty 128 MiB range), hot (mprotect flip of the
 * text VMA the point readers then query), names (prctl anon-name churn on 16 named VMAs), close
 * (a page mapped, named and unmapped: its name freed; the simulator also moves [vdso], which a
 * threaded host process cannot do safely: its clock_gettime runs from it).
 * Lines {"unsupported":NAME,"why":TEXT} name what this host cannot run (PROCMAP_QUERY before
 * Linux 6.11, anon names without CONFIG_ANON_VMA_NAME); those windows are skipped.
 * After each writer_alone window, a "writer_beside_sibling" window runs the writer beside a
 * sibling thread doing private arithmetic (reader "sibling", r: its loop count): what any other
 * running thread of the process costs the writer, reader or not (a munmap must flush the TLB of
 * every CPU running the process), and what the writer's flushes cost that thread; a
 * "sibling_alone" window per repetition (writer "none") is the sibling's own rate. Every line carries "tlb": the host's TLB shootdown interrupts
 * during the window (all CPUs, /proc/interrupts; -1 where the host does not count them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kbench.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define COVERING_OR_NEXT 0x10
#define BATCH 3244
#define DISTINCT 464
#define NAMED 16
#define TEXT_MAPS 16
#define COLD_BYTES (128UL << 20)
#define MAX_SAMPLES (1u << 20)
#define MAX_TEXT 4096

static int maps_fd;
static uintptr_t text_s[MAX_TEXT], text_e[MAX_TEXT];
static int ntext;
static uintptr_t hot_s, hot_e, cold_start, named_start, close_page;
static uintptr_t batch[BATCH];
static atomic_int go, stop_flag, ready;

/* One thread's window: ops, time, per-op p99, and how often it went to sleep (its voluntary
 * context switches: a wait for the mmap lock, for a VMA's readers to leave, ...). */
struct win { uint64_t ops; double seconds; double p99_ns; long sleeps; };

/* This thread's voluntary context switches so far. */
static long sleeps_so_far(void) {
  struct rusage ru;
  return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : 0;
}

static uint64_t xs(uint64_t *x) { *x ^= *x << 13; *x ^= *x >> 7; *x ^= *x << 17; return *x; }

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}
static int cmp_uptr(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

static int query(uintptr_t addr, uint64_t flags, int name, char *buf) {
  struct procmap_query q;
  memset(&q, 0, sizeof q);
  q.size = sizeof q;
  q.query_flags = flags;
  q.query_addr = addr;
  if (name) { q.vma_name_size = 4096; q.vma_name_addr = (uintptr_t)buf; }
  if (ioctl(maps_fd, PROCMAP_QUERY, &q) != 0) return -errno;
  return q.vma_end > addr ? 0 : -1;
}

static uintptr_t text_addr(uint64_t *x, int hot) {
  if (hot) return hot_s + xs(x) % (hot_e - hot_s);
  int i = (int)(xs(x) % (uint64_t)ntext);
  return text_s[i] + xs(x) % (text_e[i] - text_s[i]);
}

struct job { const char *role; int hot; uint32_t *lat; struct win out; };

/* One op of a reader; returns 0, or non-zero on a failed call (the window reports it). */
static int reader_op(const char *r, int hot, uint64_t *x, char *buf, int fd) {
  if (!strcmp(r, "maps")) {
    lseek(fd, 0, SEEK_SET);
    while (read(fd, buf, 4096) > 0) {}
    return 0;
  }
  if (!strcmp(r, "query_point")) return query(text_addr(x, hot), 0, 0, buf);
  if (!strcmp(r, "query_point_name")) return query(text_addr(x, hot), 0, 1, buf);
  if (!strcmp(r, "query_batch")) {
    for (int i = 0; i < BATCH; i++) if (query(batch[i], 0, 0, buf)) return -1;
    return 0;
  }
  /* query_walk */
  struct procmap_query q;
  for (uint64_t addr = 0;;) {
    memset(&q, 0, sizeof q);
    q.size = sizeof q;
    q.query_flags = COVERING_OR_NEXT;
    q.query_addr = addr;
    q.vma_name_size = 4096;
    q.vma_name_addr = (uintptr_t)buf;
    if (ioctl(maps_fd, PROCMAP_QUERY, &q) != 0) return errno == ENOENT ? 0 : -1;
    addr = q.vma_end;
  }
}

static const char *NAMES[2] = {"churn-a", "churn-bbbbbbbbbbbbbbbbbbbbbbbb"};

static int writer_op(const char *w, uint64_t step, uint64_t *x) {
  static uintptr_t page;
  if (!strcmp(w, "cold")) {
    if (step % 2 == 0) {
      page = cold_start + (xs(x) % (COLD_BYTES / PAGE)) * PAGE;
      void *p = mmap((void *)page, PAGE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
      return p == (void *)page ? 0 : -1;
    }
    return munmap((void *)page, PAGE);
  }
  if (!strcmp(w, "hot"))
    return mprotect((void *)hot_s, hot_e - hot_s, step % 2 ? PROT_READ : PROT_READ | PROT_EXEC);
  if (!strcmp(w, "names"))
    return prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, named_start, NAMED * PAGE, NAMES[step % 2]);
  /* close */
  switch (step % 3) {
  case 0: {
    void *p = mmap((void *)close_page, PAGE, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    return p == (void *)close_page ? 0 : -1;
  }
  case 1: return prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, close_page, PAGE, NAMES[0]);
  default: return munmap((void *)close_page, PAGE);
  }
}

static int cycle(const char *w) { return !strcmp(w, "close") ? 3 : 2; }

/* The host's TLB shootdown interrupts so far, all CPUs (x86's "TLB:" line); -1 if not counted. */
static long long tlb_shootdowns(void) {
  FILE *f = fopen("/proc/interrupts", "r");
  char line[8192];
  long long sum = -1;
  while (f && fgets(line, sizeof line, f)) {
    char *p = line;
    while (*p == ' ') p++;
    if (strncmp(p, "TLB:", 4)) continue;
    sum = 0;
    for (p += 4;;) {
      char *end;
      long long v = strtoll(p, &end, 10);
      if (end == p) break;
      sum += v;
      p = end;
    }
  }
  if (f) fclose(f);
  return sum;
}

static double p99(uint32_t *lat, uint64_t n) {
  if (n == 0) return 0;
  if (n > MAX_SAMPLES) n = MAX_SAMPLES;
  qsort(lat, n, sizeof *lat, cmp_u32);
  return lat[(uint64_t)(0.99 * (double)n) < n ? (uint64_t)(0.99 * (double)n) : n - 1];
}

/* Where the sibling leaves its last value, so that its arithmetic is not optimised away. */
static volatile uint64_t sibling_sink;

/* The sibling: private arithmetic until the window stops (ops: batches of 1,024 steps). */
static void *sibling_main(struct job *j) {
  uint64_t x = 0x9E3779B97F4A7C15ull, ops = 0;
  atomic_fetch_add(&ready, 1);
  while (!atomic_load(&go)) {}
  long s0 = sleeps_so_far();
  uint64_t t0 = now_ns();
  while (!atomic_load(&stop_flag)) {
    for (int i = 0; i < 1024; i++) xs(&x);
    ops++;
  }
  sibling_sink = x;
  j->out.ops = ops;
  j->out.seconds = (double)(now_ns() - t0) / 1e9;
  j->out.p99_ns = 0;
  j->out.sleeps = sleeps_so_far() - s0;
  return NULL;
}

static void *thread_main(void *arg) {
  struct job *j = arg;
  if (!strncmp(j->role, "s:", 2)) return sibling_main(j);
  int is_writer = !strncmp(j->role, "w:", 2);
  const char *name = j->role + 2;
  char *buf = malloc(8192);
  int fd = open("/proc/self/maps", O_RDONLY);
  uint64_t x = 0x9E3779B97F4A7C15ull ^ (uintptr_t)j, ops = 0, fails = 0;
  if (!buf || fd < 0) abort();
  /* Warm-up: a whole number of writer cycles (2 and 3), so the layout is as built. */
  for (int i = 0; i < (is_writer ? 1998 : 20); i++)
    fails += is_writer ? writer_op(name, ops++, &x) != 0 : reader_op(name, j->hot, &x, buf, fd) != 0;
  ops = 0;
  atomic_fetch_add(&ready, 1);
  while (!atomic_load(&go)) {}
  long s0 = sleeps_so_far();
  uint64_t t0 = now_ns(), t = t0;
  while (!atomic_load(&stop_flag) || ops == 0) { /* at least one op, even if descheduled */
    fails += is_writer ? writer_op(name, ops, &x) != 0 : reader_op(name, j->hot, &x, buf, fd) != 0;
    uint64_t t1 = now_ns();
    if (ops < MAX_SAMPLES) j->lat[ops] = (uint32_t)(t1 - t > UINT32_MAX ? UINT32_MAX : t1 - t);
    t = t1;
    ops++;
  }
  j->out.sleeps = sleeps_so_far() - s0;
  if (is_writer) while (ops % (uint64_t)cycle(name)) fails += writer_op(name, ops++, &x) != 0;
  if (fails) { fprintf(stderr, "kbench pairs: %s failed %llu times\n", j->role, (unsigned long long)fails); exit(4); }
  j->out.ops = ops;
  j->out.seconds = (double)(t - t0) / 1e9;
  j->out.p99_ns = p99(j->lat, ops);
  close(fd);
  free(buf);
  return NULL;
}

/* Runs the given jobs (1 or 2) for ms milliseconds together; returns the TLB shootdowns meanwhile. */
static long long window(struct job *jobs, int n, int ms) {
  pthread_t th[2];
  atomic_store(&go, 0);
  atomic_store(&stop_flag, 0);
  atomic_store(&ready, 0);
  for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, thread_main, &jobs[i]);
  while (atomic_load(&ready) < n) usleep(1000); /* each thread warms up, then reports ready */
  long long tlb0 = tlb_shootdowns();
  atomic_store(&go, 1);
  usleep((useconds_t)ms * 1000);
  atomic_store(&stop_flag, 1);
  for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
  long long tlb1 = tlb_shootdowns();
  return tlb0 < 0 || tlb1 < 0 ? -1 : tlb1 - tlb0;
}

static void print_win(const char *k, struct win *w) {
  if (!w) { printf("\"%s\":null", k); return; }
  printf("\"%s\":{\"ops\":%llu,\"seconds\":%.6f,\"p99_ns\":%.0f,\"sleeps\":%ld}", k,
         (unsigned long long)w->ops, w->seconds, w->p99_ns, w->sleeps);
}

static void emit(const char *kind, const char *r, const char *w, int hot, int rep, struct win *rw,
                 struct win *ww, long long tlb) {
  printf("{\"kind\":\"%s\",\"reader\":\"%s\",\"writer\":\"%s\",\"hot\":%d,\"rep\":%d,\"tlb\":%lld,", kind,
         r, w, hot, rep, tlb);
  print_win("r", rw);
  putchar(',');
  print_win("w", ww);
  printf("}\n");
  fflush(stdout);
}

static int setup(long vmas) {
  maps_fd = open("/proc/self/maps", O_RDONLY);
  if (maps_fd < 0) return -1;
  int self = open("/proc/self/exe", O_RDONLY);
  for (long i = 0; i < vmas; i++) {
    int prot = PROT_READ | (i % 2 ? 0 : PROT_WRITE);
    int text = self >= 0 && i % (vmas / TEXT_MAPS + 1) == 1;
    if (mmap(NULL, 2 * PAGE, text ? PROT_READ | PROT_EXEC : prot,
             MAP_PRIVATE | (text ? 0 : MAP_ANONYMOUS), text ? self : -1, 0) == MAP_FAILED)
      break;
  }
  char *named = mmap(NULL, NAMED * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (int i = 1; i < NAMED; i += 2) mprotect(named + i * PAGE, PAGE, PROT_READ);
  named_start = (uintptr_t)named;
  /* The empty ranges lie far below mmap_base, where top-down allocations (thread stacks of the
   * windows' threads) never reach: checked free with MAP_FIXED_NOREPLACE, then given back. */
  cold_start = 0x200000000000UL;
  close_page = cold_start + COLD_BYTES + 16 * PAGE;
  char *cold = mmap((void *)cold_start, close_page + PAGE - cold_start, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (cold != (void *)cold_start) return -1;
  munmap(cold, close_page + PAGE - cold_start);
  /* Text VMAs: every file-backed r-x mapping; the hot one is one of ours (flipping it is safe). */
  FILE *f = fopen("/proc/self/maps", "r");
  char line[4096];
  while (f && fgets(line, sizeof line, f) && ntext < MAX_TEXT) {
    unsigned long s, e, off, ino;
    char perms[5];
    unsigned maj, min;
    if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu", &s, &e, perms, &off, &maj, &min, &ino) != 7) continue;
    if (strcmp(perms, "r-xp") || ino == 0) continue;
    text_s[ntext] = s;
    text_e[ntext++] = e;
    if (e - s == 2 * PAGE && off == 0) { hot_s = s; hot_e = e; }
  }
  if (f) fclose(f);
  if (ntext == 0 || hot_s == 0) return -1;
  uint64_t x = 7, distinct[DISTINCT];
  for (int i = 0; i < DISTINCT; i++) distinct[i] = text_addr(&x, 0);
  for (int i = 0; i < BATCH; i++) batch[i] = distinct[xs(&x) % DISTINCT];
  qsort(batch, BATCH, sizeof *batch, cmp_uptr);
  return 0;
}

static int has(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; (p = strstr(p, name)); p += n)
    if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
  return 0;
}

int pairs_main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: kbench pairs MS REPS VMAS READERS WRITERS\n"); return 1; }
  int ms = atoi(argv[2]), reps = atoi(argv[3]);
  const char *readers = argv[5], *writers = argv[6];
  if (setup(atol(argv[4])) != 0) { fprintf(stderr, "kbench pairs: setup failed\n"); return 1; }
  char buf[4096];
  int has_query = query(text_s[0], 0, 0, buf) == 0;
  if (!has_query)
    printf("{\"unsupported\":\"PROCMAP_QUERY\",\"why\":\"ioctl(PROCMAP_QUERY) failed: %s (Linux >= 6.11 has it)\"}\n", strerror(errno));
  int has_names = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, named_start, NAMED * PAGE, NAMES[0]) == 0;
  if (!has_names)
    printf("{\"unsupported\":\"anon_names\",\"why\":\"prctl(PR_SET_VMA_ANON_NAME): %s (CONFIG_ANON_VMA_NAME)\"}\n", strerror(errno));
  static const char *R[] = {"query_point", "query_point_name", "query_batch", "query_walk", "maps"};
  static const char *W[] = {"cold", "hot", "names", "close"};
  uint32_t *lat[2] = {malloc(MAX_SAMPLES * 4), malloc(MAX_SAMPLES * 4)};
  char role[2][64];
  if (!lat[0] || !lat[1]) return 1;
  for (int rep = 0; rep < reps; rep++) {
    struct job sib = {"s:sibling", 0, lat[1], {0}};
    long long sib_tlb = window(&sib, 1, ms);
    emit("sibling_alone", "sibling", "none", 0, rep, &sib.out, NULL, sib_tlb);
    for (int wi = 0; wi < 4; wi++) {
      if (!has(writers, W[wi]) || (!has_names && wi >= 2)) continue;
      snprintf(role[0], 64, "w:%s", W[wi]);
      struct job j = {role[0], 0, lat[0], {0}};
      long long tlb = window(&j, 1, ms);
      emit("writer_alone", "none", W[wi], 0, rep, NULL, &j.out, tlb);
      struct job js[2] = {{role[0], 0, lat[0], {0}}, {"s:sibling", 0, lat[1], {0}}};
      tlb = window(js, 2, ms);
      emit("writer_beside_sibling", "sibling", W[wi], 0, rep, &js[1].out, &js[0].out, tlb);
    }
    for (int ri = 0; ri < 5; ri++) {
      if (!has(readers, R[ri]) || (ri < 4 && !has_query)) continue;
      snprintf(role[0], 64, "r:%s", R[ri]);
      for (int hot = 0; hot <= (ri < 2); hot++) {
        struct job j = {role[0], hot, lat[0], {0}};
        long long tlb = window(&j, 1, ms);
        emit("reader_alone", R[ri], "none", hot, rep, &j.out, NULL, tlb);
      }
      for (int wi = 0; wi < 4; wi++) {
        if (!has(writers, W[wi]) || (!has_names && wi >= 2)) continue;
        snprintf(role[1], 64, "w:%s", W[wi]);
        int hot = wi == 1 && ri < 2;
        struct job j[2] = {{role[0], hot, lat[0], {0}}, {role[1], 0, lat[1], {0}}};
        long long tlb = window(j, 2, ms);
        emit("pair", R[ri], W[wi], hot, rep, &j[0].out, &j[1].out, tlb);
      }
    }
  }
  return 0;
}
