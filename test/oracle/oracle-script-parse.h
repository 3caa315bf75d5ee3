/* procfs-oracle: reading the script from stdin, one op per line: words, numbers (hex or decimal,
 * unsigned 64-bit), hex-encoded anon names, file indexes to fds. Included once, by
 * procfs-oracle.c (after the test files). */
#ifndef PROCFS_ORACLE_SCRIPT_PARSE_H
#define PROCFS_ORACLE_SCRIPT_PARSE_H

static char script[8 << 20];
static size_t script_len, pos;

static void skip_spaces(void) {
  while (pos < script_len && (script[pos] == ' ' || script[pos] == '\t')) pos++;
}

static int at_eol(void) {
  skip_spaces();
  return pos >= script_len || script[pos] == '\n';
}

static int word_is(const char *w) {
  size_t n = 0;
  while (w[n]) {
    if (pos + n >= script_len || script[pos + n] != w[n]) return 0;
    n++;
  }
  if (pos + n < script_len && script[pos + n] != ' ' && script[pos + n] != '\n') return 0;
  pos += n;
  return 1;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static u64 num(void) {
  skip_spaces();
  int neg = 0;
  if (pos < script_len && script[pos] == '-') {
    neg = 1;
    pos++;
  }
  u64 v = 0;
  if (pos + 1 < script_len && script[pos] == '0' && (script[pos + 1] == 'x' || script[pos + 1] == 'X')) {
    pos += 2;
    int d, any = 0;
    while (pos < script_len && (d = hexval(script[pos])) >= 0) {
      v = v * 16 + (u64)d;
      pos++;
      any = 1;
    }
    if (!any) die("bad hex number");
  } else {
    if (pos >= script_len || script[pos] < '0' || script[pos] > '9') die("expected a number");
    while (pos < script_len && script[pos] >= '0' && script[pos] <= '9')
      v = v * 10 + (u64)(script[pos++] - '0');
  }
  return neg ? (u64)0 - v : v;
}

static char anon_name[256];

/* "-" → NULL; otherwise hex-encoded bytes (names may hold spaces and odd characters). */
static const char *hex_name(void) {
  skip_spaces();
  if (pos < script_len && script[pos] == '-' && (pos + 1 >= script_len || script[pos + 1] == '\n' || script[pos + 1] == ' ')) {
    pos++;
    return NULL;
  }
  size_t n = 0;
  while (pos + 1 < script_len && hexval(script[pos]) >= 0 && hexval(script[pos + 1]) >= 0) {
    if (n + 1 >= sizeof anon_name) die("anon name too long");
    anon_name[n++] = (char)(hexval(script[pos]) * 16 + hexval(script[pos + 1]));
    pos += 2;
  }
  anon_name[n] = 0;
  return anon_name;
}

static long file_fd_for(u64 idx) {
  if (idx == (u64)-1) return -1;
  if (idx == BAD_FD_INDEX) return 1000; /* never open: EBADF */
  if (idx >= NFILES) die("bad file index");
  return file_fd[idx];
}

#endif
