/** Configuration: flags win over env, env over defaults; bad values name the flag; --help. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, helpText, OPTION_SPECS, parseConfig } from '../../src/config.js';
import { repoRoot } from './server-process.js';

test('defaults', () => {
  const r = parseConfig([], {});
  assert.equal(r.help, false);
  if (r.help) return;
  assert.equal(r.config.host, '127.0.0.1');
  assert.equal(r.config.port, 8080);
  assert.equal(r.config.strategy, 'per_vma');
  assert.equal(r.config.population, 64);
  assert.equal(r.config.maxBatch, 65536);
});

test('a flag wins over its env var, which wins over the default', () => {
  const r = parseConfig(['--port', '9000', '--strategy=lockless'], {
    PORT: '7000',
    STRATEGY: 'snapshot',
    MAX_BATCH: '10',
  });
  assert.ok(!r.help);
  if (r.help) return;
  assert.equal(r.config.port, 9000);
  assert.equal(r.config.strategy, 'lockless');
  assert.equal(r.config.maxBatch, 10);
});

test('bad values are refused naming the flag or variable', () => {
  assert.throws(
    () => parseConfig(['--port', 'x'], {}),
    (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /--port/);
      return true;
    },
  );
  assert.throws(() => parseConfig([], { STRATEGY: 'fast' }), /env STRATEGY: unknown strategy/);
  assert.throws(() => parseConfig(['--max-batch', '0'], {}), /out of range/);
  assert.throws(() => parseConfig(['--bogus'], {}), ConfigError);
});

test('--help lists every option with its env var and default', () => {
  assert.deepEqual(parseConfig(['--help'], {}), { help: true });
  const help = helpText();
  for (const s of OPTION_SPECS) {
    assert.match(help, new RegExp(`--${s.flag} `));
    assert.match(help, new RegExp(`env ${s.env},`));
  }
});

test('README.md documents every option', () => {
  const doc = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
  for (const s of OPTION_SPECS) {
    const row = new RegExp(`\\|\\s*\`--${s.flag}\`\\s*\\|\\s*\`${s.env}\`\\s*\\|`);
    assert.match(doc, row, `--${s.flag} missing`);
  }
});

test('--pkeys on|off|host (env PKEYS), default host; other values are refused', () => {
  const mode = (argv: string[], env: Record<string, string> = {}) => {
    const r = parseConfig(argv, env);
    return r.help ? undefined : r.config.pkeysMode;
  };
  assert.equal(mode([]), 'host');
  assert.equal(mode(['--pkeys', 'on']), 'on');
  assert.equal(mode([], { PKEYS: 'off' }), 'off');
  assert.equal(mode(['--pkeys=host'], { PKEYS: 'on' }), 'host');
  assert.throws(
    () => parseConfig(['--pkeys', 'yes'], {}),
    /--pkeys: "yes" is not one of on, off, host/,
  );
  assert.throws(() => parseConfig([], { PKEYS: '1' }), /env PKEYS/);
});

test('--thp always|madvise|never|host (env THP), default host; other values are refused', () => {
  const mode = (argv: string[], env: Record<string, string> = {}) => {
    const r = parseConfig(argv, env);
    return r.help ? undefined : r.config.thpMode;
  };
  assert.equal(mode([]), 'host');
  assert.equal(mode(['--thp', 'always']), 'always');
  assert.equal(mode([], { THP: 'never' }), 'never');
  assert.equal(mode(['--thp=madvise'], { THP: 'always' }), 'madvise');
  assert.throws(
    () => parseConfig(['--thp', 'on'], {}),
    /--thp: "on" is not one of always, madvise, never, host/,
  );
  assert.throws(() => parseConfig([], { THP: 'inherit' }), /env THP/);
});

test('--token-file / TOKEN_FILE: the token from a file (a mounted secret), trimmed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'procfs-sim-token-'));
  try {
    const file = join(dir, 'token');
    writeFileSync(file, '  s3cret\n');
    for (const r of [
      parseConfig(['--token-file', file], {}),
      parseConfig([], { TOKEN_FILE: file }),
    ]) {
      assert.ok(!r.help);
      if (!r.help) assert.equal(r.config.token, 's3cret');
    }
    assert.throws(() => parseConfig(['--token-file', file, '--token', 'x'], {}), /not both/);
    assert.throws(() => parseConfig(['--token-file', join(dir, 'missing')], {}), /cannot read/);
    writeFileSync(file, '\n');
    assert.throws(() => parseConfig([], { TOKEN_FILE: file }), /is empty/);
    // An empty TOKEN_FILE (`-e TOKEN_FILE=` over the image's default) means no file.
    const none = parseConfig([], { TOKEN_FILE: '' });
    if (!none.help) assert.equal(none.config.token, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
