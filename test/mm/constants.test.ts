import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as E from '../../src/mm/errno.js';
import * as V from '../../src/mm/vm-flags.js';

/**
 * The constants are checked against the host's C headers (the kernel is the oracle): a tiny C
 * program prints the values, compiled with the system gcc.
 */
function hostValues(): Map<string, bigint> | null {
  const names = {
    errno: [
      'EPERM',
      'ENOENT',
      'ESRCH',
      'EINTR',
      'EBADF',
      'EAGAIN',
      'ENOMEM',
      'EACCES',
      'EFAULT',
      'EBUSY',
      'EEXIST',
      'EINVAL',
      'ENFILE',
      'EMFILE',
      'ENOTTY',
      'EFBIG',
      'ENOSPC',
      'ERANGE',
      'ENAMETOOLONG',
      'ENOSYS',
      'EOVERFLOW',
      'E2BIG',
      'EOPNOTSUPP',
    ],
    mman: [
      'PROT_READ',
      'PROT_WRITE',
      'PROT_EXEC',
      'PROT_GROWSDOWN',
      'MAP_SHARED',
      'MAP_PRIVATE',
      'MAP_SHARED_VALIDATE',
      'MAP_FIXED',
      'MAP_ANONYMOUS',
      'MAP_GROWSDOWN',
      'MAP_DENYWRITE',
      'MAP_EXECUTABLE',
      'MAP_LOCKED',
      'MAP_NORESERVE',
      'MAP_POPULATE',
      'MAP_NONBLOCK',
      'MAP_STACK',
      'MAP_HUGETLB',
      'MAP_SYNC',
      'MAP_FIXED_NOREPLACE',
      'MAP_32BIT',
      'MREMAP_MAYMOVE',
      'MREMAP_FIXED',
      'MREMAP_DONTUNMAP',
      'PR_SET_VMA',
      'PR_SET_VMA_ANON_NAME',
    ],
    fs: [
      'PROCMAP_QUERY',
      'PROCMAP_QUERY_VMA_READABLE',
      'PROCMAP_QUERY_VMA_WRITABLE',
      'PROCMAP_QUERY_VMA_EXECUTABLE',
      'PROCMAP_QUERY_VMA_SHARED',
      'PROCMAP_QUERY_COVERING_OR_NEXT_VMA',
      'PROCMAP_QUERY_FILE_BACKED_VMA',
    ],
  };
  const all = [...names.errno, ...names.mman, ...names.fs];
  const src = [
    '#define _GNU_SOURCE',
    '#include <errno.h>',
    '#include <stdio.h>',
    '#include <sys/mman.h>',
    '#include <sys/prctl.h>',
    '#include <linux/fs.h>',
    '#include <linux/mman.h>',
    'int main(void) {',
    // Older libc headers lack PROCMAP_QUERY (6.11+): print only what the headers define.
    ...all.map((n) => `#ifdef ${n}\n  printf("${n} %llu\\n", (unsigned long long)(${n}));\n#endif`),
    '#ifdef PROCMAP_QUERY',
    '  printf("sizeof_procmap_query %zu\\n", sizeof(struct procmap_query));',
    '#endif',
    '  return 0;',
    '}',
  ].join('\n');
  try {
    const dir = mkdtempSync(join(tmpdir(), 'mm-consts-'));
    writeFileSync(join(dir, 'c.c'), src);
    execFileSync('gcc', ['-o', join(dir, 'c'), join(dir, 'c.c')], { stdio: 'pipe' });
    const out = execFileSync(join(dir, 'c'), { encoding: 'utf8' });
    return new Map(
      out
        .trim()
        .split('\n')
        .map((l) => {
          const [k, v] = l.split(' ');
          return [k, BigInt(v)] as [string, bigint];
        }),
    );
  } catch {
    return null;
  }
}

