import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENAMETOOLONG, ENOMEM } from '../../src/mm/errno.js';
import { FileTable } from '../../src/mm/file-table.js';

const libc = {
  path: '/usr/lib/x86_64-linux-gnu/libc.so.6',
  devMajor: 0xfe,
  devMinor: 0,
  inode: 338_950,
};

describe('FileTable', () => {
  it('interns identities: same (path, dev, inode) gives the same id, any difference a new one', () => {
    const t = FileTable.create(16, 4096);
    const a = t.intern(libc);
    assert.ok(a > 0);
    assert.equal(t.intern({ ...libc }), a);
    const otherInode = t.intern({ ...libc, inode: 1 });
    const otherDev = t.intern({ ...libc, devMinor: 1 });
    const otherPath = t.intern({ ...libc, path: '/usr/lib/libc.so.6' });
    assert.equal(new Set([a, otherInode, otherDev, otherPath]).size, 4);
    assert.equal(t.path(a), libc.path);
    assert.equal(t.devMajor(a), 0xfe);
    assert.equal(t.devMinor(otherDev), 1);
    assert.equal(t.inode(a), 338_950);
    assert.equal(t.deleted(a), false);
    assert.equal(t.isShmem(a), false);
  });

  it('keeps u64-sized inodes exact below 2^53 and raw path bytes (newline included)', () => {
    const t = FileTable.create(4, 4096);
    const id = t.intern({ path: '/tmp/a\nb', devMajor: 0, devMinor: 0x2c, inode: 2 ** 53 - 1 });
    assert.equal(t.inode(id), 2 ** 53 - 1);
    const bytes = t.bytes.subarray(t.pathOffset(id), t.pathOffset(id) + t.pathLength(id));
    assert.deepEqual([...bytes], [...Buffer.from('/tmp/a\nb')]);
    assert.deepEqual([...t.pathBytes(id)], [...bytes]);
  });

  it('stores build ids and the deleted flag, visible through another view', () => {
    const t = FileTable.create(4, 4096);
    const build = Uint8Array.from({ length: 20 }, (_, i) => i * 7);
    const id = t.intern({ ...libc, buildId: build });
    const plain = t.intern({ ...libc, path: '/bin/true' });
    const u = FileTable.attach(t.buffer);
    assert.deepEqual(u.buildId(id), build);
    assert.equal(u.buildIdLength(plain), 0);
    assert.equal(u.buildId(plain), null);
    t.markDeleted(id);
    assert.equal(u.deleted(id), true);
    assert.equal(u.deleted(plain), false);
  });

  it('gives every shared anonymous mapping its own deleted /dev/zero with a fresh inode', () => {
    const t = FileTable.create(8, 4096);
    const a = t.createShmem();
    const b = t.createShmem();
    assert.notEqual(a, b);
    for (const id of [a, b]) {
      assert.equal(t.path(id), '/dev/zero');
      assert.equal(t.deleted(id), true);
      assert.equal(t.isShmem(id), true);
      assert.equal(`${t.devMajor(id)}:${t.devMinor(id)}`, '0:1');
    }
    assert.equal(t.inode(b), t.inode(a) + 1);
    // Interning the path /dev/zero names the real character device, not a shmem object.
    const dz = t.intern({ path: '/dev/zero', devMajor: 0, devMinor: 5, inode: 4 });
    assert.ok(dz !== a && dz !== b);
  });

  it('rejects paths of PATH_MAX bytes and reports a full table', () => {
    const t = FileTable.create(2, 16_384);
    assert.equal(t.intern({ ...libc, path: `/${'a'.repeat(4095)}` }), -ENAMETOOLONG);
    assert.ok(t.intern({ ...libc, path: `/${'a'.repeat(4094)}` }) > 0);
    assert.ok(t.intern({ ...libc, inode: 2 }) > 0);
    assert.equal(t.intern({ ...libc, inode: 3 }), -ENOMEM);
    assert.equal(t.createShmem(), -ENOMEM);
  });
});
