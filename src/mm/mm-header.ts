/**
 * `MmHeader`: the mm header fields of an arena (mm_struct's code/data/brk/stack bounds, VM
 * counters, map_count, exe_file, the machine capabilities), as typed accessors over the arena's
 * words. `MmStruct` extends it. Written by writers under the mmap write lock, read by readers
 * without a lock (racy reads that strategies validate with the mm sequence count).
 */
import {
  type ArenaViews,
  F64_ARG_START,
  F64_BRK,
  F64_DATA_VM,
  F64_END_CODE,
  F64_END_DATA,
  F64_EXEC_VM,
  F64_HIWATER_VM,
  F64_LOCKED_VM,
  F64_MMAP_BASE,
  F64_STACK_VM,
  F64_START_BRK,
  F64_START_CODE,
  F64_START_DATA,
  F64_START_STACK,
  F64_TOTAL_VM,
  I32_EXE_FILE,
  I32_MACHINE_CAPS,
  I32_MAP_COUNT,
  MACHINE_CAP_NO_ZERO_PAGE,
  MACHINE_CAP_PKEYS,
  MACHINE_CAP_THP_ALWAYS,
  MACHINE_CAP_THP_NEVER,
} from './arena-layout.js';
import type { ThpMode } from './pages/thp.js';

export class MmHeader {
  /** The arena as Int32 words: src/sync's lock words live at SYNC_WORDS_BASE... and in VMAs. */
  readonly i32: Int32Array;
  private readonly f64: Float64Array;

  protected constructor(views: ArenaViews) {
    this.i32 = views.i32;
    this.f64 = views.f64;
  }

  /** Whether the simulated CPU has protection keys (immutable, set by `create`). */
  get pkeys(): boolean {
    return (this.i32[I32_MACHINE_CAPS] & MACHINE_CAP_PKEYS) !== 0;
  }

  /** Whether read faults allocate pages instead of mapping the zero page (immutable). */
  get noZeroPage(): boolean {
    return (this.i32[I32_MACHINE_CAPS] & MACHINE_CAP_NO_ZERO_PAGE) !== 0;
  }

  /** The THP mode of the simulated kernel (immutable, set by `create`). */
  get thpMode(): ThpMode {
    const caps = this.i32[I32_MACHINE_CAPS];
    if (caps & MACHINE_CAP_THP_ALWAYS) return 'always';
    return caps & MACHINE_CAP_THP_NEVER ? 'never' : 'madvise';
  }

  // ---- header (mmap write lock to write; racy to read) -------------------------------------
  get startCode(): number {
    return this.f64[F64_START_CODE];
  }
  set startCode(v: number) {
    this.f64[F64_START_CODE] = v;
  }
  get endCode(): number {
    return this.f64[F64_END_CODE];
  }
  set endCode(v: number) {
    this.f64[F64_END_CODE] = v;
  }
  get startData(): number {
    return this.f64[F64_START_DATA];
  }
  set startData(v: number) {
    this.f64[F64_START_DATA] = v;
  }
  get endData(): number {
    return this.f64[F64_END_DATA];
  }
  set endData(v: number) {
    this.f64[F64_END_DATA] = v;
  }
  get startBrk(): number {
    return this.f64[F64_START_BRK];
  }
  set startBrk(v: number) {
    this.f64[F64_START_BRK] = v;
  }
  get brk(): number {
    return this.f64[F64_BRK];
  }
  set brk(v: number) {
    this.f64[F64_BRK] = v;
  }
  get startStack(): number {
    return this.f64[F64_START_STACK];
  }
  set startStack(v: number) {
    this.f64[F64_START_STACK] = v;
  }
  get mmapBase(): number {
    return this.f64[F64_MMAP_BASE];
  }
  set mmapBase(v: number) {
    this.f64[F64_MMAP_BASE] = v;
  }
  get argStart(): number {
    return this.f64[F64_ARG_START];
  }
  set argStart(v: number) {
    this.f64[F64_ARG_START] = v;
  }
  /** mm->map_count: number of VMAs (kept by the syscalls; checked against maxMapCount). */
  get mapCount(): number {
    return this.i32[I32_MAP_COUNT];
  }
  set mapCount(v: number) {
    this.i32[I32_MAP_COUNT] = v;
  }
  /** Pages (total_vm, locked_vm, data_vm, exec_vm, stack_vm) as in mm_struct. */
  get totalVm(): number {
    return this.f64[F64_TOTAL_VM];
  }
  set totalVm(v: number) {
    this.f64[F64_TOTAL_VM] = v;
  }
  /** mm->hiwater_vm in pages (F64_HIWATER_VM: mmap write lock). */
  get hiwaterVm(): number {
    return this.f64[F64_HIWATER_VM];
  }
  set hiwaterVm(v: number) {
    this.f64[F64_HIWATER_VM] = v;
  }
  get lockedVm(): number {
    return this.f64[F64_LOCKED_VM];
  }
  set lockedVm(v: number) {
    this.f64[F64_LOCKED_VM] = v;
  }
  get dataVm(): number {
    return this.f64[F64_DATA_VM];
  }
  set dataVm(v: number) {
    this.f64[F64_DATA_VM] = v;
  }
  get execVm(): number {
    return this.f64[F64_EXEC_VM];
  }
  set execVm(v: number) {
    this.f64[F64_EXEC_VM] = v;
  }
  get stackVm(): number {
    return this.f64[F64_STACK_VM];
  }
  set stackVm(v: number) {
    this.f64[F64_STACK_VM] = v;
  }
  /** mm->exe_file as a FileTable id (0 = none); the mm holds a reference (`setExeFile`). */
  get exeFile(): number {
    return this.i32[I32_EXE_FILE];
  }
}
