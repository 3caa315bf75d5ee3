import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MmGlobals } from '../../src/mm/mm-struct.js';
import { buildTemplate, TEMPLATE_NAMES, templateMaps } from '../../src/mm/templates/index.js';
import { readWholeMaps } from '../../src/procfs/maps-text.js';
import { directMapsWalker } from '../../src/procfs/vma-capture.js';
import { sameText } from '../procfs/fake-vmas.js';

const globals = MmGlobals.create({ maxFiles: 4096, fileHeapBytes: 1 << 20, anonNameSlots: 64 });
const TASK_SIZE = 0x7ffffffff000;

interface Line {
  start: number;
  end: number;
  perms: string;
  offset: number;
  name: string;
}
function lines(text: string): Line[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const f = l.split(/ +/);
      const [s, e] = f[0].split('-');
      return {
        start: Number.parseInt(s, 16),
        end: Number.parseInt(e, 16),
        perms: f[1],
        offset: Number.parseInt(f[2], 16),
        name: f.slice(5).join(' '),
      };
    });
}

for (const name of TEMPLATE_NAMES) {
  test(`template ${name}: deterministic per seed, renders its own text byte for byte`, () => {
    const a = templateMaps(name, 12345);
    assert.equal(templateMaps(name, 12345), a);
    assert.notEqual(templateMaps(name, 54321), a);
    for (const seed of [1, 2, 3, 12345]) {
      const mm = buildTemplate(name, { seed, globals, maxVmas: 4096 });
      const text = Buffer.from(readWholeMaps(directMapsWalker(mm))).toString('latin1');
      sameText(text, templateMaps(name, seed), `${name} seed ${seed}`);
    }
  });

  test(`template ${name}: realistic layout over many seeds (ASLR ranges, segments, specials)`, () => {
    for (let seed = 0; seed < 40; seed++) {
      const ls = lines(templateMaps(name, seed));
      const vmas = ls.slice(0, -1);
      for (let i = 1; i < vmas.length; i++) assert.ok(vmas[i].start >= vmas[i - 1].end);
      assert.equal(ls[ls.length - 1].name, '[vsyscall]');
      const stack = vmas.filter((l) => l.name === '[stack]');
      assert.equal(stack.length, 1);
      assert.ok(stack[0].end <= TASK_SIZE && stack[0].end > TASK_SIZE - 2 ** 34);
      for (const s of ['[vvar]', '[vvar_vclock]', '[vdso]']) {
        assert.equal(vmas.filter((l) => l.name === s).length, 1, s);
      }
      // The mmap area stays below the stack with at least the 128 MiB minimum gap.
      const below = vmas.filter((l) => l.start >= 0x6000_0000_0000 && l.name !== '[stack]');
      assert.ok(below.every((l) => l.end <= stack[0].start - 128 * 2 ** 20));
      // libc: r--p r-xp r--p r--p rw-p with increasing file offsets.
      const libc = vmas.filter((l) => l.name.endsWith('/libc.so.6'));
      assert.deepEqual(
        libc.map((l) => l.perms),
        ['r--p', 'r-xp', 'r--p', 'r--p', 'rw-p'],
      );
      for (let i = 1; i < libc.length; i++) assert.ok(libc[i].offset > libc[i - 1].offset);
      assert.equal(libc[1].start - libc[0].start, libc[1].offset - libc[0].offset);
      const heap = vmas.filter((l) => l.name === '[heap]');
      assert.equal(heap.length, 1);
      if (name !== 'node') {
        // A PIE executable sits at ELF_ET_DYN_BASE + up to 2^40, the heap within 32 MiB above it.
        const exe = vmas[name === 'jvm' ? 7 : 0];
        assert.ok(
          exe.start >= 0x555555554000 && exe.start < 0x565555554000,
          exe.start.toString(16),
        );
        const bssEnd = vmas[vmas.indexOf(heap[0]) - 1].end;
        assert.ok(heap[0].start >= bssEnd && heap[0].start < bssEnd + 32 * 2 ** 20);
      }
    }
  });
}

test('jvm template: many thread stacks behind guard pages and a big heap reservation', () => {
  const vmas = lines(templateMaps('jvm', 99)).slice(0, -1);
  let guarded = 0;
  for (let i = 1; i < vmas.length; i++) {
    const g = vmas[i - 1];
    const s = vmas[i];
    // A Java thread: a ---p guard zone directly below its rw-p stack of ~1 MiB.
    if (g.perms === '---p' && s.perms === 'rw-p' && g.end === s.start && s.end - s.start >= 0xf0000)
      guarded++;
  }
  assert.ok(guarded >= 24, `thread stacks: ${guarded}`);
  const reservation = Math.max(
    ...vmas.filter((l) => l.perms === '---p').map((l) => l.end - l.start),
  );
  assert.ok(reservation >= 4 * 2 ** 30, `largest reservation ${reservation}`);
  assert.ok(
    vmas.some((l) => l.perms === 'rwxp'),
    'code cache',
  );
});

test('node template: the non-PIE binary stays at 0x400000, V8 pages move by 256 KiB steps', () => {
  const a = lines(templateMaps('node', 1));
  const b = lines(templateMaps('node', 2));
  assert.equal(a[0].start, 0x400000);
  assert.equal(b[0].start, 0x400000);
  const v8a = a.filter((l) => l.start > 32 * 2 ** 30 && l.start < 0x5000_0000_0000);
  const v8b = b.filter((l) => l.start > 32 * 2 ** 30 && l.start < 0x5000_0000_0000);
  assert.equal(v8a.length, v8b.length);
  assert.ok(v8a.length > 10);
  const d = v8b[0].start - v8a[0].start;
  assert.notEqual(d, 0);
  assert.equal(d % 0x40000, 0);
  v8a.forEach((l, i) => {
    assert.equal(v8b[i].start - l.start, d);
  });
});
