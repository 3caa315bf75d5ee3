/**
 * /proc/PID/status in Linux 6.18's order and format (fs/proc/array.c `proc_pid_status`,
 * fs/proc/task_mmu.c `task_mem`).
 *
 * - The memory lines (`VmPeak` … `VmSwap`, `RssAnon`/`RssFile`/`RssShmem`, `HugetlbPages`) are
 *   computed from the address space: the VMA counters (`total_vm`, `data_vm`, `stack_vm`,
 *   `exec_vm`, `locked_vm`, which `vm_stat_account()` keeps equal to sums over the VMAs) are
 *   summed over the VMAs under the mmap read lock, and the RSS counters come from the page state.
 *   `VmExe`/`VmLib` split `exec_vm` at the code segment (`start_code`/`end_code`) as the kernel
 *   does. `VmHWM` is the page state's high-water mark (hiwater_rss, kept where the kernel
 *   updates it); `VmPeak` is max(hiwater_vm, total_vm) (get_mm_hiwater_vm), hiwater_vm being
 *   raised where the kernel raises it (syscalls/vma-munmap.ts).
 * - Every other line is what a tool parsing status expects to find, with simulated values:
 *   Name (the process's comm, escaped like the kernel), Pid/Tgid/NSpid… (its pid), PPid (its
 *   parent's pid for a fork child, else 0), a sleeping single-threaded process of user and
 *   group 1000 with no signals, capabilities, seccomp or context switches, one CPU and one
 *   memory node.
 */
import type { MmStruct } from '../mm/mm-struct.js';
import { mmRss } from '../mm/pages/page-counts.js';
import { VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_SHARED, VM_WRITE } from '../mm/vm-flags.js';
import type { ByteSink } from './byte-sink.js';
import { asciiBytes, writeBytes, writeDecimal } from './hex.js';
import { writeWidth } from './smaps-block.js';
import type { ReaderContext } from './strategies/reader-context.js';

/** Who the process is (the process table's view; the address space does not know). */
export interface StatusIdentity {
  pid: number;
  /** 0 when the process was not forked from another simulated one. */
  ppid: number;
  comm: string;
}

/** task_mem()'s inputs: the VMA counters in pages (as the mm keeps them), RSS in bytes. */
export class VmCounters {
  total = 0;
  data = 0;
  stack = 0;
  exec = 0;
  locked = 0;
  rssAnon = 0;
  rssFile = 0;
  rssShmem = 0;
  /** hiwater_vm (pages) before the max with total. */
  hiwaterVm = 0;
  /** hiwater_rss (bytes) before the max with the current RSS. */
  hiwaterRss = 0;
  /** Page-table bytes (mm_pgtables_bytes). */
  pgtablesBytes = 0;
}

/** vm_stat_account() summed over the VMAs. Caller holds the mmap read lock. */
export function sumVmCounters(mm: MmStruct, out: VmCounters): void {
  out.total = out.data = out.stack = out.exec = out.locked = 0;
  const c = mm.index.cursor();
  const t = mm.vmas;
  for (let ok = c.seek(0); ok; ok = c.next()) {
    const pages = (c.end - c.start) / 4096;
    const f = t.flags(c.id);
    out.total += pages;
    if ((f & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) === VM_EXEC) out.exec += pages;
    else if (f & VM_GROWSDOWN) out.stack += pages;
    else if ((f & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) === VM_WRITE) out.data += pages;
    if (f & VM_LOCKED) out.locked += pages;
  }
  out.hiwaterVm = mm.hiwaterVm;
  const rss = mmRss(mm);
  out.rssAnon = rss.anon;
  out.rssFile = rss.file;
  out.rssShmem = rss.shmem;
  out.hiwaterRss = rss.hiwaterRss;
  out.pgtablesBytes = rss.pageTableBytes;
}

/** Reads the counters of `mm` under its mmap read lock, timed on `ctx` (the read begun there). */
export function readVmCounters(ctx: ReaderContext, mm: MmStruct, out: VmCounters): void {
  ctx.mmapReadLock(mm);
  try {
    sumVmCounters(mm, out);
  } finally {
    ctx.mmapReadUnlock(mm);
  }
}

const TAB_KB_LABELS = [
  'VmPeak:\t',
  'VmSize:\t',
  'VmLck:\t',
  'VmPin:\t',
  'VmHWM:\t',
  'VmRSS:\t',
  'RssAnon:\t',
  'RssFile:\t',
  'RssShmem:\t',
  'VmData:\t',
  'VmStk:\t',
  'VmExe:\t',
  'VmLib:\t',
  'VmPTE:\t',
  'VmSwap:\t',
  'HugetlbPages:\t',
].map(asciiBytes);
const KB_EOL = asciiBytes(' kB\n');

