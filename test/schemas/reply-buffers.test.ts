/**
 * ReplyBuffers (the batch routes' reply memory): memory given back is reused, memory still lent
 * never is, small replies and foreign buffers stay out of the pool.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplyBuffers } from '../../src/schemas/reply-buffers.js';

test('memory given back is reused; memory still lent is not', () => {
  const pool = new ReplyBuffers();
  const a = pool.take(100_000);
  assert.equal(a.length, 100_000);
  const b = pool.take(100_000);
  assert.notEqual(b.buffer, a.buffer, 'a is lent: b needs other memory');
  pool.release(a);
  const c = pool.take(90_000);
  assert.equal(c.length, 90_000);
  assert.equal(c.buffer, a.buffer, "a's memory, given back, serves c");
  const d = pool.take(90_000);
  assert.notEqual(d.buffer, a.buffer);
  assert.notEqual(d.buffer, b.buffer);
  // Given back twice: kept once.
  pool.release(c);
  pool.release(c);
  const e = pool.take(90_000);
  const f = pool.take(90_000);
  assert.equal(e.buffer, a.buffer);
  assert.notEqual(f.buffer, a.buffer);
});

test('small replies, huge replies and foreign buffers are not pooled', () => {
  const pool = new ReplyBuffers();
  const small = pool.take(1000);
  pool.release(small);
  assert.notEqual(pool.take(20_000).buffer, small.buffer);
  const foreign = Buffer.allocUnsafeSlow(50_000);
  pool.release(foreign);
  assert.notEqual(pool.take(50_000).buffer, foreign.buffer);
  const huge = pool.take(5 * 1024 * 1024);
  pool.release(huge);
  assert.notEqual(pool.take(5 * 1024 * 1024).buffer, huge.buffer);
});

test('a much smaller reply does not take a much larger memory', () => {
  const pool = new ReplyBuffers();
  const big = pool.take(2 * 1024 * 1024);
  pool.release(big);
  assert.notEqual(pool.take(20_000).buffer, big.buffer);
  assert.equal(pool.take(1024 * 1024).buffer, big.buffer);
});
