/**
 * src/v8-inlining.ts: the server raises V8's inlining budget unless the command line or
 * NODE_OPTIONS sets it already (a user's own value wins), and only for that one flag.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INLINED_BYTECODE_BUDGET, inliningFlag } from '../src/v8-inlining.js';

const OURS = `--max-inlined-bytecode-size-cumulative=${INLINED_BYTECODE_BUDGET}`;

test('v8-inlining: sets the budget when nothing else does', () => {
  assert.equal(inliningFlag([], undefined), OURS);
  assert.equal(inliningFlag(['--enable-source-maps'], '--max-old-space-size=4096'), OURS);
  // Other inlining flags are other flags.
  assert.equal(inliningFlag(['--max-inlined-bytecode-size=100'], undefined), OURS);
  assert.ok(INLINED_BYTECODE_BUDGET > 920, "above V8's default");
});

test('v8-inlining: a budget on the command line or in NODE_OPTIONS is left as given', () => {
  assert.equal(inliningFlag(['--max-inlined-bytecode-size-cumulative=500'], undefined), null);
  assert.equal(inliningFlag(['--max_inlined_bytecode_size_cumulative=500'], undefined), null);
  assert.equal(inliningFlag([], '--foo --max-inlined-bytecode-size-cumulative=100'), null);
  assert.equal(inliningFlag([], ' --max_inlined_bytecode_size_cumulative=3000 '), null);
});
