// The differential script: the syscalls one run executes, in the line format the C helper reads
// (test/oracle/procfs-oracle.c documents it). The same ops are replayed through the engine.
//
// Every numeric argument is an unsigned 64-bit value held in a JS number. Scripts only use values
// a double holds exactly (all below 2^53, plus a few large ones such as 2^64 - 4096 and 2^63 for
// the overflow cases), so the helper and the engine see the same bits.

export type Op =
  | { op: 'mmap'; addr: number; len: number; prot: number; flags: number; fd: number; off: number }
  | { op: 'munmap'; addr: number; len: number }
  | { op: 'mprotect'; addr: number; len: number; prot: number }
  | { op: 'mremap'; addr: number; oldLen: number; newLen: number; flags: number; newAddr: number }
  | { op: 'brk'; addr: number }
  | { op: 'anon'; addr: number; len: number; name: string | null }
  | { op: 'fork' }
  | { op: 'forkchild' }
  | { op: 'unlink'; file: number }
  | { op: 'probe'; addr: number }
  | { op: 'touch'; addr: number; len: number; write: boolean }
  | { op: 'madvise'; addr: number; len: number; advice: number }
  | { op: 'check' };

export type OpKind = Op['op'];

/** mmap's fd argument: no file (MAP_ANONYMOUS or a deliberate EBADF). */
export const FD_NONE = -1;
/** A file index the helper maps to a descriptor that is not open: EBADF. */
export const FD_CLOSED = 99;
/** Number of test files the helper creates (indexes 0..3); the last is opened O_RDONLY. */
export const FILE_COUNT = 4;
export const FILE_RDONLY = 3;
export const FILE_PAGES = 16;

function hex(v: number): string {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** 64) {
    throw new RangeError(`script value ${v} is not an exact u64`);
  }
  return `0x${BigInt(v).toString(16)}`;
}

function hexBytes(s: string): string {
  return Buffer.from(s, 'latin1').toString('hex');
}

/** One op as a script line (no newline). */
export function formatOp(o: Op): string {
  switch (o.op) {
    case 'mmap':
      return `mmap ${hex(o.addr)} ${hex(o.len)} ${hex(o.prot)} ${hex(o.flags)} ${o.fd} ${hex(o.off)}`;
    case 'munmap':
      return `munmap ${hex(o.addr)} ${hex(o.len)}`;
    case 'mprotect':
      return `mprotect ${hex(o.addr)} ${hex(o.len)} ${hex(o.prot)}`;
    case 'mremap':
      return `mremap ${hex(o.addr)} ${hex(o.oldLen)} ${hex(o.newLen)} ${hex(o.flags)} ${hex(o.newAddr)}`;
    case 'brk':
      return `brk ${hex(o.addr)}`;
    case 'anon':
      return `anon ${hex(o.addr)} ${hex(o.len)} ${o.name === null ? '-' : hexBytes(o.name)}`;
    case 'fork':
      return 'fork';
    case 'forkchild':
      return 'forkchild';
    case 'unlink':
      return `unlink ${o.file}`;
    case 'probe':
      return `probe ${hex(o.addr)}`;
    case 'touch':
      return `touch ${hex(o.addr)} ${hex(o.len)} ${o.write ? 1 : 0}`;
    case 'madvise':
      return `madvise ${hex(o.addr)} ${hex(o.len)} ${hex(o.advice)}`;
    case 'check':
      return 'check';
  }
}

export function formatScript(ops: readonly Op[]): string {
  return ops.map((o) => `${formatOp(o)}\n`).join('');
}

function num(word: string | undefined, line: string): number {
  if (word === undefined) throw new SyntaxError(`script: missing argument in "${line}"`);
  const neg = word.startsWith('-');
  const body = neg ? word.slice(1) : word;
  const v = BigInt(body); // accepts 0x... and decimal
  const u = neg ? (1n << 64n) - v : v;
  const n = Number(u);
  if (BigInt(n) !== u) throw new RangeError(`script: ${word} is not exact as a double`);
  return n;
}

/** Parses script text (the inverse of formatScript; blank lines and `#` comments are skipped). */
export function parseScript(text: string): Op[] {
  const ops: Op[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const w = line.split(/\s+/);
    switch (w[0]) {
      case 'mmap':
        ops.push({
          op: 'mmap',
          addr: num(w[1], line),
          len: num(w[2], line),
          prot: num(w[3], line),
          flags: num(w[4], line),
          fd: Number.parseInt(w[5] ?? 'x', 10),
          off: num(w[6], line),
        });
        break;
      case 'munmap':
        ops.push({ op: 'munmap', addr: num(w[1], line), len: num(w[2], line) });
        break;
      case 'mprotect':
        ops.push({
          op: 'mprotect',
          addr: num(w[1], line),
          len: num(w[2], line),
          prot: num(w[3], line),
        });
        break;
      case 'mremap':
        ops.push({
          op: 'mremap',
          addr: num(w[1], line),
          oldLen: num(w[2], line),
          newLen: num(w[3], line),
          flags: num(w[4], line),
          newAddr: num(w[5], line),
        });
        break;
      case 'brk':
        ops.push({ op: 'brk', addr: num(w[1], line) });
        break;
      case 'anon':
        ops.push({
          op: 'anon',
          addr: num(w[1], line),
          len: num(w[2], line),
          name: w[3] === '-' ? null : Buffer.from(w[3] ?? '', 'hex').toString('latin1'),
        });
        break;
      case 'fork':
        ops.push({ op: 'fork' });
        break;
      case 'forkchild':
        ops.push({ op: 'forkchild' });
        break;
      case 'unlink':
        ops.push({ op: 'unlink', file: Number.parseInt(w[1] ?? 'x', 10) });
        break;
      case 'probe':
        ops.push({ op: 'probe', addr: num(w[1], line) });
        break;
      case 'touch':
        ops.push({
          op: 'touch',
          addr: num(w[1], line),
          len: num(w[2], line),
          write: num(w[3], line) !== 0,
        });
        break;
      case 'madvise':
        ops.push({
          op: 'madvise',
          addr: num(w[1], line),
          len: num(w[2], line),
          advice: num(w[3], line),
        });
        break;
      case 'check':
        ops.push({ op: 'check' });
        break;
      default:
        throw new SyntaxError(`script: unknown op in "${line}"`);
    }
  }
  return ops;
}

/** The ops of a prefix, with a final `check` so the state it leaves behind is compared too. */
export function prefixWithCheck(ops: readonly Op[], length: number): Op[] {
  const prefix = ops.slice(0, length);
  if (prefix.length === 0 || prefix[prefix.length - 1]!.op !== 'check')
    prefix.push({ op: 'check' });
  return prefix;
}
