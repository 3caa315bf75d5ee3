/**
 * Parser of /proc/PID/maps text into plain line records (the first half of import-maps.ts).
 * Accepts what Linux prints (and is lenient where the kernel's own bytes cannot be ambiguous:
 * any run of spaces before the name, a missing trailing space on unnamed lines, a missing final
 * newline). Everything else is a `MapsParseError` naming the 1-based line.
 *
 * Names are classified, not interpreted: the importer decides what each kind becomes.
 */
import { EINVAL } from './errno.js';

export const KIND_ANON = 0; // no name
export const KIND_PATH = 1; // a file: d_path output (starts with '/' or a pseudo-fs prefix)
export const KIND_HEAP = 2; // [heap]
export const KIND_STACK = 3; // [stack]
export const KIND_ANON_NAME = 4; // [anon:NAME]
export const KIND_ANON_SHMEM = 5; // [anon_shmem:NAME]
export const KIND_SPECIAL = 6; // any other [name]: [vdso], [vvar], [vvar_vclock], [uprobes], ...
export const KIND_GATE = 7; // [vsyscall] at the gate address

export const GATE_START = 0xffffffffff600000;
export const GATE_END = 0xffffffffff601000;

export interface MapsLine {
  /** 1-based line number in the text. */
  lineNo: number;
  start: number;
  end: number;
  read: boolean;
  write: boolean;
  exec: boolean;
  /** 's' (VM_MAYSHARE) rather than 'p'. */
  shared: boolean;
  /** Byte offset as printed (pgoff << 12). */
  offset: number;
  devMajor: number;
  devMinor: number;
  inode: number;
  kind: number;
  /**
   * KIND_PATH: the path with `\012` unescaped and ` (deleted)` removed; KIND_ANON_NAME /
   * KIND_ANON_SHMEM: the NAME inside the brackets; KIND_SPECIAL / KIND_GATE: the whole name
   * including brackets; otherwise ''.
   */
  name: string;
  /** KIND_PATH only: the name ended in " (deleted)". */
  deleted: boolean;
}

export class MapsParseError extends Error {
  readonly errno = EINVAL;
  constructor(
    readonly lineNo: number,
    reason: string,
    readonly line: string,
  ) {
    super(`maps line ${lineNo}: ${reason}: ${JSON.stringify(line.slice(0, 200))}`);
    this.name = 'MapsParseError';
  }
}

// start-end perms offset major:minor inode [name]
const LINE_RE =
  /^([0-9a-f]{1,16})-([0-9a-f]{1,16}) ([r-])([w-])([x-])([sp]) ([0-9a-f]{1,16}) ([0-9a-f]{1,8}):([0-9a-f]{1,8}) ([0-9]{1,20})(?: +(.*))?$/;
const DELETED = ' (deleted)';

function hexToNumber(s: string, lineNo: number, line: string, what: string): number {
  const v = Number.parseInt(s, 16);
  // Values past 2^53 lose precision; only the gate's addresses are that large and they are
  // multiples of 4096 (exact).
  if (!Number.isFinite(v)) throw new MapsParseError(lineNo, `bad ${what}`, line);
  return v;
}

/** Undoes mangle_path(): `\NNN` octal escapes (the kernel only emits `\012`). */
function unescapePath(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\([0-3][0-7][0-7])/g, (_, oct: string) =>
    String.fromCharCode(Number.parseInt(oct, 8)),
  );
}

function classify(name: string): { kind: number; name: string; deleted: boolean } {
  if (name === '') return { kind: KIND_ANON, name: '', deleted: false };
  if (name.startsWith('[') && name.endsWith(']')) {
    if (name === '[heap]') return { kind: KIND_HEAP, name: '', deleted: false };
    if (name === '[stack]') return { kind: KIND_STACK, name: '', deleted: false };
    if (name.startsWith('[anon_shmem:'))
      return { kind: KIND_ANON_SHMEM, name: name.slice(12, -1), deleted: false };
    if (name.startsWith('[anon:'))
      return { kind: KIND_ANON_NAME, name: name.slice(6, -1), deleted: false };
    if (name === '[vsyscall]') return { kind: KIND_GATE, name, deleted: false };
    return { kind: KIND_SPECIAL, name, deleted: false };
  }
  // Anything else is d_path() output of a file (paths, "/dev/zero (deleted)", "/memfd:x
  // (deleted)", "anon_inode:[perf_event]", ...).
  const deleted = name.endsWith(DELETED);
  const path = deleted ? name.slice(0, -DELETED.length) : name;
  return { kind: KIND_PATH, name: unescapePath(path), deleted };
}

/** Parses one line (without its newline). */
export function parseMapsLine(line: string, lineNo: number): MapsLine {
  const m = LINE_RE.exec(line);
  if (m === null) throw new MapsParseError(lineNo, 'not a maps line', line);
  const start = hexToNumber(m[1], lineNo, line, 'start address');
  const end = hexToNumber(m[2], lineNo, line, 'end address');
  const c = classify(m[11] ?? '');
  return {
    lineNo,
    start,
    end,
    read: m[3] === 'r',
    write: m[4] === 'w',
    exec: m[5] === 'x',
    shared: m[6] === 's',
    offset: hexToNumber(m[7], lineNo, line, 'offset'),
    devMajor: Number.parseInt(m[8], 16),
    devMinor: Number.parseInt(m[9], 16),
    inode: Number(m[10]),
    kind: c.kind,
    name: c.name,
    deleted: c.deleted,
  };
}

/**
 * Splits and parses a whole maps text. Blank lines are refused (the kernel never prints one),
 * except that a final newline ends the text.
 */
export function parseMaps(text: string): MapsLine[] {
  const raw = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (raw === '') return [];
  const lines = raw.split('\n');
  const out: MapsLine[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '') throw new MapsParseError(i + 1, 'empty line', '');
    out[i] = parseMapsLine(lines[i], i + 1);
  }
  return out;
}
