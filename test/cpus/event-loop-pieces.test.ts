/**
 * The event loop's stepped reads (event-loop-reads.ts) gather the chunks of one turn into one
 * piece, reading each chunk separately (its own lock window) and copying it out of the read's
 * buffer, which the next chunk overwrites. A chunk that would wait for the mmap read lock sends
 * what was gathered first, then is re-run holding the lock; a traced read is a piece per chunk.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine, SteppedMapsRead } from '../../src/cpus/engine.js';
import { eventLoopReads } from '../../src/cpus/event-loop-reads.js';
import { ReadPieces } from '../../src/cpus/read-pieces.js';
import { MmStruct, SYNC_WORDS_BASE } from '../../src/mm/mm-struct.js';
import { ByteSink } from '../../src/procfs/byte-sink.js';
import { ReadWouldWait } from '../../src/procfs/strategies/reader-context.js';
import { mmapLockState, mmapReadUnlock } from '../../src/sync/index.js';

const mm = MmStruct.create();

/** A read whose chunks are `script` entries ('wait': the lock is not free), in one buffer. */
function scriptedRead(script: Array<string | 'wait'>, log: string[]): SteppedMapsRead {
  const buffer = new Uint8Array(64); // every chunk is written over the previous one
  let i = 0;
  const chunk = (s: string) => {
    buffer.fill(0);
    buffer.set(Buffer.from(s));
    log.push(s);
    return buffer.subarray(0, s.length);
  };
  return {
    next() {
      const s = script[i++];
      if (s === undefined) return null;
      if (s === 'wait') throw new ReadWouldWait(mm);
      return chunk(s);
    },
    nextHoldingLock(waitedNs) {
      assert.ok(waitedNs >= 0);
      assert.equal(mmapLockState(mm.i32, SYNC_WORDS_BASE).readers, 1); // the caller took it
      mmapReadUnlock(mm.i32, SYNC_WORDS_BASE);
      return chunk(`${script[i++]}`);
    },
    close() {
      log.push('close');
    },
    sink: new ByteSink(), // never lent: every chunk is copied
  };
}

async function pieces(script: Array<string | 'wait'>, traced = false) {
  const log: string[] = [];
  const engine = { openMaps: () => scriptedRead(script, log), has: () => true };
  const reads = eventLoopReads(engine as unknown as Engine, { bytesPerTurn: 1024 });
  const req = { pid: 1, strategy: null, chunk: 4096 };
  const out: string[] = [];
  for await (const p of await reads.maps(req, traced ? [] : undefined)) {
    out.push(Buffer.from(p).toString());
  }
  return { out, log };
}

test('the chunks of one turn go out as one piece, each copied before the next is read', async () => {
  const { out, log } = await pieces(['a\n', 'bb\n', 'ccc\n']);
  assert.deepEqual(out, ['a\nbb\nccc\n']);
  assert.deepEqual(log, ['a\n', 'bb\n', 'ccc\n', 'close']);
});

test('a chunk that would wait: the gathered piece goes out, the chunk is re-run holding the lock', async () => {
  const { out } = await pieces(['a\n', 'b\n', 'wait', 'c\n', 'd\n']);
  assert.deepEqual(out, ['a\nb\n', 'c\nd\n']);
  assert.equal(mmapLockState(mm.i32, SYNC_WORDS_BASE).readers, 0);
  const first = await pieces(['wait', 'a\n', 'b\n']);
  assert.deepEqual(first.out, ['a\nb\n']);
});

test('a traced read yields one piece per chunk', async () => {
  const { out } = await pieces(['a\n', 'bb\n', 'ccc\n'], true);
  assert.deepEqual(out, ['a\n', 'bb\n', 'ccc\n']);
});

test('a read that ends within its first turn comes back whole and at once; one that waits, later', async () => {
  const log: string[] = [];
  let script: Array<string | 'wait'> = ['a\n', 'b\n'];
  const engine = { openMaps: () => scriptedRead(script, log), has: () => true };
  const reads = eventLoopReads(engine as unknown as Engine, { bytesPerTurn: 1024 });
  const req = { pid: 1, strategy: null, chunk: 4096 };
  const text = (r: ReadPieces) => r.pieces.map((p) => Buffer.from(p).toString());

  const whole = reads.maps(req);
  assert.ok(whole instanceof ReadPieces, 'no promise');
  assert.deepEqual(text(whole), ['a\nb\n']);
  assert.deepEqual(log, ['a\n', 'b\n', 'close']);

  script = ['wait', 'c\n'];
  const waiting = reads.maps(req);
  assert.ok(waiting instanceof Promise);
  const later = await waiting;
  assert.ok(later instanceof ReadPieces);
  assert.deepEqual(text(later), ['c\n']);
  assert.equal(mmapLockState(mm.i32, SYNC_WORDS_BASE).readers, 0);
});
