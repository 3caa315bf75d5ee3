/**
 * prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, len, name), Linux 6.18 with
 * CONFIG_ANON_VMA_NAME: mm/madvise.c set_anon_vma_name(), madvise_set_anon_name(),
 * madvise_walk_vmas(), madvise_vma_behavior(), madvise_update_vma(), replace_anon_vma_name().
 * (The reference host is built without the option and answers EINVAL to every call.)
 *
 * Order of checks:
 *   1. name (when not null) longer than 79 bytes (80 with the NUL)     EINVAL
 *   2. a byte outside printable ASCII 0x20..0x7e, or one of \ ` $ [ ]  EINVAL
 *   3. addr not page aligned; len wrapping PAGE_ALIGN to 0; addr + len wrapping  EINVAL
 *   4. len == 0                                                         0
 *   Then each VMA in [addr, addr + len), in address order (madvise_walk_vmas):
 *   5. no VMA at or after addr                                          ENOMEM
 *   6. a file-backed VMA other than shared anonymous memory             EBADF, at once (the
 *      VMAs before it keep their new name)
 *   7. a split refused at max_map_count: ENOMEM, reported as EAGAIN, at once
 *   Holes in the range do not stop the walk: every VMA in it is named, then ENOMEM is returned.
 * A null name removes the name. VMAs whose name already equals the new one are left as they are.
 */
import { EAGAIN, EBADF, EINVAL, ENOMEM } from '../errno.js';
import type { MmStruct } from '../mm-struct.js';
import { ANON_VMA_NAME_MAX_LEN } from '../vm-flags.js';
import { madviseRangeEnd, madviseWalkVmas } from './madvise-walk.js';
import { vmaStartWrite } from './vma-lock-hooks.js';
import { vmaModifyName } from './vma-modify.js';

/** is_valid_name_char(): printable ASCII except the characters that would confuse parsers. */
function isValidNameChar(c: number): boolean {
  return c > 0x1f && c < 0x7f && c !== 0x5c && c !== 0x60 && c !== 0x24 && c !== 0x5b && c !== 0x5d;
}

/**
 * The name as the kernel copies it (strndup_user): each UTF-16 unit is taken as one byte (the
 * API passes bytes as Latin-1), up to the first NUL. null when too long or not valid.
 */
function checkedName(name: string): string | null {
  const nul = name.indexOf('\0');
  const s = nul >= 0 ? name.slice(0, nul) : name;
  if (s.length + 1 > ANON_VMA_NAME_MAX_LEN) return null;
  for (let i = 0; i < s.length; i++) if (!isValidNameChar(s.charCodeAt(i))) return null;
  return s;
}

/** prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, len, name): 0 or -errno. */
export function prctlSetVmaAnonName(
  mm: MmStruct,
  addr: number,
  len: number,
  name: string | null,
): number {
  let handle = 0;
  if (name !== null) {
    const s = checkedName(name);
    if (s === null) return -EINVAL;
    handle = mm.anonNames.alloc(s);
    if (handle < 0) return handle;
  }
  const err = madviseSetAnonName(mm, addr, len, handle);
  mm.anonNames.put(handle);
  return err;
}

/** madvise_set_anon_name(): range checks, then the walk. */
function madviseSetAnonName(mm: MmStruct, start: number, lenIn: number, handle: number): number {
  const end = madviseRangeEnd(start, lenIn);
  if (end <= start) return Math.min(end, 0);
  return madviseWalkVmas(mm, start, end, (prev, vma, s, e) => {
    // Only anonymous mappings can be named (shared anonymous memory included).
    const file = mm.vmas.file(vma);
    if (file !== 0 && !mm.files.isShmem(file)) return -EBADF;
    const res = updateVmaName(mm, prev, vma, s, e, handle);
    return res === -ENOMEM ? -EAGAIN : res;
  });
}

/** madvise_update_vma() + replace_anon_vma_name(): returns the VMA now covering the range. */
function updateVmaName(
  mm: MmStruct,
  prev: number,
  vma: number,
  start: number,
  end: number,
  handle: number,
): number {
  if (mm.anonNames.equalContent(mm.vmas.anonName(vma), handle)) return vma;
  const res = vmaModifyName(mm, prev, vma, start, end, handle);
  if (res < 0) return res;
  vmaStartWrite(mm, res);
  // replace_anon_vma_name(): keep the VMA's own name object when the contents are equal.
  if (!mm.anonNames.equalContent(mm.vmas.anonName(res), handle)) mm.setAnonName(res, handle);
  return res;
}
