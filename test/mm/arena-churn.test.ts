/**
 * Arenas come from the OS, not from malloc (issue 11, finding 3). A plain 30 MB SharedArrayBuffer
 * is calloc'd; after one is freed glibc raises its mmap threshold above that size, so the next
 * arenas are carved from the heap and memset in full (resident) and stay resident as fragments
 * when freed. Created and dropped in a loop, each arena cost its whole size. Deterministic here:
 * one thread, explicit collections.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MmStruct } from '../../src/mm/mm-struct.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MB = 1024 * 1024;

test('creating and dropping 40 full-size arenas leaves the RSS where it was', () => {
  let live: MmStruct[] = [MmStruct.create({ maxVmas: 65_530 })];
  live = [];
  gc(); // the first free (what raised glibc's threshold)
  const base = process.memoryUsage().rss;
  for (let i = 0; i < 40; i++) {
    live.push(MmStruct.create({ maxVmas: 65_530 }));
    if (live.length > 2) live.shift();
    gc();
  }
  const growth = process.memoryUsage().rss - base;
  console.log(
    `# 40 arenas of ${(live[0].buffer.byteLength / MB).toFixed(1)} MiB: RSS +${(growth / MB).toFixed(1)} MiB`,
  );
  assert.ok(growth < 16 * MB, `RSS grew ${(growth / MB).toFixed(0)} MiB`);
});
