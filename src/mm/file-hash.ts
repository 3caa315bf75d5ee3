/**
 * The intern hash of the FileTable (file-table.ts): open addressing with linear probing over one
 * Int32 slot per entry id (0 = empty), at most half full. Deletion shifts later entries back
 * (no tombstones), so probes stay short however many files come and go.
 *
 * The table reserves room for `maxSlots` but uses the first `slots` of it, doubling (a rehash)
 * when an insert would make it more than half full: a big reserve costs neither zero-filling nor
 * committed pages nor longer probes, and the pages in use grow with the entries that need them
 * (the owner charges them to the memory budget in `grow`'s callback).
 *
 * Field protection: the slots and the header words (`slots` in use, `used`: entries hashed) are
 * read and written only under the table's spinlock, so every thread's view sees one size.
 */
export class FileHash {
  constructor(
    private readonly i32: Int32Array,
    /** Int32 index of slot 0. */
    private readonly base32: number,
    /** Int32 index of the header word holding the slots in use (a power of two). */
    private readonly slotsWord: number,
    /** Int32 index of the header word counting the entries hashed. */
    private readonly usedWord: number,
    /** Slots reserved (a power of two): `slots` never passes it. */
    readonly maxSlots: number,
    /** The hash an entry was inserted with. */
    private readonly hashOf: (id: number) => number,
  ) {}

  /** Slots in use now (under the lock, or racy). */
  get slots(): number {
    return this.i32[this.slotsWord];
  }

  /** The id for which `matches` holds, or -(slot + 1) of the empty slot where it belongs. */
  find(h: number, matches: (id: number) => boolean): number {
    const mask = this.i32[this.slotsWord] - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.i32[this.base32 + slot];
      if (id === 0) return -(slot + 1);
      if (matches(id)) return id;
    }
  }

  /**
   * Makes room for one more entry: doubles the slots in use (rehashing) when one more would fill
   * more than half of them, if the reserve and `charge(newSlots)` allow. False: no room (nothing
   * changed). A `find` result taken before a successful call is stale.
   */
  reserveOne(charge: (newSlots: number) => boolean): boolean {
    const slots = this.i32[this.slotsWord];
    if (2 * (this.i32[this.usedWord] + 1) <= slots) return true;
    if (2 * slots > this.maxSlots || !charge(2 * slots)) return false;
    const { i32, base32 } = this;
    const old = i32.slice(base32, base32 + slots);
    i32.fill(0, base32, base32 + slots);
    i32[this.slotsWord] = 2 * slots;
    const mask = 2 * slots - 1;
    for (let k = 0; k < slots; k++) {
      const id = old[k];
      if (id === 0) continue;
      let slot = this.hashOf(id) & mask;
      while (i32[base32 + slot] !== 0) slot = (slot + 1) & mask;
      i32[base32 + slot] = id;
    }
    return true;
  }

  /** Puts `id` in the empty slot `find` returned (as its negative result), after `reserveOne`. */
  insert(found: number, id: number): void {
    this.i32[this.base32 - found - 1] = id;
    this.i32[this.usedWord]++;
  }

  /** Removes `id` (backward-shift deletion). */
  remove(id: number): void {
    const { i32, base32: base } = this;
    const mask = i32[this.slotsWord] - 1;
    i32[this.usedWord]--;
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
