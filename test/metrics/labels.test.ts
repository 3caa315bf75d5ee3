import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { describe, it } from 'node:test';
import {
  FALLBACK_REASONS,
  fallbackReasonId,
  HAZARD_KINDS,
  LOCK_MODES,
  LOCKS,
  MUTATION_ERRNOS,
  MUTATION_OPS,
  MUTATION_RESULTS,
  mutationResultId,
  mutationResultIdByName,
  READ_OPS,
  STRATEGIES,
  strategyId,
} from '../../src/metrics/labels.js';
import { API_METRICS_TEXT } from './api-fixture.js';

const apiText = API_METRICS_TEXT;

/** The backticked values inside the parentheses after `` `label` ( `` in the API text. */
function apiEnum(label: string): string[] {
  const m = new RegExp(`\`${label}\` \\(([^)]*)\\)`).exec(apiText);
  assert.ok(m, `API text lists values for ${label}`);
  return [...m[1].matchAll(/`([a-z_]+)`/g)].map((x) => x[1]);
}

describe('metric label enums match API.md', () => {
  it('strategies are the rows of the API strategy table, in order', () => {
    const table = [...apiText.matchAll(/^\| `([a-z_]+)` *\|/gm)].map((m) => m[1]);
    assert.deepEqual([...STRATEGIES], table);
  });

  it('lock, mode, op, reason and kind values are the API lists', () => {
    assert.deepEqual([...LOCKS], apiEnum('lock'));
    assert.deepEqual([...LOCK_MODES], apiEnum('mode'));
    assert.deepEqual([...READ_OPS], apiEnum('op'));
    assert.deepEqual([...FALLBACK_REASONS], apiEnum('reason'));
    assert.deepEqual([...HAZARD_KINDS], apiEnum('kind'));
  });

  it('mutation ops are the API mutations plus fork and exit', () => {
    // API.md: the /syscalls ops, then POST /processes/:pid/fork and DELETE (exit).
    assert.deepEqual(
      [...MUTATION_OPS],
      ['mmap', 'munmap', 'mprotect', 'mremap', 'brk', 'anon_name', 'madvise', 'fork', 'exit'],
    );
  });
});

describe('mutation results', () => {
  it('errno numbers agree with the kernel UAPI headers of this machine', () => {
    // linux-libc-dev (a dependency of libc6-dev, which .ci/run installs) ships these.
    const headers = ['errno-base.h', 'errno.h']
      .map((h) => readFileSync(`/usr/include/asm-generic/${h}`, 'utf8'))
      .join('\n');
    const kernel = new Map(
      [...headers.matchAll(/^#define\s+(E[A-Z0-9]+)\s+(\d+)\b/gm)].map((m) => [m[1], Number(m[2])]),
    );
    for (const [name, errno] of MUTATION_ERRNOS) assert.equal(kernel.get(name), errno, name);
  });

  it('cover every errno the kernel headers define (aliases aside), each once', () => {
    const headers = ['errno-base.h', 'errno.h']
      .map((h) => readFileSync(`/usr/include/asm-generic/${h}`, 'utf8'))
      .join('\n');
    const numbers = new Set(
      [...headers.matchAll(/^#define\s+E[A-Z0-9]+\s+(\d+)\b/gm)].map((m) => Number(m[1])),
    );
    const covered = MUTATION_ERRNOS.map(([, n]) => n);
    assert.deepEqual(
      [...new Set(covered)].sort((a, b) => a - b),
      [...numbers].sort((a, b) => a - b),
    );
    assert.equal(new Set(covered).size, covered.length);
  });

  it('map syscall returns to result ids: >= 0 is ok, -errno is its name', () => {
    assert.equal(MUTATION_RESULTS[mutationResultId(0)], 'ok');
    assert.equal(MUTATION_RESULTS[mutationResultId(0x7f0000000000)], 'ok');
    assert.equal(MUTATION_RESULTS[mutationResultId(-constants.errno.EINVAL)], 'EINVAL');
    assert.equal(MUTATION_RESULTS[mutationResultId(-constants.errno.ENOMEM)], 'ENOMEM');
    assert.equal(MUTATION_RESULTS[mutationResultId(-constants.errno.EOVERFLOW)], 'EOVERFLOW');
    assert.equal(mutationResultIdByName('EEXIST'), mutationResultId(-constants.errno.EEXIST));
  });

  it('refuse errnos and names outside the list instead of mislabelling them', () => {
    assert.throws(() => mutationResultId(-41), RangeError); // unused on Linux
    assert.throws(() => mutationResultId(-515), RangeError); // ENOIOCTLCMD: kernel-internal
    assert.throws(() => mutationResultIdByName('ENOTREAL'), RangeError);
  });

  it('result names are unique', () => {
    assert.equal(new Set(MUTATION_RESULTS).size, MUTATION_RESULTS.length);
  });
});

describe('name -> id lookups', () => {
  it('round-trip every strategy and reject unknown names', () => {
    STRATEGIES.forEach((name, id) => {
      assert.equal(strategyId(name), id);
    });
    FALLBACK_REASONS.forEach((name, id) => {
      assert.equal(fallbackReasonId(name), id);
    });
    assert.throws(() => strategyId('rcu'), RangeError);
  });
});
