/**
 * Routes through inject(), against a recording fake sim (routes-fixture.ts): mutations:
 * mmap/munmap/mprotect/mremap/brk/anon_name and /syscalls (u64 and prot/flag conversions, reply
 * bodies, errors).
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { SimError } from '../../src/cpus/sim-api.js';
import { FakeSim } from './fake-sim.js';
import { useRoutesFixture } from './routes-fixture.js';

const fx = useRoutesFixture();

describe('mutations', () => {
  beforeEach(() => {
    fx.sim.syscallAnswer = new FakeSim().syscallAnswer;
  });

  test('mmap of a file: fields converted, result hex', async () => {
    const r = await fx.app.inject({
      method: 'POST',
      url: '/proc/1/mmap',
      payload: {
        addr: '0x7f0000000000',
        length: '0x2000',
        prot: 'r-x',
        flags: ['private', 'fixed'],
        path: '/usr/lib/libz.so.1',
        offset: '0x1000',
        dev: 'fe:01',
        inode: 1234,
      },
    });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { addr: '0x7f0000000000' });
    assert.deepEqual(fx.lastSyscalls(), [
      {
        op: 'mmap',
        addr: 0x7f0000000000,
        length: 0x2000,
        prot: 5,
        flags: 0x12,
        offset: 0x1000,
        file: {
          path: '/usr/lib/libz.so.1',
          devMajor: 0xfe,
          devMinor: 1,
          inode: 1234,
          writable: true,
        },
      },
    ]);
  });

  test('u64 values above 2^53: exact when aligned, else an equivalent stand-in', async () => {
    await fx.app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      payload: { addr: '0xffffffffff600000', length: '18446744073709551615' },
    });
    const [call] = fx.lastSyscalls() as Array<{ addr: number; length: number }>;
    // 4096-multiples are exact doubles.
    assert.equal(BigInt(call.addr), 0xffffffffff600000n);
    // 2^64-1: unaligned, and PAGE_ALIGN wraps it to 0 mod 2^64, as for the kernel.
    assert.notEqual(call.length % 4096, 0);
    assert.equal(((BigInt(call.length) + 4095n) % 2n ** 64n) & ~4095n, 0n);
    await fx.app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      payload: { addr: '0x20000000000001', length: '0x1000' },
    });
    const [c2] = fx.lastSyscalls() as Array<{ addr: number }>;
    assert.notEqual(c2.addr % 4096, 0);
    assert.equal(Math.ceil(c2.addr / 4096) * 4096, 0x20000000001000);
  });

  test('mprotect, mremap, brk, anon_name: conversions and reply bodies', async () => {
    const mp = await fx.app.inject({
      method: 'POST',
      url: '/proc/1/mprotect',
      payload: { addr: 4096, length: 4096, prot: '---' },
    });
    assert.deepEqual(mp.json(), {});
    assert.deepEqual(fx.lastSyscalls(), [{ op: 'mprotect', addr: 4096, length: 4096, prot: 0 }]);
    fx.sim.syscallAnswer = () => 0x7f1234560000;
    const mr = await fx.app.inject({
      method: 'POST',
      url: '/proc/1/mremap',
      payload: {
        old_addr: '0x1000',
        old_size: '0x1000',
        new_size: '0x3000',
        flags: ['maymove', 'fixed', 'dontunmap'],
        new_addr: '0x9000',
      },
    });
    assert.deepEqual(mr.json(), { addr: '0x7f1234560000' });
    assert.deepEqual(fx.lastSyscalls(), [
      {
        op: 'mremap',
        oldAddr: 0x1000,
        oldSize: 0x1000,
        newSize: 0x3000,
        flags: 7,
        newAddr: 0x9000,
      },
    ]);
    fx.sim.syscallAnswer = () => 0x555555559000;
    const b = await fx.app.inject({ method: 'POST', url: '/proc/1/brk', payload: { addr: '0x0' } });
    assert.deepEqual(b.json(), { brk: '0x555555559000' });
    fx.sim.syscallAnswer = () => 0;
    const n = await fx.app.inject({
      method: 'POST',
      url: '/proc/1/anon_name',
      payload: { addr: '0x1000', length: '0x1000', name: null },
    });
    assert.deepEqual(n.json(), {});
    assert.deepEqual(fx.lastSyscalls(), [
      { op: 'anon_name', addr: 0x1000, length: 0x1000, name: null },
    ]);
  });

  test('bad prot and unknown flag names are EINVAL', async () => {
    for (const payload of [
      { length: 4096, prot: 'rwz', flags: ['private', 'anonymous'] },
      { length: 4096, prot: 'rw-', flags: ['private', 'sparkly'] },
    ]) {
      const r = await fx.app.inject({ method: 'POST', url: '/proc/1/mmap', payload });
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().error, 'EINVAL');
    }
  });

  test('/syscalls: in order, a failing or malformed call does not stop the rest', async () => {
    fx.sim.syscallAnswer = (c) =>
      c.op === 'munmap' ? new SimError(22, 'EINVAL', 'unaligned') : c.op === 'mmap' ? 0x10000 : 0;
    const r = await fx.app.inject({
      method: 'POST',
      url: '/proc/1/syscalls',
      payload: {
        calls: [
          { op: 'mmap', length: 4096, prot: 'rw-', flags: ['private', 'anonymous'] },
          { op: 'munmap', addr: '0x10001', length: 4096 },
          { op: 'mprotect', addr: '0x10000' },
          { op: 'brk', addr: 0 },
        ],
      },
    });
    assert.equal(r.statusCode, 200);
    const { results } = r.json();
    assert.deepEqual(results[0], { addr: '0x10000' });
    assert.deepEqual(results[1], { error: 'EINVAL', errno: 22, message: 'unaligned' });
    assert.equal(results[2].error, 'EINVAL');
    assert.match(results[2].message, /mprotect/);
    assert.deepEqual(results[3], { brk: '0x0' });
    assert.deepEqual(
      fx.lastSyscalls().map((c) => c.op),
      ['mmap', 'munmap', 'brk'],
    );
  });
});
