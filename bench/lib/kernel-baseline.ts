/**
 * The host kernel's side of the engine benchmark: builds bench/kernel/kbench.c with gcc and runs
 * it for an N-VMA layout. Returns the layout's maps text (so the engine can import the identical
 * layout) and the kernel's figures, measured in this run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KernelFigures {
  vmas: number;
  maps_ns_per_line: number;
  query_ns: number;
  mmap_munmap_ns: number;
  mprotect_ns: number;
}

export interface KernelRun {
  mapsText: string;
  figures: KernelFigures;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

let built: { bin: string; file: string } | undefined;

/** Builds kbench (kbench.c + kbench-pairs.c) once per process; returns the binary and a file. */
export function buildKbench(): { bin: string; file: string } {
  if (built) return built;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'procfs-sim-kbench-'));
  const bin = path.join(dir, 'kbench');
  const src = (f: string) => path.join(repoRoot, 'bench/kernel', f);
  execFileSync('gcc', ['-O2', '-pthread', '-o', bin, src('kbench.c'), src('kbench-pairs.c')]);
  const file = path.join(dir, 'mapped-file');
  writeFileSync(file, Buffer.alloc(64 * 1024));
  built = { bin, file };
  return built;
}

/** Runs the kernel benchmark with about `vmas` VMAs and `reps` repetitions (median reported). */
export function runKernelBaseline(vmas: number, reps: number): KernelRun {
  const { bin, file } = buildKbench();
  const out = execFileSync(bin, [String(vmas), String(reps), file], {
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'latin1',
  });
  const marker = '--END-MAPS--\n';
  const cut = out.indexOf(marker);
  if (cut < 0) throw new Error('kbench printed no maps marker');
  const mapsText = out.slice(0, cut);
  const figures = JSON.parse(out.slice(cut + marker.length)) as KernelFigures;
  return { mapsText, figures };
}
