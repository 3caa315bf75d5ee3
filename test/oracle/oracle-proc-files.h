/* procfs-oracle: the helper's own /proc/self files and limits, printed in the header and at each
 * checkpoint: maps text and its read sizes, stat fields, the VMAs holding anonymous pages at
 * start, the zero-page probe, vm.max_map_count. Included once, by procfs-oracle.c (after the test
 * files and oracle-query.h, whose maps_fd it reads). */
#ifndef PROCFS_ORACLE_PROC_FILES_H
#define PROCFS_ORACLE_PROC_FILES_H

static int hexval_c(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static char maps_buf[4 << 20];

static size_t read_whole(int fd, char *buf, size_t cap) {
  if (sys3(SYS_lseek, fd, 0, SEEK_SET) < 0) die("lseek");
  size_t len = 0;
  for (;;) {
    if (len == cap) die("buffer too small");
    long n = sys3(SYS_read, fd, buf + len, cap - len);
    if (n == -4) continue;
    if (n < 0) die("read");
    if (n == 0) return len;
    len += (size_t)n;
  }
}

static void print_maps(const char *tag) {
  size_t len = read_whole(maps_fd, maps_buf, sizeof maps_buf);
  put_str(tag);
  put_str("-begin\n");
  put_bytes(maps_buf, len);
  put_str(tag);
  put_str("-end\n");
}

/* The sizes one read(fd, buf, 4096) after another return: seq_file fills its page-sized buffer
 * with whole lines, and a line that would end exactly at the buffer's end starts the next read. */
static void print_chunks(void) {
  if (sys3(SYS_lseek, maps_fd, 0, SEEK_SET) < 0) die("lseek");
  put_str("chunks4096");
  for (;;) {
    long n = sys3(SYS_read, maps_fd, maps_buf, 4096);
    if (n == -4) continue;
    if (n < 0) die("read");
    if (n == 0) break;
    put_char(' ');
    put_dec((u64)n);
  }
  put_char('\n');
}

/* /proc/self/stat fields (1-based): 26 start_code 27 end_code 28 start_stack 45 start_data
 * 46 end_data 47 start_brk. */
static void print_stat(void) {
  static char buf[4096];
  long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) die("open stat");
  size_t len = read_whole((int)fd, buf, sizeof buf - 1);
  sys1(SYS_close, fd);
  buf[len] = 0;
  size_t i = len;
  while (i > 0 && buf[i - 1] != ')') i--; /* comm may contain spaces; fields follow the last ')' */
  u64 field[64] = {0};
  int f = 2; /* buf[i] is the space before field 3 */
  while (i < len && f < 63) {
    if (buf[i] == ' ') {
      f++;
      i++;
      continue;
    }
    u64 v = 0;
    while (i < len && buf[i] >= '0' && buf[i] <= '9') v = v * 10 + (u64)(buf[i++] - '0');
    while (i < len && buf[i] != ' ') i++;
    field[f] = v;
  }
  static const struct { const char *name; int idx; } fields[] = {
      {"start_code", 26}, {"end_code", 27},  {"start_data", 45},
      {"end_data", 46},   {"start_brk", 47}, {"start_stack", 28},
  };
  for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
    put_str("stat ");
    put_str(fields[k].name);
    put_char(' ');
    put_hex(field[fields[k].idx]);
    put_char('\n');
  }
  put_str("stat brk ");
  put_hex((u64)sys1(SYS_brk, 0));
  put_char('\n');
}

/* The VMAs that hold anonymous pages at start (written data, bss, heap, stack): they have an
 * anon_vma, which decides later merges (in a fork child above all), so the engine is told. */
static void print_anon_vmas(void) {
  long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/smaps", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) die("open smaps");
  size_t len = read_whole((int)fd, maps_buf, sizeof maps_buf);
  sys1(SYS_close, fd);
  u64 start = 0;
  for (size_t i = 0; i < len;) {
    size_t eol = i;
    while (eol < len && maps_buf[eol] != '\n') eol++;
    int hex = 0;
    u64 v = 0;
    size_t k = i;
    while (k < eol && hexval_c(maps_buf[k]) >= 0) v = v * 16 + (u64)hexval_c(maps_buf[k++]), hex++;
    if (hex > 0 && k < eol && maps_buf[k] == '-') {
      start = v; /* a VMA header line */
    } else if (eol - i > 10 && maps_buf[i] == 'A' && maps_buf[i + 1] == 'n' &&
               maps_buf[i + 4] == 'y' && maps_buf[i + 9] == ':') { /* "Anonymous:" */
      u64 kb = 0;
      for (k = i + 10; k < eol; k++)
        if (maps_buf[k] >= '0' && maps_buf[k] <= '9') kb = kb * 10 + (u64)(maps_buf[k] - '0');
      if (kb > 0) {
        put_str("anon_vma ");
        put_hex(start);
        put_char('\n');
      }
    }
    i = eol + 1;
  }
}

