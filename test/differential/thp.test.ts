// Transparent huge pages, kernel vs engine (touch-scenarios.ts THP_SCENARIOS). The engine runs
// in the host's THP mode, so the transcripts (smaps with AnonHugePages, THPeligible, VmFlags
// hg/nh) must match byte for byte. A real host may refuse a huge page (no free 2 MiB block:
// thp_fault_fallback) or khugepaged may collapse pages while the helper runs (pages_collapsed):
// the test reads those counters around each run, says what it found, and runs the script again
// when they moved (up to 3 times). When the host refuses every time, the engine's own behaviour
// for the mode is asserted instead (never silently skipped).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hostThpMode } from '../../src/machine-caps.js';
import { compareOnce, probeHost, runDifferential } from './differential.js';
import { engineReplay } from './engine-transcript.js';
import { TABLE_THP_SCENARIOS } from './table-scenarios.js';
import { THP_SCENARIOS } from './touch-scenarios.js';

interface ThpCounters {
  alloc: number;
  fallback: number;
  collapsed: number;
}

function counters(): ThpCounters {
  const vmstat = readFileSync('/proc/vmstat', 'latin1');
  const stat = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(vmstat)?.[1] ?? 0);
  let collapsed = 0;
  try {
    collapsed = Number(
      readFileSync('/sys/kernel/mm/transparent_hugepage/khugepaged/pages_collapsed', 'latin1'),
    );
  } catch {}
  return { alloc: stat('thp_fault_alloc'), fallback: stat('thp_fault_fallback'), collapsed };
}

await probeHost();
const mode = hostThpMode();
const ATTEMPTS = 3;

for (const s of [...THP_SCENARIOS, ...TABLE_THP_SCENARIOS]) {
  test(`differential scenario ${s.name}`, async (t) => {
    t.diagnostic(`host THP mode: ${mode}; the engine runs in the same mode`);
    let disturbed = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const before = counters();
      const run = await compareOnce(s.ops, engineReplay);
      const after = counters();
      const alloc = after.alloc - before.alloc;
      const fallback = after.fallback - before.fallback;
      const collapsed = after.collapsed - before.collapsed;
      t.diagnostic(
        `run ${attempt}: kernel thp_fault_alloc +${alloc}, thp_fault_fallback +${fallback}, khugepaged pages_collapsed +${collapsed}; ${run.oracle.length} transcript lines`,
      );
      if (fallback === 0 && collapsed === 0) {
        if (mode !== 'never')
          assert.ok(alloc > 0, 'the kernel faulted no huge page in this script');
        if (run.diff) {
          // A real mismatch: the full report (shortest failing prefix, minimised script).
          const res = await runDifferential(
            s.name,
            s.ops,
            engineReplay,
            `node --test --test-name-pattern='${s.name}' dist/test/differential/thp.test.js`,
          );
          assert.fail(res.mismatch?.report ?? 'the transcripts differed once, not on the rerun');
        }
        assert.ok(run.engine.some((l) => /^AnonHugePages: +[1-9]/.test(l)) === (mode !== 'never'));
        return;
      }
      disturbed = `the host refused or collapsed huge pages (fallback +${fallback}, collapsed +${collapsed})`;
    }
    // The host never ran the script undisturbed: assert the engine's behaviour for the mode.
    t.diagnostic(`${disturbed} in ${ATTEMPTS} runs: the engine's ${mode} behaviour asserted alone`);
    const out: string[] = [];
    engineReplay(s.ops, await probeHost(), out);
    const huge = out.some((l) => /^AnonHugePages: +2048 kB$/.test(l));
    assert.equal(huge, mode !== 'never', `engine AnonHugePages in THP mode ${mode}`);
    assert.ok(
      out.some((l) => /^VmFlags: .* hg $/.test(l)),
      'MADV_HUGEPAGE shows hg',
    );
  });
}
