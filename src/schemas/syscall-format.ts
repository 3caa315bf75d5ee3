/**
 * Engine calls and results back into API.md's JSON shapes: the reply bodies of the mutation
 * endpoints, and the `args` of /ws mutation events (the same fields a client would send).
 */
import { Type } from 'typebox';
import type { SyscallCall, SyscallOp } from '../cpus/sim-api.js';
import { MADVISE_ADVICE } from '../mm/syscalls/madvise.js';
import {
  FAULT_PATHS,
  type FaultPath,
  touchFaults,
  touchPath,
} from '../mm/syscalls/touch-result.js';
import { HexOutput } from './common.js';
import { MMAP_FLAG_BITS, MREMAP_FLAG_BITS } from './syscalls.js';
import { hex } from './uapi.js';

/** Reply body of each op on success (API.md "Mutations"). */
export const RESULT_SCHEMAS = {
  mmap: Type.Object({ addr: HexOutput }),
  munmap: Type.Object({}),
  mprotect: Type.Object({}),
  mremap: Type.Object({ addr: HexOutput }),
  brk: Type.Object({ brk: HexOutput }),
  anon_name: Type.Object({}),
  madvise: Type.Object({}),
  touch: Type.Object({
    faults: Type.Integer({ minimum: 0, description: 'page faults taken (as getrusage counts)' }),
    path: Type.Union([Type.Enum([...FAULT_PATHS]), Type.Null()], {
      description: 'lock path of the last fault (null: none)',
    }),
  }),
} as const;

export type ResultBody =
  | { addr: string }
  | { brk: string }
  | { faults: number; path: FaultPath | null }
  | Record<string, never>;

export function formatResult(op: SyscallOp, value: number): ResultBody {
  switch (op) {
    case 'touch':
      return { faults: touchFaults(value), path: touchPath(value) };
    case 'mmap':
    case 'mremap':
      return { addr: hex(value) };
    case 'brk':
      return { brk: hex(value) };
    default:
      return {};
  }
}

export function protString(prot: number): string {
  return `${prot & 1 ? 'r' : '-'}${prot & 2 ? 'w' : '-'}${prot & 4 ? 'x' : '-'}`;
}

/** Names of the set bits, with any unnamed remainder as a trailing number. */
function flagNames(bits: number, table: Record<string, number>): Array<string | number> {
  const names: Array<string | number> = [];
  let rest = bits;
  // The sharing type is a 2-bit field (MAP_TYPE = 0x0f), not independent bits.
  if (table === MMAP_FLAG_BITS) {
    const type = bits & 0x0f;
    const typeName = Object.entries(table).find(([, v]) => v === type)?.[0];
    if (typeName) {
      names.push(typeName);
      rest &= ~0x0f;
    }
  }
  for (const [name, bit] of Object.entries(table)) {
    if (bit > 0x0f || table !== MMAP_FLAG_BITS) {
      if (rest & bit) {
        names.push(name);
        rest &= ~bit;
      }
    }
  }
  if (rest !== 0) names.push(rest);
  return names;
}

/** The call as the API would have received it (hex strings, prot string, flag names). */
export function formatCallArgs(call: SyscallCall): Record<string, unknown> {
  switch (call.op) {
    case 'mmap': {
      const args: Record<string, unknown> = {
        addr: hex(call.addr),
        length: hex(call.length),
        prot: protString(call.prot),
        flags: flagNames(call.flags, MMAP_FLAG_BITS),
      };
      if (call.offset !== 0) args.offset = hex(call.offset);
      if (call.file) {
        args.path = call.file.path;
        args.dev = `${call.file.devMajor.toString(16).padStart(2, '0')}:${call.file.devMinor
          .toString(16)
          .padStart(2, '0')}`;
        args.inode = call.file.inode;
      }
      return args;
    }
    case 'munmap':
      return { addr: hex(call.addr), length: hex(call.length) };
    case 'mprotect':
      return { addr: hex(call.addr), length: hex(call.length), prot: protString(call.prot) };
    case 'mremap':
      return {
        old_addr: hex(call.oldAddr),
        old_size: hex(call.oldSize),
        new_size: hex(call.newSize),
        flags: flagNames(call.flags, MREMAP_FLAG_BITS),
        new_addr: hex(call.newAddr),
      };
    case 'brk':
      return { addr: hex(call.addr) };
    case 'anon_name':
      return { addr: hex(call.addr), length: hex(call.length), name: call.name };
    case 'touch':
      return { addr: hex(call.addr), length: hex(call.length), write: call.write };
    case 'madvise': {
      const name = Object.entries(MADVISE_ADVICE).find(([, v]) => v === call.advice)?.[0];
      return { addr: hex(call.addr), length: hex(call.length), advice: name ?? call.advice };
    }
  }
}
