import {
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_IO,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_PFNMAP,
  VM_READ,
} from './vm-flags.js';

/**
 * Special mappings (`_install_special_mapping`, mm/mmap.c): VMAs whose `vm_ops->name()` gives
 * their maps name. A VMA record's `ops` word holds an index into SPECIAL_MAPPINGS.
 *
 * Flags are what this host (Linux 6.18, x86-64) reports in /proc/self/smaps VmFlags:
 *   [vvar]        rd mr pf io de dd   (4 pages)
 *   [vvar_vclock] rd mr pf io de dd   (2 pages)
 *   [vdso]        rd ex mr mw me de   (2 pages)
 * (`__install_special_mapping` adds VM_DONTEXPAND; VM_SOFTDIRTY is not set on this host.)
 */
export interface SpecialMapping {
  /** The value stored in a VMA record's ops word. */
  readonly ops: number;
  /** What `vm_ops->name()` returns, or null (OPS_NONE, OPS_DUMMY). */
  readonly name: string | null;
  /** The same name as ASCII bytes, for byte formatters. */
  readonly nameBytes: Uint8Array | null;
  readonly vmFlags: number;
  /** Usual size in pages on x86-64. */
  readonly pages: number;
}

/** Not a special mapping. */
export const OPS_NONE = 0;
export const OPS_VDSO = 1;
export const OPS_VVAR = 2;
export const OPS_VVAR_VCLOCK = 3;
/**
 * `vma_dummy_vm_ops`: what `vma_close()` installs after calling a VMA's close op (mm/vma.h), so
 * a special mapping being unmapped loses its name() callback. A reader that checked
 * `vm_ops->name` before the switch and calls it after is Jann Horn's null-deref race
 * (lockless_nofallback counts it as a `null_deref` hazard).
 */
export const OPS_DUMMY = 4;

function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

const VVAR_FLAGS = VM_READ | VM_MAYREAD | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP;

/** Indexed by ops value. */
export const SPECIAL_MAPPINGS: readonly SpecialMapping[] = [
  { ops: OPS_NONE, name: null, nameBytes: null, vmFlags: 0, pages: 0 },
  {
    ops: OPS_VDSO,
    name: '[vdso]',
    nameBytes: ascii('[vdso]'),
    vmFlags: VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_DONTEXPAND,
    pages: 2,
  },
  { ops: OPS_VVAR, name: '[vvar]', nameBytes: ascii('[vvar]'), vmFlags: VVAR_FLAGS, pages: 4 },
  {
    ops: OPS_VVAR_VCLOCK,
    name: '[vvar_vclock]',
    nameBytes: ascii('[vvar_vclock]'),
    vmFlags: VVAR_FLAGS,
    pages: 2,
  },
  { ops: OPS_DUMMY, name: null, nameBytes: null, vmFlags: 0, pages: 0 },
];

/** vm_ops->name() for an ops value: the name, or null (no ops, dummy ops, unknown value). */
export function specialMappingName(ops: number): string | null {
  return SPECIAL_MAPPINGS[ops]?.name ?? null;
}

/** True if `ops` has a close op (special mappings do: special_mapping_close). */
export function hasCloseOp(ops: number): boolean {
  return ops === OPS_VDSO || ops === OPS_VVAR || ops === OPS_VVAR_VCLOCK;
}

// ---- the x86-64 gate VMA: printed last by maps, never in the tree, never returned by queries --
export const VSYSCALL_START = 0xffffffffff600000; // exact as a double (low 21 bits are zero)
export const VSYSCALL_END = 0xffffffffff601000;
/** The complete maps line of the gate VMA, including its newline. */
export const VSYSCALL_LINE =
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n';
export const VSYSCALL_LINE_BYTES: Uint8Array = ascii(VSYSCALL_LINE);
/** Gate VMA flags: VM_EXEC (x86 gate_vma: VM_READ|VM_EXEC in old kernels; --x since XONLY default). */
export const VSYSCALL_VM_FLAGS = VM_EXEC;
