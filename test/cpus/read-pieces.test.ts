/**
 * PieceSlab (read-pieces.ts): the event loop gathers each read's bytes into shared slab memory
 * and reuses a slab only once every piece taken from it was released (its reply written). A
 * piece still out must never be overwritten, whatever is gathered after it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PieceSlab, ReadPieces } from '../../src/cpus/read-pieces.js';

/** `n` bytes of a pattern that differs from piece to piece. */
function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i) & 0xff;
  return b;
}

/** A piece of `n` bytes gathered in two appends. */
function piece(slab: PieceSlab, n: number, seed: number): { piece: Buffer; want: Uint8Array } {
  const want = bytes(n, seed);
  const half = n >> 1;
  slab.append(want.subarray(0, half));
  slab.append(want.subarray(half));
  assert.equal(slab.openLength, n);
  return { piece: slab.take(), want };
}

test('a piece is a copy of what was appended, and the next piece starts empty', () => {
  const slab = new PieceSlab();
  const src = bytes(100, 1);
  slab.append(src);
  const a = slab.take();
  src.fill(0);
  assert.deepEqual(new Uint8Array(a), bytes(100, 1));
  assert.equal(slab.openLength, 0);
  const b = piece(slab, 50, 2);
  assert.deepEqual(new Uint8Array(b.piece), b.want);
  assert.deepEqual(new Uint8Array(a), bytes(100, 1));
});

test('released pieces: the slab memory is reused (two slabs take turns)', () => {
  const slab = new PieceSlab();
  const memories = new Set<ArrayBufferLike>();
  for (let i = 0; i < 500; i++) {
    const p = piece(slab, 8600, i);
    assert.deepEqual(new Uint8Array(p.piece), p.want);
    memories.add(p.piece.buffer);
    slab.release(p.piece);
  }
  assert.ok(memories.size <= 2, `${memories.size} slabs for 500 released 8.6 KB pieces`);
});

test('a piece never released is never overwritten, and its slab never reused', () => {
  const slab = new PieceSlab();
  const kept = piece(slab, 8600, 7); // never released
  const from = kept.piece.byteOffset;
  const to = from + kept.piece.length;
  const before = piece(slab, 8600, 8);
  const read = new ReadPieces([before.piece], slab);
  read.release();
  read.release(); // only the first release of a read counts
  let left = false;
  for (let i = 0; i < 500; i++) {
    const p = piece(slab, 8600, 100 + i);
    const inKept = p.piece.buffer === kept.piece.buffer;
    if (!inKept) left = true;
    assert.ok(!(inKept && left), `piece ${i} back in the kept piece's slab`);
    const overlaps = inKept && p.piece.byteOffset < to && from < p.piece.byteOffset + 8600;
    assert.ok(!overlaps, `piece ${i} over the kept piece`);
    slab.release(p.piece);
  }
  assert.ok(left);
  assert.deepEqual(new Uint8Array(kept.piece), kept.want);
});

test('a piece that does not fit the rest of its slab moves whole; a big one gets its own memory', () => {
  const slab = new PieceSlab();
  const full = [1, 2, 3, 4].map((seed) => piece(slab, 60 * 1024, seed)); // 240 KiB of 256
  // Its first half (10 KiB) fits the 16 KiB left, its second does not: continued in a new slab.
  const moved = piece(slab, 20 * 1024, 5);
  assert.ok(moved.piece.buffer !== full[0].piece.buffer);
  assert.deepEqual(new Uint8Array(moved.piece), moved.want);
  const big = piece(slab, 100 * 1024, 6); // over a quarter of a slab: memory of its own
  assert.ok(big.piece.buffer !== moved.piece.buffer);
  assert.deepEqual(new Uint8Array(big.piece), big.want);
  slab.release(big.piece);
  const after = piece(slab, 1000, 7);
  assert.ok(after.piece.buffer !== big.piece.buffer, 'own memory is never reused');
  for (const p of full) assert.deepEqual(new Uint8Array(p.piece), p.want);
  assert.deepEqual(new Uint8Array(moved.piece), moved.want);
});
