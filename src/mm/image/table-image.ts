/**
 * The global tables (file identities, anon names) as a snapshot carries them: only the entries
 * some VMA (or an mm's exe_file) refers to, numbered 1.. in the order first met ("refs"), so an
 * image never depends on table ids, slot numbers, generations or free lists.
 *
 * Capture (`TableCapture`) runs while the referring mm is read-locked, so every entry it meets is
 * live. Restore (`TableRestore`) re-creates each entry once, on first use: a regular file is
 * interned (the same identity gets one id, as before), a shmem file gets its own entry with its
 * old inode, and an anon name is allocated once and referenced by every further VMA that shared
 * it, so refcounts and sharing across forked processes are as they were.
 */
import type { AnonNameTable } from '../anon-names.js';
import { type GracePeriods, IMMEDIATE_GRACE } from '../deferred-free.js';
import { FILE_KIND_SHMEM, type FileTable } from '../file-table.js';
import { type ByteReader, type ByteWriter, ImageFormatError } from './byte-buffer.js';

export interface FileImage {
  kind: number;
  deleted: boolean;
  devMajor: number;
  devMinor: number;
  inode: number;
  path: Uint8Array;
  buildId: Uint8Array | null;
}

export interface TablesImage {
  files: FileImage[];
  /** Anon names (UTF-8 bytes, without the NUL). */
  names: Uint8Array[];
  /** The inode the next MAP_SHARED|MAP_ANONYMOUS mapping gets. */
  nextShmemInode: number;
}

export class TableCapture {
  readonly image: TablesImage;
  private readonly fileRefs = new Map<number, number>();
  private readonly nameRefs = new Map<number, number>();

  constructor(
    private readonly files: FileTable,
    private readonly names: AnonNameTable,
  ) {
    this.image = { files: [], names: [], nextShmemInode: files.nextShmemInode };
  }

  /** The ref of file table id `id` (0 for none). */
  fileRef(id: number): number {
    if (id === 0) return 0;
    let ref = this.fileRefs.get(id);
    if (ref === undefined) {
      const f = this.files;
      this.image.files.push({
        kind: f.kind(id),
        deleted: f.deleted(id),
        devMajor: f.devMajor(id),
        devMinor: f.devMinor(id),
        inode: f.inode(id),
        path: f.pathBytes(id).slice(),
        buildId: f.buildId(id),
      });
      ref = this.image.files.length;
      this.fileRefs.set(id, ref);
    }
    return ref;
  }

  /** The ref of anon-name handle `handle` (0 for none). */
  nameRef(handle: number): number {
    if (handle === 0) return 0;
    let ref = this.nameRefs.get(handle);
    if (ref === undefined) {
      this.image.names.push(this.names.nameBytes(handle).slice());
      ref = this.image.names.length;
      this.nameRefs.set(handle, ref);
    }
    return ref;
  }
}

/** Thrown when a restored entry does not fit the running service's tables. */
export class ImageRestoreError extends Error {
  override name = 'ImageRestoreError';
}

export class TableRestore {
  private readonly fileIds: number[];
  private readonly nameHandles: number[];

  constructor(
    readonly image: TablesImage,
    private readonly files: FileTable,
    private readonly names: AnonNameTable,
    /** The restoring thread's RCU (the file table is shared with running readers). */
    private readonly grace: GracePeriods = IMMEDIATE_GRACE,
  ) {
    this.fileIds = new Array(image.files.length + 1).fill(0);
    this.nameHandles = new Array(image.names.length + 1).fill(0);
    if (files.nextShmemInode < image.nextShmemInode) files.nextShmemInode = image.nextShmemInode;
  }

  /**
   * The file table id for `ref` (0 for none), creating the entry on first use. The restore holds
   * one reference per entry until `release()`; whoever keeps the id takes its own (a VMA).
   */
  fileId(ref: number): number {
    if (ref === 0) return 0;
    const known = this.fileIds[ref];
    if (known !== 0) return known;
    const f = this.image.files[ref - 1];
    const id =
      f.kind === FILE_KIND_SHMEM
        ? this.files.adoptShmem(f.inode, this.grace)
        : this.files.intern(
            {
              path: f.path,
              devMajor: f.devMajor,
              devMinor: f.devMinor,
              inode: f.inode,
              buildId: f.buildId ?? undefined,
            },
            this.grace,
          );
    if (id <= 0) throw new ImageRestoreError(`the file table refused file ref ${ref} (${-id})`);
    if (f.deleted) this.files.markDeleted(id);
    this.fileIds[ref] = id;
    return id;
  }

  /** Drops the restore's own file references (after every mm took its own, or gave up). */
  release(): void {
    for (let ref = 1; ref < this.fileIds.length; ref++)
      this.files.put(this.fileIds[ref], this.grace);
    this.fileIds.fill(0);
  }

  /** A handle for `ref` owned by the caller (one reference), 0 for none. */
  nameHandle(ref: number): number {
    if (ref === 0) return 0;
    const known = this.nameHandles[ref];
    if (known !== 0) {
      this.names.ref(known);
      return known;
    }
    const handle = this.names.alloc(this.image.names[ref - 1]);
    if (handle <= 0) throw new ImageRestoreError(`the anon-name table refused name ref ${ref}`);
    this.nameHandles[ref] = handle;
    return handle;
  }
}

const MAX_PATH_BYTES = 4096;
const MAX_BUILD_ID_BYTES = 20;
const MAX_NAME_BYTES = 80;

export function writeTables(w: ByteWriter, t: TablesImage): void {
  w.f64(t.nextShmemInode);
  w.u32(t.files.length);
  for (const f of t.files) {
    w.u8(f.kind);
    w.u8(f.deleted ? 1 : 0);
    w.u32(f.devMajor);
    w.u32(f.devMinor);
    w.f64(f.inode);
    w.bytes(f.path);
    w.bytes(f.buildId ?? new Uint8Array(0));
  }
  w.u32(t.names.length);
  for (const n of t.names) w.bytes(n);
}

export function readTables(r: ByteReader): TablesImage {
  const nextShmemInode = r.f64('next shmem inode');
  const nFiles = r.u32('file count');
  if (nFiles > r.remaining) throw new ImageFormatError(`file count ${nFiles} exceeds the payload`);
  const files: FileImage[] = [];
  for (let i = 0; i < nFiles; i++) {
    const kind = r.u8('file kind');
    if (kind > FILE_KIND_SHMEM) throw new ImageFormatError(`file ${i + 1}: unknown kind ${kind}`);
    const deleted = r.u8('file deleted') !== 0;
    const devMajor = r.u32('file dev major');
    const devMinor = r.u32('file dev minor');
    const inode = r.f64('file inode');
    if (!Number.isSafeInteger(inode) || inode < 0) {
      throw new ImageFormatError(`file ${i + 1}: bad inode ${inode}`);
    }
    const path = r.bytes('file path', MAX_PATH_BYTES - 1);
    const build = r.bytes('file build id', MAX_BUILD_ID_BYTES);
    files.push({
      kind,
      deleted,
      devMajor,
      devMinor,
      inode,
      path,
      buildId: build.length > 0 ? build : null,
    });
  }
  const nNames = r.u32('name count');
  if (nNames > r.remaining) throw new ImageFormatError(`name count ${nNames} exceeds the payload`);
  const names: Uint8Array[] = [];
  for (let i = 0; i < nNames; i++) names.push(r.bytes('anon name', MAX_NAME_BYTES - 1));
  return { files, names, nextShmemInode };
}
