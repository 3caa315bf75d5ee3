/**
 * The intern hash of the FileTable (file-table.ts): open addressing with linear probing over one
 * Int32 slot per entry id (0 = empty), at most half full. Deletion shifts later entries back
 * (no tombstones), so probes stay short however many files come and go. Every access is under
 * the table's spinlock.
 */
export class FileHash {
  private readonly mask: number;

  constructor(
    private readonly i32: Int32Array,
    /** Int32 index of slot 0. */
    private readonly base32: number,
    /** A power of two. */
    slots: number,
    /** The hash an entry was inserted with. */
    private readonly hashOf: (id: number) => number,
  ) {
    this.mask = slots - 1;
  }

  /** The id for which `matches` holds, or -(slot + 1) of the empty slot where it belongs. */
  find(h: number, matches: (id: number) => boolean): number {
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const id = this.i32[this.base32 + slot];
      if (id === 0) return -(slot + 1);
      if (matches(id)) return id;
    }
  }

  /** Puts `id` in the empty slot `find` returned (as its negative result). */
  insert(found: number, id: number): void {
    this.i32[this.base32 - found - 1] = id;
  }

  /** Removes `id` (backward-shift deletion). */
  remove(id: number): void {
    const { i32, base32: base, mask } = this;
    let hole = this.hashOf(id) & mask;
    while (i32[base + hole] !== id) hole = (hole + 1) & mask;
    for (let j = hole; ; ) {
      i32[base + hole] = 0;
      for (;;) {
        j = (j + 1) & mask;
        const other = i32[base + j];
        if (other === 0) return;
        const home = this.hashOf(other) & mask;
        // `other` may fill the hole unless its home lies cyclically in (hole, j].
        const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
        if (stays) continue;
        i32[base + hole] = other;
        hole = j;
        break;
      }
    }
  }
}
