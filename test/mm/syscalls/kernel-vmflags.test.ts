// The host kernel as the oracle for what maps cannot show: random scripts of mmap / munmap /
// mprotect / mremap inside an empty window run in a real process (vmflags-probe.c, compiled
// here with gcc) and in the engine; after every call the results and, for every VMA in the
// window, range, perms, offset, file and the VmFlags the engine models (rd wr ex sh mr mw me ms
// gd ac nr sf nh from /proc/self/smaps) must be equal. This catches VM_ACCOUNT / VM_NORESERVE /
// VM_MAYWRITE mistakes before they show up as a wrong merge in the maps differential test.
// A mismatch prints the script prefix that reproduces it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import { mmap, mprotect, mremap, munmap } from '../../../src/mm/syscalls/index.js';
import * as F from '../../../src/mm/vm-flags.js';
import { describeHost, hostCapabilities } from '../../differential/host-capabilities.js';
import { newMm } from './helpers.js';

const LO = 0x1000_0000_0000;
const HI = 0x1000_0100_0000;
const P = 4096;
const FILE_PAGES = 16;

function sourcePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'test', 'mm', 'syscalls', 'vmflags-probe.c');
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) throw new Error('vmflags-probe.c not found');
    dir = up;
  }
}

let work = '';
let probe = '';
let files: string[] = [];

