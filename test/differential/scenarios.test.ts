// Hand-written merge/split scenarios, kernel vs engine (scenarios.ts describes each one).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeHost, runDifferential } from './differential.js';
import { engineReplay } from './engine-transcript.js';
import { describeHost, hostCapabilities } from './host-capabilities.js';
import {
  brkScenario,
  chunkBoundaryScenario,
  maxMapCountScenario,
  specialMappingsScenario,
} from './layout-scenarios.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { TABLE_SCENARIOS } from './table-scenarios.js';
import { MADVISE_SCENARIOS, TOUCH_SCENARIOS } from './touch-scenarios.js';

const host = await probeHost();
const caps = await hostCapabilities();
const vvarLine = host.initialMaps.split('\n').find((l) => l.endsWith(' [vvar]'));
assert.ok(vvarLine, 'the helper has a [vvar] mapping');
const all: Scenario[] = [
  ...SCENARIOS,
  ...TOUCH_SCENARIOS,
  ...MADVISE_SCENARIOS,
  ...TABLE_SCENARIOS,
  brkScenario(host.stat.start_brk!, host.stat.brk!),
  specialMappingsScenario(Number.parseInt(vvarLine.split('-')[0]!, 16)),
  chunkBoundaryScenario(host.initialMaps, 4096),
  chunkBoundaryScenario(host.initialMaps, 4095),
  maxMapCountScenario(host.initialMaps, host.maxMapCount),
];

for (const s of all) {
  // Without CONFIG_ANON_VMA_NAME on the host the kernel cannot say what anon names do: the
  // scenario still runs, minus its anon-name ops.
  const ops = s.needsAnonNames && !host.anonVmaName ? s.ops.filter((o) => o.op !== 'anon') : s.ops;
  test(`differential scenario ${s.name}`, async (t) => {
    if (s.name === 'exec-only-pkey') for (const l of describeHost(caps)) t.diagnostic(l);
    if (ops !== s.ops) {
      t.diagnostic('host kernel lacks CONFIG_ANON_VMA_NAME: anon-name ops left out of this script');
    }
    const res = await runDifferential(
      s.name,
      ops,
      engineReplay,
      `node --test --test-name-pattern='${s.name}' dist/test/differential/scenarios.test.js`,
    );
    t.diagnostic(`${res.ops} ops, ${res.lines} transcript lines compared`);
    if (res.hostNoise) t.diagnostic(res.hostNoise);
    if (res.mismatch) assert.fail(res.mismatch.report);
    assert.ok(res.lines > 0);
  });
}
