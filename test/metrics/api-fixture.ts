// The copy of API.md's strategy table and GET /metrics section (test/fixtures/metrics/), found
// from both test/metrics (tsx) and dist/test/metrics (compiled: fixtures are not emitted).
// (Under dist/test it is also picked up by `node --test` as a file; it only exports.)
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const compiled = basename(dirname(dirname(here))) === 'dist';
const testDir = compiled ? join(here, '..', '..', '..', 'test') : join(here, '..');

export const API_METRICS_TEXT = readFileSync(
  join(testDir, 'fixtures', 'metrics', 'api-metrics.md'),
  'utf8',
);