/** `task_mem()` (and hugetlb_report_usage's line): the memory lines, values in kB. */
export function writeTaskMem(sink: ByteSink, mm: MmStruct, v: VmCounters): void {
  const rss = v.rssAnon + v.rssFile + v.rssShmem;
  const hiwaterRss = Math.max(v.hiwaterRss, rss);
  const totalBytes = v.exec * 4096;
  // text = PAGE_ALIGN(end_code) - (start_code & PAGE_MASK), at most exec_vm; lib = the rest.
  const codeStart = mm.startCode - (mm.startCode % 4096);
  const codeEnd = Math.ceil(mm.endCode / 4096) * 4096;
  const text = Math.min(Math.max(codeEnd - codeStart, 0), totalBytes);
  const kb = [
    Math.max(v.hiwaterVm, v.total) * 4,
    v.total * 4,
    v.locked * 4,
    0,
    Math.floor(hiwaterRss / 1024),
    Math.floor(rss / 1024),
    Math.floor(v.rssAnon / 1024),
    Math.floor(v.rssFile / 1024),
    Math.floor(v.rssShmem / 1024),
    v.data * 4,
    v.stack * 4,
    Math.floor(text / 1024),
    Math.floor((totalBytes - text) / 1024),
    Math.floor(v.pgtablesBytes / 1024),
    0,
    0,
  ];
  sink.reserve(16 * 40);
  const b = sink.bytes;
  let p = sink.length;
  for (let i = 0; i < kb.length; i++) {
    p = writeWidth(b, p, TAB_KB_LABELS[i], kb[i], 8);
    p = writeBytes(b, p, KB_EOL, 0, KB_EOL.length);
  }
  sink.length = p;
}

/** Appends constant text. */
function put(sink: ByteSink, s: string): void {
  sink.reserve(s.length);
  const b = sink.bytes;
  let p = sink.length;
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i) & 0xff;
  sink.length = p;
}

function putDecimal(sink: ByteSink, v: number): void {
  sink.reserve(20);
  sink.length = writeDecimal(sink.bytes, sink.length, v);
}

/** `proc_task_name(escape = true)`: seq_escape_str(comm, ESCAPE_SPACE | ESCAPE_SPECIAL, "\n\\"). */
function putComm(sink: ByteSink, comm: string): void {
  const bytes = Buffer.from(comm, 'utf8').subarray(0, 15); // TASK_COMM_LEN - 1
  for (const c of bytes) {
    if (c === 0x0a) put(sink, '\\n');
    else if (c === 0x5c) put(sink, '\\\\');
    else {
      sink.reserve(1);
      sink.bytes[sink.length++] = c;
    }
  }
}

const SIGSET = '0000000000000000';
/** MAX_NUMNODES = 1024 bits of the node mask, node 0 set (as on a one-node x86-64 machine). */
const MEMS_ALLOWED = `${'00000000,'.repeat(31)}00000001`;

/** The whole status file of a process whose counters are `v`. */
export function writeStatus(sink: ByteSink, id: StatusIdentity, mm: MmStruct, v: VmCounters): void {
  put(sink, 'Name:\t');
  putComm(sink, id.comm);
  put(sink, '\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t');
  putDecimal(sink, id.pid);
  put(sink, '\nNgid:\t0\nPid:\t');
  putDecimal(sink, id.pid);
  put(sink, '\nPPid:\t');
  putDecimal(sink, id.ppid);
  put(
    sink,
    '\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nFDSize:\t64\nGroups:\t \n',
  );
  for (const ns of ['NStgid', 'NSpid', 'NSpgid', 'NSsid']) {
    put(sink, `${ns}:\t`);
    putDecimal(sink, id.pid);
    put(sink, '\n');
  }
  put(sink, 'Kthread:\t0\n');
  writeTaskMem(sink, mm, v);
  put(
    sink,
    'CoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\nThreads:\t1\n' +
      `SigQ:\t0/63704\nSigPnd:\t${SIGSET}\nShdPnd:\t${SIGSET}\nSigBlk:\t${SIGSET}\n` +
      `SigIgn:\t${SIGSET}\nSigCgt:\t${SIGSET}\nCapInh:\t${SIGSET}\nCapPrm:\t${SIGSET}\n` +
      `CapEff:\t${SIGSET}\nCapBnd:\t000001ffffffffff\nCapAmb:\t${SIGSET}\nNoNewPrivs:\t0\n` +
      'Seccomp:\t0\nSeccomp_filters:\t0\nSpeculation_Store_Bypass:\tvulnerable\n' +
      'SpeculationIndirectBranch:\talways enabled\nCpus_allowed:\t1\nCpus_allowed_list:\t0\n' +
      `Mems_allowed:\t${MEMS_ALLOWED}\nMems_allowed_list:\t0\n` +
      'voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n',
  );
}