/* Whether read faults on private anonymous memory map the shared zero page (the kernel's rule)
 * or allocate a page (mm_forbids_zeropage(), or a hypervisor guest booted without a zero page,
 * e.g. pvm_no_zero_page): then MAP_POPULATE / MAP_LOCKED of readable private anonymous memory
 * gives it an anon_vma, which decides later merges in fork children. One page far from every
 * address a script uses is populated read-only, its smaps "Anonymous:" read, and unmapped. */
#define ZERO_PAGE_PROBE 0x200000000000UL
static int probe_zero_page(void) {
  long a = sys6(SYS_mmap, ZERO_PAGE_PROBE, 4096, 1 /* PROT_READ */,
                0x02 | 0x20 | 0x100000 | 0x8000 /* PRIVATE|ANONYMOUS|FIXED_NOREPLACE|POPULATE */, -1, 0);
  if (a != (long)ZERO_PAGE_PROBE) die("zero page probe: mmap");
  long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/smaps", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) die("open smaps");
  size_t len = read_whole((int)fd, maps_buf, sizeof maps_buf);
  sys1(SYS_close, fd);
  sys2(SYS_munmap, ZERO_PAGE_PROBE, 4096);
  static const char head[] = "200000000000-";
  int in = 0;
  for (size_t i = 0; i < len;) {
    size_t eol = i;
    while (eol < len && maps_buf[eol] != '\n') eol++;
    size_t n = 0;
    while (n < sizeof head - 1 && i + n < eol && maps_buf[i + n] == head[n]) n++;
    if (n == sizeof head - 1) in = 1;
    if (in && eol - i > 10 && maps_buf[i] == 'A' && maps_buf[i + 1] == 'n' && maps_buf[i + 9] == ':') {
      for (size_t k = i + 10; k < eol; k++)
        if (maps_buf[k] >= '1' && maps_buf[k] <= '9') return 0; /* a page was allocated */
      return 1;
    }
    i = eol + 1;
  }
  die("zero page probe: no smaps entry");
  return 0;
}

/* vm.max_map_count: mmap, mprotect and munmap fail with ENOMEM around it. */
static void print_max_map_count(void) {
  static char buf[64];
  long fd = sys4(SYS_openat, AT_FDCWD, "/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) die("open max_map_count");
  size_t len = read_whole((int)fd, buf, sizeof buf - 1);
  sys1(SYS_close, fd);
  u64 v = 0;
  for (size_t i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) v = v * 10 + (u64)(buf[i] - '0');
  put_str("max_map_count ");
  put_dec(v);
  put_char('\n');
}

#endif

/* VmPeak of /proc/self/status (kB): the high-water mark of the helper's life so far (exec, the
 * loader, the zero-page probe's munmap), which the engine starts from (mm->hiwater_vm). Printed
 * after every setup step; nothing after the header maps or unmaps outside the script. */
static void print_vm_peak(void) {
  long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) die("open status");
  size_t len = read_whole((int)fd, maps_buf, sizeof maps_buf);
  sys1(SYS_close, fd);
  static const char key[] = "\nVmPeak:";
  for (size_t i = 0; i + sizeof key - 1 < len; i++) {
    size_t k = 0;
    while (k < sizeof key - 1 && maps_buf[i + k] == key[k]) k++;
    if (k < sizeof key - 1) continue;
    u64 v = 0;
    for (size_t j = i + k; j < len && maps_buf[j] != '\n'; j++)
      if (maps_buf[j] >= '0' && maps_buf[j] <= '9') v = v * 10 + (u64)(maps_buf[j] - '0');
    put_str("vm_peak ");
    put_dec(v);
    put_char('\n');
    return;
  }
  die("no VmPeak in /proc/self/status");
}
