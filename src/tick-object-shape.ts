/**
 * Keeps one of node's `process.nextTick` tick objects alive for the life of the process, so that
 * the hidden classes ("maps") node's tick objects are made with are never collected.
 *
 * Why (measured on node 20.20, BENCHMARKS.md): `nextTick` builds each tick object with an object
 * literal whose first two keys are computed (`{ [async_id_symbol]: …, [trigger_async_id_symbol]:
 * …, callback, args }`). Such a literal starts from V8's per-context cache of empty literal maps,
 * which holds its maps weakly, and each of its property stores goes through an inline cache that
 * remembers the maps it saw. Tick objects live for microseconds, so after a major GC nothing holds
 * those maps: the next tick object gets new ones, and each major GC adds a map to the caches until
 * they are megamorphic. From then on every tick object's properties are defined in V8's runtime
 * (`Runtime_DefineKeyedOwnPropertyInLiteral`, map transitions, feedback updates) instead of in
 * optimised code: ~3 µs per HTTP request here (node's HTTP stack calls `nextTick` three times per
 * request), a tenth of a point query's whole cost on the event loop. A service that runs for
 * hours, with a heap that gets major GCs, always ends there. One live tick object holds the map
 * chain from the cached empty map to the full shape (each map holds its parent), so every later
 * tick object gets the same maps and the caches stay monomorphic.
 *
 * Imported first by the server (before the modules whose loading triggers the first major GCs).
 */
import { createHook } from 'node:async_hooks';

/** Captures one tick object through a momentary async hook (a no-op tick is queued for it). */
function captureTickObject(): object | null {
  let captured: object | null = null;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && captured === null) captured = resource;
    },
  });
  hook.enable();
  try {
    process.nextTick(() => {});
  } finally {
    hook.disable();
  }
  return captured;
}

const kept = captureTickObject();

/** The tick object kept alive (null if node made none through the hook: nothing is kept). */
export function keptTickObject(): object | null {
  return kept;
}