describe('kernel constants', () => {
  const host = hostValues();
  it('match the host C headers (errno, mman, mremap, prctl, PROCMAP_QUERY)', (t) => {
    if (host === null) {
      // No compiler: the differential suite cannot run either; say so instead of passing silently.
      assert.fail('gcc is required for this test (.ci/run installs it)');
    }
    const ours: Record<string, number> = { ...E, ...V } as unknown as Record<string, number>;
    let checked = 0;
    for (const [name, value] of host) {
      if (name === 'sizeof_procmap_query') {
        assert.equal(Number(value), V.PROCMAP_QUERY_STRUCT_SIZE);
        continue;
      }
      assert.equal(BigInt(ours[name]), value, name);
      checked++;
    }
    t.diagnostic(`${checked} constants checked against the host headers`);
    assert.ok(checked >= 49, `only ${checked} constants found in the host headers`);
  });

  it('PROCMAP_QUERY number, struct size and flag mask are what the host kernel accepts', () => {
    // The libc headers here predate PROCMAP_QUERY, so ask the running kernel instead: our ioctl
    // number with a 104-byte struct must work on /proc/self/maps, and the first bit above our
    // valid-flags mask must be rejected with EINVAL while the mask itself passes validation.
    const src = [
      '#include <errno.h>',
      '#include <fcntl.h>',
      '#include <stdio.h>',
      '#include <stdint.h>',
      '#include <string.h>',
      '#include <sys/ioctl.h>',
      'int main(void) {',
      '  uint64_t q[13]; int fd = open("/proc/self/maps", O_RDONLY);',
      '  unsigned long cmd = strtoul_cmd;',
      '  memset(q, 0, sizeof q); q[0] = sizeof q; q[1] = 0x10; q[2] = 0;',
      '  int r1 = ioctl(fd, cmd, q); int e1 = r1 ? errno : 0;',
      '  memset(q, 0, sizeof q); q[0] = sizeof q; q[1] = valid_mask;',
      '  int r2 = ioctl(fd, cmd, q); int e2 = r2 ? errno : 0;',
      '  memset(q, 0, sizeof q); q[0] = sizeof q; q[1] = valid_mask + 1;',
      '  int r3 = ioctl(fd, cmd, q); int e3 = r3 ? errno : 0;',
      '  printf("%d %d %d\\n", e1, e2, e3); return 0;',
      '}',
    ]
      .join('\n')
      .replace('strtoul_cmd', `${V.PROCMAP_QUERY}UL`)
      .replaceAll('valid_mask', `${V.PROCMAP_QUERY_VALID_FLAGS}`);
    assert.equal(13 * 8, V.PROCMAP_QUERY_STRUCT_SIZE);
    const dir = mkdtempSync(join(tmpdir(), 'mm-pmq-'));
    writeFileSync(join(dir, 'q.c'), src);
    execFileSync('gcc', ['-o', join(dir, 'q'), join(dir, 'q.c')], { stdio: 'pipe' });
    const [e1, e2, e3] = execFileSync(join(dir, 'q'), { encoding: 'utf8' }).trim().split(' ');
    assert.equal(Number(e1), 0, 'COVERING_OR_NEXT_VMA from 0 finds the first VMA');
    assert.notEqual(Number(e2), E.EINVAL, 'all valid flags pass validation');
    assert.equal(Number(e3), E.EINVAL, 'the next bit is invalid');
  });

  it('derive VM_SPECIAL and VM_STACK_FLAGS as include/linux/mm.h does', () => {
    assert.equal(V.VM_SPECIAL, 0x4000 | 0x40000 | 0x400 | 0x10000000);
    assert.equal(V.VM_STACK_FLAGS, 0x100 | 0x1 | 0x2 | 0x10 | 0x20 | 0x40 | 0x100000);
    assert.equal(V.TASK_SIZE, 2 ** 47 - 4096);
  });

  it('names errnos, including negative syscall results and unknown numbers', () => {
    assert.equal(E.errnoName(22), 'EINVAL');
    assert.equal(E.errnoName(-12), 'ENOMEM');
    assert.equal(E.errnoName(9999), 'E9999');
    assert.equal(E.ERRNO_BY_NAME.ENOENT, 2);
    assert.ok(E.isErrno(-22) && !E.isErrno(0) && !E.isErrno(0x7f00_0000_0000));
  });

  it('aligns pages without losing precision on 47-bit addresses', () => {
    const a = 0x7fff_ffff_e123;
    assert.equal(V.pageAlignDown(a), 0x7fff_ffff_e000);
    assert.equal(V.pageAlign(a), 0x7fff_ffff_f000);
    assert.equal(V.pageAlign(0x1000), 0x1000);
    assert.ok(V.isPageAligned(0x7fff_ffff_f000) && !V.isPageAligned(a));
  });
});
