// src/tick-object-shape.ts keeps one of node's nextTick tick objects alive so that the maps
// (hidden classes) tick objects are made with survive major GCs. Checked in a child node with
// V8's test intrinsics: after several major GCs, with the app's modules loaded, fresh tick objects
// (with and without arguments) still have the kept object's map, the one chain of maps the inline
// caches of nextTick's literal then see. Fails if nothing is kept, or if what is kept is not built
// like node's tick objects (keeping it would then hold maps nextTick never uses). That the maps
// are otherwise lost at a major GC, and what that costs a request, is measured, not tested here
// (BENCHMARKS.md: a bare node server with forced major GCs, perf, before and after).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const shapeModule = fileURLToPath(new URL('../../src/tick-object-shape.js', import.meta.url));
const appModule = fileURLToPath(new URL('../../src/app.js', import.meta.url));

const CHILD = `
import { createHook } from 'node:async_hooks';
const { keptTickObject } = await import(${JSON.stringify(shapeModule)});
await import(${JSON.stringify(appModule)});
function freshTick(...args) {
  let t = null;
  const hook = createHook({ init(_a, type, _b, r) { if (type === 'TickObject' && t === null) t = r; } });
  hook.enable();
  process.nextTick(() => {}, ...args);
  hook.disable();
  return t;
}
const kept = keptTickObject();
const out = { kept: kept !== null, symbols: [], keys: [], sameMap: [] };
if (kept !== null) {
  out.symbols = Object.getOwnPropertySymbols(kept).map(String);
  out.keys = Object.keys(kept);
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 1000; j++) process.nextTick(() => {}, j);
    await new Promise((r) => setImmediate(r));
    globalThis.gc();
    const a = freshTick();
    const b = freshTick(1, 'x');
    out.sameMap.push(%HaveSameMap(kept, a) && %HaveSameMap(kept, b));
  }
}
process.stdout.write(JSON.stringify(out));
`;

test('a kept tick object keeps the maps of fresh tick objects across major GCs', () => {
  const stdout = execFileSync(
    process.execPath,
    ['--expose-gc', '--allow-natives-syntax', '--input-type=module', '-e', CHILD],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const out = JSON.parse(stdout) as {
    kept: boolean;
    symbols: string[];
    keys: string[];
    sameMap: boolean[];
  };
  assert.equal(out.kept, true, 'a tick object is kept');
  assert.deepEqual(out.symbols, ['Symbol(async_id_symbol)', 'Symbol(trigger_async_id_symbol)']);
  assert.deepEqual(out.keys, ['callback', 'args']);
  assert.deepEqual(out.sameMap, [true, true, true, true, true]);
});
