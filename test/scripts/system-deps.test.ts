// scripts/system-deps.sh (npm test's pretest): installs what is missing through apt as root, and
// otherwise stops with one line saying what and why. Run hermetically: PATH is a directory of
// stubs (a fake `id` says which user we are, a fake `apt-get` logs its arguments and "installs" by
// creating the stub), and SYSTEM_DEPS_NEEDS replaces the real package list.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from '../oracle/oracle-binary.js';

const SCRIPT = join(repoRoot(), 'scripts', 'system-deps.sh');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function stub(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
}

interface Machine {
  uid: number;
  apt: boolean;
  /** Commands already installed. */
  have: string[];
  /** apt-get fails. */
  aptFails?: boolean;
}

function run(m: Machine, needs: string[]) {
  const bin = mkdtempSync(join(tmpdir(), 'system-deps-'));
  dirs.push(bin);
  stub(bin, 'id', `echo ${m.uid}`);
  for (const c of m.have) stub(bin, c, 'exit 0');
  const log = join(bin, 'apt.log');
  if (m.apt) {
    // install: each package name becomes a command of that name
    const install = m.aptFails
      ? 'exit 100'
      : `for p in "$@"; do case "$p" in -*|install) ;; *) printf '#!/bin/bash\\n' > "${bin}/$p"; /bin/chmod +x "${bin}/$p";; esac; done`;
    stub(bin, 'apt-get', `echo "$*" >> "${log}"\n[ "$1" = update ] && exit 0\n${install}`);
  }
  const r = spawnSync('/bin/bash', [SCRIPT], {
    env: { PATH: bin, SYSTEM_DEPS_NEEDS: needs.join('\n') },
    encoding: 'utf8',
  });
  const apt = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: r.status, stderr: r.stderr.trim(), apt, bin };
}

test('nothing missing: exit 0, silent, apt untouched', () => {
  const r = run({ uid: 0, apt: true, have: ['gcc', 'prometheus'] }, [
    'gcc gcc',
    'prometheus prometheus',
  ]);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  assert.deepEqual(r.apt, []);
});

test('root with apt: installs exactly the missing packages, then checks they are there', () => {
  const r = run({ uid: 0, apt: true, have: ['gcc'] }, [
    'gcc gcc',
    'prometheus prometheus',
    `${SCRIPT} never-installed`, // an absolute path that exists: nothing to do
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.apt, ['update -qq', 'install -y -qq --no-install-recommends prometheus']);
  assert.match(
    r.stderr,
    /^system-deps: missing prometheus; installing Debian packages: prometheus$/m,
  );
  assert.match(r.stderr, /^system-deps: installed prometheus$/m);
  assert.ok(existsSync(join(r.bin, 'prometheus')));
});

test('a missing file (absolute path) is installed like a missing command', () => {
  const r = run({ uid: 0, apt: true, have: [] }, ['/nonexistent/libc.a libc6-dev']);
  // the fake apt cannot create /nonexistent/libc.a: the script notices
  assert.equal(r.status, 1);
  assert.deepEqual(r.apt.at(-1), 'install -y -qq --no-install-recommends libc6-dev');
  assert.match(r.stderr, /system-deps: \/nonexistent\/libc\.a still missing after install$/);
});

test('not root: one line naming what is missing and the command to run, exit 1', () => {
  const r = run({ uid: 1000, apt: true, have: [] }, ['gcc gcc', 'prometheus prometheus']);
  assert.equal(r.status, 1);
  assert.deepEqual(r.apt, []);
  assert.equal(
    r.stderr,
    'system-deps: missing gcc prometheus; cannot install gcc prometheus: not root (run as root, or: sudo apt-get install gcc prometheus)',
  );
});

test('no apt-get: one line, exit 1', () => {
  const r = run({ uid: 0, apt: false, have: [] }, ['prometheus prometheus']);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    'system-deps: missing prometheus; cannot install prometheus: no apt-get on this machine; install them by hand',
  );
});

test('apt-get failing: exit 1 with a closing line', () => {
  const r = run({ uid: 0, apt: true, aptFails: true, have: [] }, ['prometheus prometheus']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /system-deps: apt-get could not install prometheus \(see above\)$/);
});
