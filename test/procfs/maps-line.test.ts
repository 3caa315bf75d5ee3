import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VSYSCALL_LINE } from '../../src/mm/special-mappings.js';
import { ByteSink } from '../../src/procfs/byte-sink.js';
import { GATE_LINE, writeMapsLine } from '../../src/procfs/maps-line.js';
import { NAME_ANON, NAME_ANON_SHMEM, NAME_NONE, NAME_PATH } from '../../src/procfs/vma-name.js';
import { VmaView } from '../../src/procfs/vma-view.js';
import { fakeMmFromText, REAL_MAPS, readFixture } from './fake-vmas.js';

function lineOf(v: VmaView): string {
  const sink = new ByteSink(64);
  const n = writeMapsLine(sink, v);
  assert.equal(n, sink.length);
  return sink.toLatin1();
}

for (const name of REAL_MAPS) {
  test(`every line of real ${name} is reproduced byte for byte from its fields`, () => {
    const text = readFixture(name);
    const lines = text.split('\n').slice(0, -1);
    const mm = fakeMmFromText(text);
    const expectVmas = lines.filter((l) => !l.endsWith('[vsyscall]'));
    assert.equal(mm.vmas.length, expectVmas.length);
    mm.vmas.forEach((v, i) => {
      assert.equal(lineOf(v), `${expectVmas[i]}\n`, `line ${i + 1}`);
    });
    if (mm.hasGate) {
      assert.equal(Buffer.from(GATE_LINE).toString('latin1'), `${lines[lines.length - 1]}\n`);
    }
  });
}

function anonView(start: number, end: number, flags: number): VmaView {
  const v = new VmaView();
  v.start = start;
  v.end = end;
  v.flags = flags;
  return v;
}

test('an unnamed line ends "0 \\n" with one trailing space and no padding', () => {
  const v = anonView(0x7f0000000000, 0x7f0000001000, 3);
  assert.equal(lineOf(v), '7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n');
});

test('a named line puts the name at column 73, or one space after a longer prefix', () => {
  const v = anonView(0x10000, 0x11000, 1);
  v.nameKind = NAME_ANON;
  v.nameSrc = Buffer.from('x');
  v.nameTo = 1;
  const short = lineOf(v);
  assert.equal(short.indexOf('[anon:x]'), 73);
  // A file VMA whose prefix exceeds 72 columns: big inode, big dev, 16-digit offset.
  const f = anonView(0x7ffffffde000, 0x7ffffffff000, 0x80 | 1);
  f.hasFile = true;
  f.pgoff = 0xfffffffffff; // offset 0xfffffffffff000 (14 hex digits)
  f.devMajor = 0xfff;
  f.devMinor = 0xfffff;
  f.inode = 2 ** 53 - 1;
  f.nameKind = NAME_PATH;
  f.nameSrc = Buffer.from('/a');
  f.nameTo = 2;
  const long = lineOf(f);
  const prefix = `7ffffffde000-7ffffffff000 r--s fffffffffff000 fff:fffff ${2 ** 53 - 1} `;
  assert.ok(prefix.length > 72);
  assert.equal(long, `${prefix} /a\n`);
});

test('paths escape newlines as \\012 and append " (deleted)"; anon names get their brackets', () => {
  const f = anonView(0x1000000, 0x1001000, 0x80 | 3);
  f.hasFile = true;
  f.devMinor = 1;
  f.inode = 7;
  f.nameKind = NAME_PATH;
  f.nameSrc = Buffer.from('/tmp/a\nb');
  f.nameTo = f.nameSrc.length;
  f.deleted = true;
  assert.ok(lineOf(f).endsWith(' /tmp/a\\012b (deleted)\n'));
  f.nameKind = NAME_ANON_SHMEM;
  f.nameSrc = Buffer.from('shm buf');
  f.nameTo = f.nameSrc.length;
  assert.ok(lineOf(f).endsWith(' 00:01 7                                  [anon_shmem:shm buf]\n'));
  f.nameKind = NAME_NONE;
  assert.ok(lineOf(f).endsWith(' 00:01 7 \n'));
});

test('perms: r/w/x from VM_READ/WRITE/EXEC, s only from VM_MAYSHARE (not VM_SHARED)', () => {
  assert.ok(lineOf(anonView(0x1000, 0x2000, 0x8 | 1)).includes(' r--p '));
  assert.ok(lineOf(anonView(0x1000, 0x2000, 0x80 | 1)).includes(' r--s '));
  assert.ok(lineOf(anonView(0x1000, 0x2000, 7)).includes(' rwxp '));
  assert.ok(lineOf(anonView(0x1000, 0x2000, 0)).includes(' ---p '));
});

test('the gate line equals the store constant and the real fixtures', () => {
  assert.equal(Buffer.from(GATE_LINE).toString('latin1'), VSYSCALL_LINE);
});

test('file line tails come from the per-thread cache only while every input of the tail matches', () => {
  // One shared path heap, as the FileTable's: two paths at different offsets.
  const heap = Buffer.from('/lib/a.so\0/lib/bb.so');
  const f = anonView(0x7f0000000000, 0x7f0000001000, 1);
  f.hasFile = true;
  f.devMajor = 0xfe;
  f.inode = 42;
  f.nameKind = NAME_PATH;
  f.nameSrc = heap;
  f.nameFrom = 0;
  f.nameTo = 9;
  const base = '7f0000000000-7f0000001000 r--p 00000000 fe:00 42';
  const pad = (prefix: string) => ' '.repeat(Math.max(1, 73 - prefix.length));
  const expect = (prefix: string, name: string) => `${prefix}${pad(prefix)}${name}\n`;
  assert.equal(lineOf(f), expect(base, '/lib/a.so'));
  assert.equal(lineOf(f), expect(base, '/lib/a.so')); // a cache hit is identical
  f.deleted = true; // unlinked later: the suffix appears
  assert.equal(lineOf(f), expect(base, '/lib/a.so (deleted)'));
  f.deleted = false;
  f.inode = 4242; // another file with the same path bytes: its own inode
  assert.equal(lineOf(f), expect(`${base}42`, '/lib/a.so'));
  f.pgoff = 0x123456; // a wider offset moves the device column: the padding shrinks
  assert.equal(
    lineOf(f),
    expect('7f0000000000-7f0000001000 r--p 123456000 fe:00 4242', '/lib/a.so'),
  );
  f.pgoff = 0;
  f.nameFrom = 10; // the other path in the same heap
  f.nameTo = heap.length;
  assert.equal(lineOf(f), expect(`${base}42`, '/lib/bb.so'));
  f.nameFrom = 5; // a torn range that covers the NUL is formatted, never cached
  f.nameTo = 12;
  assert.equal(lineOf(f), expect(`${base}42`, 'a.so\0/l'));
  f.nameSrc = Buffer.from('/lib/a.so'); // another source: same offsets, other bytes
  f.nameFrom = 0;
  f.nameTo = 9;
  f.nameSrc[5] = 0x7a;
  assert.equal(lineOf(f), expect(`${base}42`, '/lib/z.so'));
});
