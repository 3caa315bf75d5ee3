/**
 * The maps text must satisfy the parsing rules of real clients (ecosystem.md §2). Each parser
 * below follows one client's rule exactly (and is as strict as it is), and its fields are checked
 * against the engine's PROCMAP_QUERY answers for the same address space.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importMaps } from '../../src/mm/import-maps.js';
import { MmGlobals, type MmStruct } from '../../src/mm/mm-struct.js';
import { buildTemplate, TEMPLATE_NAMES } from '../../src/mm/templates/index.js';
import { readWholeMaps } from '../../src/procfs/maps-text.js';
import {
  PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
  ProcmapQueryResult,
  procmapQuery,
  queryArgs,
} from '../../src/procfs/procmap-query.js';
import { directMapsWalker, directQueryTarget } from '../../src/procfs/vma-capture.js';
import { REAL_MAPS, readFixture } from './fake-vmas.js';

interface Parsed {
  start: number;
  end: number;
  offset: number;
  major: number;
  minor: number;
  inode: number;
  path: string;
}

/** eminence/procfs `MemoryMap::from_line`: `splitn(6, ' ')`, every part required. */
function rustProcfs(line: string): Parsed {
  const parts: string[] = [];
  let rest = line;
  while (parts.length < 5) {
    const i = rest.indexOf(' ');
    if (i < 0) break;
    parts.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  parts.push(rest);
  if (parts.length !== 6) throw new Error(`rust procfs: ${parts.length} parts in ${line}`);
  const [range, perms, off, dev, ino, path] = parts;
  const [s, e] = range.split('-');
  const [ma, mi] = dev.split(':');
  if (perms.length !== 4 || !/^\d+$/.test(ino)) throw new Error('rust procfs: bad field');
  for (const h of [s, e, off, ma, mi]) if (!/^[0-9a-f]+$/.test(h)) throw new Error('rust: hex');
  return {
    start: Number.parseInt(s, 16),
    end: Number.parseInt(e, 16),
    offset: Number.parseInt(off, 16),
    major: Number.parseInt(ma, 16),
    minor: Number.parseInt(mi, 16),
    inode: Number(ino),
    path: path.trim(),
  };
}

/** chromium base/debug/proc_maps_linux.cc: sscanf("%lx-%lx %4c %llx %hhx:%hhx %ld %n"). */
function chromium(text: string): Parsed[] {
  const lines = text.split('\n');
  // "Last line not empty": the input must end with a newline.
  if (lines[lines.length - 1] !== '') throw new Error('chromium: last line not empty');
  lines.pop();
  return lines.map((line) => {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (.{4}) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (-?\d+)\s*/.exec(
      line,
    );
    if (!m) throw new Error(`chromium: sscanf failed on ${line}`);
    const p = m[3];
    if (!/^[r-][w-][x-][psS]$/.test(p)) throw new Error(`chromium: perms ${p}`);
    const major = Number.parseInt(m[5], 16);
    const minor = Number.parseInt(m[6], 16);
    if (major > 0xff || minor > 0xff) throw new Error('chromium: %hhx overflow');
    return {
      start: Number.parseInt(m[1], 16),
      end: Number.parseInt(m[2], 16),
      offset: Number.parseInt(m[4], 16),
      major,
      minor,
      inode: Number(m[7]),
      path: line.slice(m[0].length),
    };
  });
}

/** prometheus/procfs proc_maps.go: `strings.Fields`, at least 5 fields. */
function prometheus(line: string): Parsed {
  const f = line.split(/[ \t\n\v\f\r]+/).filter((x) => x !== '');
  if (f.length < 5) throw new Error('prometheus: fewer than 5 fields');
  const [s, e] = f[0].split('-');
  if (f[1].length < 4) throw new Error('prometheus: perms');
  const [ma, mi] = f[3].split(':');
  return {
    start: Number.parseInt(s, 16),
    end: Number.parseInt(e, 16),
    offset: Number.parseInt(f[2], 16),
    major: Number.parseInt(ma, 16),
    minor: Number.parseInt(mi, 16),
    inode: Number.parseInt(f[4], 10),
    path: f.slice(5).join(' '),
  };
}

/** libbpf/blazesym src/maps.rs: trim, repeated split_once(whitespace), ` (deleted)` stripped. */
function blazesym(line: string): Parsed | null {
  const t = line.trim();
  if (t === '') return null;
  const next = (s: string): [string, string] => {
    const m = /[ \t\n\f\r]/.exec(s);
    if (!m) return [s, ''];
    return [s.slice(0, m.index), s.slice(m.index + 1).replace(/^[ \t\n\f\r]+/, '')];
  };
  const [range, r1] = next(t);
  const [, r2] = next(r1); // mode: fold of the 4 chars, c != '-'
  const [off, r3] = next(r2);
  const [dev, r4] = next(r3);
  if (dev === '') throw new Error('blazesym: missing dev');
  const [ino, rest] = next(r4);
  const [s, e] = range.split('-');
  let path = rest.trim();
  if (path.endsWith(' (deleted)')) path = path.slice(0, -' (deleted)'.length);
  return {
    start: Number.parseInt(s, 16),
    end: Number.parseInt(e, 16),
    offset: Number.parseInt(off, 16),
    major: 0,
    minor: 0,
    inode: Number(ino),
    path,
  };
}

const globals = MmGlobals.create({ maxFiles: 8192, fileHeapBytes: 2 << 20, anonNameSlots: 256 });

/** The engine's own view of each VMA, through PROCMAP_QUERY (a different path than the text). */
function queried(mm: MmStruct): Parsed[] {
  const out: Parsed[] = [];
  const r = new ProcmapQueryResult();
  const target = directQueryTarget(mm);
  for (
    let a = 0;
    procmapQuery(queryArgs(a, PROCMAP_QUERY_COVERING_OR_NEXT_VMA, true, false), target, r) === 0;
  ) {
    out.push({
      start: r.vmaStart,
      end: r.vmaEnd,
      offset: r.vmaOffset,
      major: r.devMajor,
      minor: r.devMinor,
      inode: r.inode,
      path: r.nameString() ?? '',
    });
    a = r.vmaEnd;
  }
  return out;
}

function checkClients(mm: MmStruct, what: string): void {
  const text = Buffer.from(readWholeMaps(directMapsWalker(mm))).toString('latin1');
  const want = queried(mm);
  const lines = text.split('\n').slice(0, -1);
  assert.equal(lines.length, want.length + 1, `${what}: lines = VMAs + gate`);
  const chrome = chromium(text);
  lines.forEach((line, i) => {
    const w = want[i] ?? {
      start: 0xffffffffff600000,
      end: 0xffffffffff601000,
      offset: 0,
      major: 0,
      minor: 0,
      inode: 0,
      path: '[vsyscall]',
    };
    const raw = w.path.replaceAll('\n', '\\012');
    for (const [client, p] of [
      ['rust', rustProcfs(line)],
      ['chromium', chrome[i]],
      ['prometheus', prometheus(line)],
    ] as const) {
      assert.equal(p.start, w.start, `${what} ${client} line ${i + 1}`);
      assert.equal(p.end, w.end);
      assert.equal(p.offset, w.offset);
      assert.equal(p.major, w.major);
      assert.equal(p.minor, w.minor);
      assert.equal(p.inode, w.inode);
      const expectPath =
        client === 'prometheus' ? raw.split(/ +/).filter(Boolean).join(' ') : raw.trim();
      assert.equal(p.path, expectPath, `${what} ${client} line ${i + 1}`);
    }
    const b = blazesym(line);
    assert.ok(b);
    assert.equal(b.start, w.start);
    assert.equal(b.inode, w.inode);
    assert.equal(b.path, raw.trim().replace(/ \(deleted\)$/, ''));
  });
}

for (const name of REAL_MAPS) {
  test(`real ${name} through the engine satisfies Rust procfs, Chromium, prometheus, blazesym`, () => {
    checkClients(importMaps(readFixture(name), { globals, maxVmas: 4096 }), name);
  });
}

for (const name of TEMPLATE_NAMES) {
  test(`template ${name} satisfies Rust procfs, Chromium, prometheus, blazesym`, () => {
    for (const seed of [3, 4])
      checkClients(buildTemplate(name, { seed, globals, maxVmas: 4096 }), name);
  });
}

test('the client parsers are as strict as the clients (controls)', () => {
  const anon = '7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ';
  assert.doesNotThrow(() => rustProcfs(anon));
  assert.throws(() => rustProcfs(anon.trimEnd()), /5 parts/);
  assert.throws(() => chromium(anon), /last line not empty/);
  assert.throws(() => chromium(`${anon.replace('rw-p', 'rw-x')}\n`), /perms/);
  assert.throws(() => prometheus('7f0000000000-7f0000001000 rw-p 00000000 00:00'), /5 fields/);
  assert.equal(blazesym(''), null);
});
