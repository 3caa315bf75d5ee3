// Builds the kernel-oracle helper (procfs-oracle.c) with gcc at test time and runs scripts in it.
//
// The binary goes to test/oracle/build/ (gitignored) in the source tree, not dist/, so the compiled
// tests and the tsx-run tests share one build. Several test files may build at once (node --test
// runs files in parallel): each compiles to a private temporary name and renames it into place,
// which is atomic, so a reader never sees a half-written binary.

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * The repository root: the nearest ancestor of this file (under test/ or dist/test/) that holds
 * the helper's C source (dist/ may hold a package.json too, but never the .c file).
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'test', 'oracle', 'procfs-oracle.c'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('procfs-oracle: repository root not found');
    dir = up;
  }
}

export const ORACLE_SOURCE = join(repoRoot(), 'test', 'oracle', 'procfs-oracle.c');
/** Everything the binary is built from (the .c includes the headers). */
const ORACLE_SOURCES = [
  'procfs-oracle.c',
  'oracle-sys.h',
  'oracle-query.h',
  'oracle-proc-files.h',
  'oracle-memory.h',
  'oracle-script-parse.h',
].map((f) => join(repoRoot(), 'test', 'oracle', f));
export const ORACLE_BUILD_DIR = join(repoRoot(), 'test', 'oracle', 'build');
export const ORACLE_BINARY = join(ORACLE_BUILD_DIR, 'procfs-oracle');

let building: Promise<string> | undefined;

/** Compile the helper unless an up-to-date binary exists. Resolves to the binary's path. */
export function buildOracle(): Promise<string> {
  building ??= (async () => {
    const newestSource = Math.max(...ORACLE_SOURCES.map((f) => statSync(f).mtimeMs));
    if (existsSync(ORACLE_BINARY) && statSync(ORACLE_BINARY).mtimeMs >= newestSource) {
      return ORACLE_BINARY;
    }
    mkdirSync(ORACLE_BUILD_DIR, { recursive: true });
    const tmp = `${ORACLE_BINARY}.${process.pid}.tmp`;
    try {
      await execFileAsync('gcc', [
        '-static',
        '-O2',
        '-fno-stack-protector',
        '-Wall',
        '-Werror',
        '-o',
        tmp,
        ORACLE_SOURCE,
      ]);
    } catch (err) {
      rmSync(tmp, { force: true });
      const e = err as { stderr?: string; message: string };
      throw new Error(`procfs-oracle: gcc failed: ${e.stderr ?? e.message}`);
    }
    await rename(tmp, ORACLE_BINARY);
    return ORACLE_BINARY;
  })();
  return building;
}

/** One helper run: the transcript it printed and the directory its test files lived in. */
export interface OracleRun {
  stdout: string;
  /** realpath of the temporary directory given to the helper (paths in maps are under it). */
  dir: string;
}

/** V8's longest string: the transcript is read as one. */
export const MAX_TRANSCRIPT_BYTES = 0x1fffffe8;

/**
 * Run `script` in a fresh helper process. The helper's test files live in a temporary directory
 * that is removed afterwards (the transcript still names it; the engine side uses the same name).
 * A transcript longer than `maxBytes` (a very long script: every checkpoint prints maps, smaps
 * and status whole) stops the helper and rejects with an error that says so, rather than
 * crashing the test process when the string cannot be made.
 */
export async function runOracle(
  script: string,
  maxBytes = MAX_TRANSCRIPT_BYTES,
): Promise<OracleRun> {
  const built = await buildOracle();
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'procfs-oracle-')));
  try {
    const binary = built;
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn(binary, [dir], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let bytes = 0;
      child.stdout.on('data', (b: Buffer) => {
        bytes += b.length;
        if (bytes <= maxBytes) out.push(b);
        else if (!child.killed) child.kill('SIGKILL');
      });
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (bytes > maxBytes) {
          const limit = maxBytes.toLocaleString('en');
          reject(
            new Error(
              `procfs-oracle printed more than ${limit} bytes (longer than a JS string may be) and was stopped: use a shorter script (random scripts: DIFF_OPS up to ~12,000)`,
            ),
          );
          return;
        }
        const text = Buffer.concat(out).toString('latin1');
        if (code === 0) resolve(text);
        else {
          const tail = text.slice(-400);
          reject(
            new Error(
              `procfs-oracle exited with ${code ?? signal}: ${Buffer.concat(err).toString()}${tail}`,
            ),
          );
        }
      });
      child.stdin.on('error', () => {
        // The helper died before reading all input; 'close' reports why.
      });
      child.stdin.end(script);
    });
    return { stdout, dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
