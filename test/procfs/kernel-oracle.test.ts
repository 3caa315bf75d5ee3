/**
 * The host kernel as the oracle for the readers: oracle/query-oracle.c (compiled here with gcc)
 * prints its own /proc/self/maps, the sizes of successive 4 KiB reads of it, and the outcome of
 * PROCMAP_QUERY cases. The engine imports the same text and must give the same chunk boundaries
 * and the same errno / fields for every case.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { importMaps } from '../../src/mm/import-maps.js';
import { MmGlobals } from '../../src/mm/mm-struct.js';
import { MapsCursor } from '../../src/procfs/maps-text.js';
import { ProcmapQueryResult, procmapQuery } from '../../src/procfs/procmap-query.js';
import { directMapsWalker, directQueryTarget } from '../../src/procfs/vma-capture.js';
import { FIXTURES, sameText } from './fake-vmas.js';

function runOracle(): string {
  const dir = mkdtempSync(join(tmpdir(), 'procfs-query-oracle-'));
  const bin = join(dir, 'query-oracle');
  const src = join(FIXTURES, '..', 'procfs', 'oracle', 'query-oracle.c');
  execFileSync('gcc', ['-O2', '-o', bin, src]);
  return execFileSync(bin, { encoding: 'latin1', maxBuffer: 1 << 24 });
}

const output = runOracle();
const [mapsText, report] = output.split('--END-MAPS--\n');
const mm = importMaps(mapsText, {
  globals: MmGlobals.create({ maxFiles: 256, fileHeapBytes: 1 << 16, anonNameSlots: 16 }),
  maxVmas: 4096,
});

test('the host process maps imports and renders byte for byte', () => {
  const c = new MapsCursor(0);
  c.readChunk(directMapsWalker(mm));
  sameText(Buffer.from(c.chunk()).toString('latin1'), mapsText);
});

test('4 KiB reads: the same chunk boundaries as the kernel (whole lines, < 4096 bytes)', () => {
  const lines = report.split('\n').filter((l) => l.startsWith('chunks '));
  assert.equal(lines.length, 2);
  for (const line of lines) {
    const [, , ...sizes] = line.split(' ').map(Number);
    assert.ok(sizes.length >= 3, 'the layout spans several reads');
    const cursor = new MapsCursor(4096); // the seq_file buffer is one page whatever the read size
    const walker = directMapsWalker(mm);
    const got: number[] = [];
    for (let n = cursor.readChunk(walker); n > 0; n = cursor.readChunk(walker)) got.push(n);
    assert.deepEqual(got, sizes, line);
  }
});

// case NAME ADDR FLAGS SIZE NAMESZ NAMEADDR BIDSZ BIDADDR TAILNZ -> ERRNO START END NAMEOUT BIDOUT NAME
const cases = report.split('\n').filter((l) => l.startsWith('case '));

test('PROCMAP_QUERY: errno and answers equal the kernel for every case', () => {
  assert.ok(cases.length >= 25);
  const target = directQueryTarget(mm);
  for (const line of cases) {
    const [lhs, rhs] = line.split(' -> ');
    const f = lhs.split(' ');
    const name = f[1];
    const hex = (s: string) => Number.parseInt(s, 16);
    const size = Number(f[4]);
    const args = {
      queryAddr: hex(f[2]),
      queryFlags: hex(f[3]),
      size,
      vmaNameSize: Number(f[5]),
      vmaNameAddr: Number(f[6]),
      buildIdSize: Number(f[7]),
      buildIdAddr: Number(f[8]),
      trailingNonZero: f[9] === '1',
    };
    const [errno, start, end, nameOut, bidOut, ...rest] = rhs.split(' ');
    const kName = rest.join(' ');
    const out = new ProcmapQueryResult();
    const r = procmapQuery(args, target, out);
    assert.equal(r === 0 ? 0 : -r, Number(errno), `${name}: errno`);
    if (r !== 0) continue;
    // The kernel copies back min(size, 104) bytes: fields past `size` keep the caller's values.
    if (size >= 40) {
      assert.equal(out.vmaStart, hex(start), `${name}: start`);
      assert.equal(out.vmaEnd, hex(end), `${name}: end`);
    }
    if (size >= 88) {
      assert.equal(out.vmaNameSize, Number(nameOut), `${name}: name size`);
      // Files here have no build id in the engine; the oracle only asks for one on anon memory.
      assert.equal(out.buildIdSize, Number(bidOut), `${name}: build id size`);
      const ours = out.vmaNameSize > 0 ? (out.nameString() ?? '').replaceAll('\n', '\\n') : '-';
      assert.equal(ours, kName, `${name}: name`);
    }
  }
});
