// src/metrics sits at the bottom of the import graph beside src/sync (docs/ARCHITECTURE.md): it
// may import node built-ins, prom-client, its own files and src/sync primitives (the clock, the
// table spinlock), nothing from the engine, routes or fastify; src/sync never imports it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const compiled = basename(dirname(dirname(here))) === 'dist';
const srcMetrics = join(here, ...(compiled ? ['..', '..', '..'] : ['..', '..']), 'src', 'metrics');

describe('src/metrics layering', () => {
  it('imports only node built-ins, prom-client and sibling files', () => {
    const files = readdirSync(srcMetrics).filter((f) => f.endsWith('.ts'));
    assert.ok(files.includes('instruments.ts'), `found the sources in ${srcMetrics}`);
    for (const file of files) {
      const text = readFileSync(join(srcMetrics, file), 'utf8');
      for (const m of text.matchAll(/^(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
        const spec = m[1];
        const ok =
          spec.startsWith('node:') ||
          spec === 'prom-client' ||
          /^\.\/[a-z0-9-]+\.js$/.test(spec) ||
          /^\.\.\/sync\/[a-z0-9-]+\.js$/.test(spec);
        assert.ok(ok, `${file} imports ${spec}`);
      }
    }
  });

  it('src/sync imports nothing from src/metrics (no cycle)', () => {
    const srcSync = join(srcMetrics, '..', 'sync');
    const files = readdirSync(srcSync).filter((f) => f.endsWith('.ts'));
    assert.ok(files.includes('clock.ts'), `found the sources in ${srcSync}`);
    for (const file of files) {
      const text = readFileSync(join(srcSync, file), 'utf8');
      assert.doesNotMatch(text, /from\s+'\.\.\/metrics\//, file);
    }
  });
});
