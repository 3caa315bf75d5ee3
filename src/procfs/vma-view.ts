/**
 * `VmaView`: everything `show_map_vma()` and `do_procmap_query()` read from one VMA, as plain
 * values owned by one reader. Filled from the store by `captureVma` (vma-capture.ts) while the
 * reader holds whatever protects the record (mmap read lock, the VMA's read lock, or a
 * speculation window it validates afterwards), then formatted with no lock at all.
 *
 * Name bytes: a path points into the global FileTable's bytes, valid while the reader is still
 * protected (lock or RCU read section): a file entry's bytes are reused only an RCU grace period
 * after its last VMA went away, so format before leaving the protection. An anon name is copied
 * into `ownName` because anon-name storage is freed and reused at once when its last reference
 * drops. Literal names point at constant arrays.
 */
import { NAME_NONE } from './vma-name.js';

const EMPTY = new Uint8Array(0);
/** ANON_VMA_NAME_MAX_LEN (80) incl. NUL: anon names are at most 79 bytes. */
export const ANON_NAME_MAX = 80;

export class VmaView {
  /** VMA record id it was captured from (0 for synthetic views such as the gate). */
  id = 0;
  start = 0;
  end = 0;
  /** Kernel VM_* bits. */
  flags = 0;
  /** True when the VMA maps a file (vm_file != NULL), incl. shmem. */
  hasFile = false;
  /** vm_pgoff in pages (file VMAs; 0 otherwise). */
  pgoff = 0;
  devMajor = 0;
  devMinor = 0;
  inode = 0;
  /** FileTable id (0 if none): for the build id, read before the lock is dropped. */
  fileId = 0;
  /** FileTable serial of that file (0 if none): the key of per-file caches (ids are reused). */
  fileSerial = 0;
  /** One of the NAME_* kinds of vma-name.ts. */
  nameKind = NAME_NONE;
  /** Name body bytes are nameSrc[nameFrom, nameTo). */
  nameSrc: Uint8Array = EMPTY;
  nameFrom = 0;
  nameTo = 0;
  /** The file is unlinked: d_path appends " (deleted)". */
  deleted = false;
  /** Private copy buffer for anon names. */
  readonly ownName = new Uint8Array(ANON_NAME_MAX);

  /** Copies another view (name bytes included when they live in the other view's buffer). */
  copyFrom(o: VmaView): void {
    this.id = o.id;
    this.start = o.start;
    this.end = o.end;
    this.flags = o.flags;
    this.hasFile = o.hasFile;
    this.pgoff = o.pgoff;
    this.devMajor = o.devMajor;
    this.devMinor = o.devMinor;
    this.inode = o.inode;
    this.fileId = o.fileId;
    this.fileSerial = o.fileSerial;
    this.nameKind = o.nameKind;
    this.deleted = o.deleted;
    this.nameFrom = o.nameFrom;
    this.nameTo = o.nameTo;
    if (o.nameSrc === o.ownName) {
      this.ownName.set(o.ownName);
      this.nameSrc = this.ownName;
    } else {
      this.nameSrc = o.nameSrc;
    }
  }
}