before(() => {
  work = mkdtempSync(join(tmpdir(), 'vmflags-'));
  probe = join(work, 'vmflags-probe');
  execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', probe, sourcePath()]);
  files = [0, 1, 2, 3].map((i) => {
    const f = join(work, `f${i}`);
    writeFileSync(f, Buffer.alloc(FILE_PAGES * P, i + 1));
    return f;
  });
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Deterministic script generator (an LCG; same seed, same script). */
function script(seed: number, count: number): string[] {
  let s = seed;
  const rnd = (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor((s / 2147483648) * n);
  };
  const pick = <T>(a: T[]): T => a[rnd(a.length)];
  const addr = () => LO + rnd(48) * P;
  const len = () => pick([P, 2 * P, 3 * P, 4 * P, 8 * P, 0, P + 1, 16 * P]);
  const prot = () => pick([0, 1, 3, 3, 3, 5, 7, 4, 1, 8]);
  const ops: string[] = [];
  for (let i = 0; i < count; i++) {
    const k = rnd(10);
    if (k < 4) {
      const file = rnd(4) === 0 ? rnd(4) : -1;
      let flags = pick([0x02, 0x02, 0x02, 0x01]) | pick([0x10, 0x10, 0x100000, 0]);
      if (file < 0) flags |= 0x20;
      if (rnd(8) === 0) flags |= pick([0x100, 0x4000, 0x20000, 0x80000, 0x800, 0x2000, 0x8000]);
      const off = file >= 0 ? rnd(8) * P : 0;
      ops.push(`mmap ${addr()} ${len() || P} ${prot()} ${flags} ${file} ${off}`);
    } else if (k < 6) ops.push(`mprotect ${addr()} ${len()} ${prot()}`);
    else if (k < 8) ops.push(`munmap ${addr()} ${len()}`);
    else ops.push(`mremap ${addr()} ${len()} ${len() || P} ${pick([0, 1, 3, 7, 5, 2])} ${addr()}`);
  }
  return ops;
}

const FLAG_NAMES: Array<[number, string]> = [
  [F.VM_READ, 'rd'],
  [F.VM_WRITE, 'wr'],
  [F.VM_EXEC, 'ex'],
  [F.VM_SHARED, 'sh'],
  [F.VM_MAYREAD, 'mr'],
  [F.VM_MAYWRITE, 'mw'],
  [F.VM_MAYEXEC, 'me'],
  [F.VM_MAYSHARE, 'ms'],
  [F.VM_GROWSDOWN, 'gd'],
  [F.VM_LOCKED, 'lo'],
  [F.VM_ACCOUNT, 'ac'],
  [F.VM_NORESERVE, 'nr'],
  [F.VM_SYNC, 'sf'],
  [F.VM_NOHUGEPAGE, 'nh'],
];
const MODELED = new Set(FLAG_NAMES.map(([, n]) => n));

function kernelLine(line: string, paths: string[]): string {
  const [head, vmflags] = line.split(' |');
  const w = head.split(' ');
  const path = w[5] === '-' ? '-' : paths.includes(w[5]) ? `f${paths.indexOf(w[5])}` : 'shmem';
  const off = path === '-' ? '0' : w[4];
  const flags = vmflags
    .trim()
    .split(/\s+/)
    .filter((f) => MODELED.has(f))
    .join(' ');
  return `${w[1]} ${w[2]} ${w[3]} ${off} ${path} | ${flags}`;
}

function engineLines(mm: MmStruct, fileIds: number[]): string[] {
  const out: string[] = [];
  mm.index.forEach(LO, (s, e, id) => {
    if (s >= HI) return false;
    const f = mm.vmas.flags(id);
    const perms =
      (f & F.VM_READ ? 'r' : '-') +
      (f & F.VM_WRITE ? 'w' : '-') +
      (f & F.VM_EXEC ? 'x' : '-') +
      (f & F.VM_MAYSHARE ? 's' : 'p');
    const file = mm.vmas.file(id);
    const path = file === 0 ? '-' : fileIds.includes(file) ? `f${fileIds.indexOf(file)}` : 'shmem';
    const off = file === 0 ? '0' : (mm.vmas.pgoff(id) * P).toString(16);
    const names = FLAG_NAMES.filter(([b]) => f & b).map(([, n]) => n);
    out.push(`${s.toString(16)} ${e.toString(16)} ${perms} ${off} ${path} | ${names.join(' ')}`);
    return true;
  });
  return out;
}

function inWindow(r: number): string {
  if (r < 0) return `${r}`;
  return r === 0 || (r >= LO && r < HI) ? r.toString(16) : 'elsewhere';
}

// The engine is the machine the probe runs on: protection keys and the zero page as the host has
// them (host-capabilities.ts asks the kernel and prints what it found).
const host = await hostCapabilities();
const machine = { pkeys: host.pkeys, noZeroPage: !host.zeroPage };

test('the host these scripts run on', (t) => {
  for (const l of describeHost(host)) t.diagnostic(l);
});

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`kernel VmFlags agree with the engine, seed ${seed}`, () => {
    const ops = script(seed, 120);
    const text = ops.map((o) => `${o}\ndump\n`).join('');
    const out = execFileSync(probe, files, { input: text }).toString().split('\n');
    const mm = newMm(65_530, undefined, machine);
    const fileIds = files.map((p, i) =>
      mm.files.intern({ path: p, devMajor: 254, devMinor: 0, inode: 1000 + i }),
    );
    let li = 0;
    for (let i = 0; i < ops.length; i++) {
      const w = ops[i].split(' ');
      const a = w.slice(1).map(Number);
      let r: number;
      if (w[0] === 'mmap') {
        const fi = a[4];
        const file = { fileId: fileIds[fi], offset: a[5], writable: fi % 2 === 0 };
        r = fi < 0 ? mmap(mm, a[0], a[1], a[2], a[3]) : mmap(mm, a[0], a[1], a[2], a[3], file);
      } else if (w[0] === 'munmap') r = munmap(mm, a[0], a[1]);
      else if (w[0] === 'mprotect') r = mprotect(mm, a[0], a[1], a[2]);
      else r = mremap(mm, a[0], a[1], a[2], a[3], a[4]);
      const kr = out[li++].slice(2);
      const kval = kr.startsWith('-') ? Number(kr) : Number.parseInt(kr, 16);
      const kernel: string[] = [];
      while (out[li] !== 'E') kernel.push(kernelLine(out[li++], files));
      li++;
      const engine = engineLines(mm, fileIds);
      const where = `seed ${seed}, op ${i}; script:\n${ops.slice(0, i + 1).join('\n')}`;
      assert.equal(inWindow(r), inWindow(kval), `result differs at ${where}`);
      assert.deepEqual(engine, kernel, `layout differs at ${where}`);
    }
  });
}
