/**
 * The mutation calls of API.md ("Mutations"): one TypeBox schema per op (the single endpoints'
 * bodies, and with an `op` field the entries of `/syscalls`, activity loops and /ws requests), and
 * the conversion of a validated body into an engine `SyscallCall`.
 *
 * The flag names map to the kernel's x86-64 uapi values (include/uapi/asm-generic/mman-common.h,
 * mman.h, linux/mman.h); prot is the maps-style "rwx" string.
 */
import { type Static, type TSchema, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { FileRef, SyscallCall, SyscallOp } from '../cpus/sim-api.js';
import { MADVISE_ADVICE } from '../mm/syscalls/madvise.js';
import { ProtString, U64Input } from './common.js';
import { expectedOf, shown } from './schema-errors.js';
import { engineU64, UapiValueError } from './uapi.js';

export const MMAP_FLAG_BITS = {
  shared: 0x01,
  private: 0x02,
  shared_validate: 0x03,
  fixed: 0x10,
  anonymous: 0x20,
  growsdown: 0x100,
  denywrite: 0x800,
  executable: 0x1000,
  locked: 0x2000,
  noreserve: 0x4000,
  populate: 0x8000,
  nonblock: 0x10000,
  stack: 0x20000,
  hugetlb: 0x40000,
  sync: 0x80000,
  fixed_noreplace: 0x100000,
  uninitialized: 0x4000000,
} as const;
export type MmapFlagName = keyof typeof MMAP_FLAG_BITS;

export const MREMAP_FLAG_BITS = { maymove: 1, fixed: 2, dontunmap: 4 } as const;
export type MremapFlagName = keyof typeof MREMAP_FLAG_BITS;

export const MAP_ANONYMOUS = MMAP_FLAG_BITS.anonymous;

const PROT_BITS = { r: 1, w: 2, x: 4 } as const;

/** Flags as a list of names, or the kernel's numeric value. */
function flagsSchema(names: readonly string[], description: string) {
  return Type.Union(
    [
      Type.Array(Type.Enum([...names]), { maxItems: 32 }),
      Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    ],
    { description },
  );
}

const MmapFields = {
  addr: Type.Optional(U64Input),
  length: U64Input,
  prot: ProtString,
  flags: flagsSchema(
    Object.keys(MMAP_FLAG_BITS),
    'MAP_* flags by name (["private","anonymous"]) or as a number',
  ),
  path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'file to map' })),
  offset: Type.Optional(U64Input),
  dev: Type.Optional(
    Type.String({
      pattern: '^[0-9a-fA-F]{1,3}:[0-9a-fA-F]{1,5}$',
      description: 'major:minor in hex, as maps prints it',
      examples: ['fe:00'],
    }),
  ),
  inode: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  writable: Type.Optional(
    Type.Boolean({ description: 'file opened O_RDWR (default true); shared+write needs it' }),
  ),
};
const MunmapFields = { addr: U64Input, length: U64Input };
const MprotectFields = { addr: U64Input, length: U64Input, prot: ProtString };
const MremapFields = {
  old_addr: U64Input,
  old_size: U64Input,
  new_size: U64Input,
  flags: Type.Optional(
    flagsSchema(Object.keys(MREMAP_FLAG_BITS), 'MREMAP_* flags by name or as a number'),
  ),
  new_addr: Type.Optional(U64Input),
};
const BrkFields = { addr: U64Input };
const AnonNameFields = {
  addr: U64Input,
  length: U64Input,
  name: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()], {
    description: 'anon name (prctl PR_SET_VMA_ANON_NAME), null clears it',
  }),
};

const MadviseFields = {
  addr: U64Input,
  length: U64Input,
  advice: Type.Union(
    [
      Type.Enum(Object.keys(MADVISE_ADVICE)),
      Type.Integer({ minimum: -0x80000000, maximum: 0x7fffffff }),
    ],
    { description: 'MADV_* by name ("hugepage", "nohugepage", "dontneed") or as a number' },
  ),
};

const TouchFields = {
  addr: U64Input,
  length: U64Input,
  write: Type.Optional(
    Type.Boolean({ description: 'write every page (default false: read every page)' }),
  ),
};

const strict = { additionalProperties: false } as const;

export const MmapBody = Type.Object(MmapFields, strict);
export const MunmapBody = Type.Object(MunmapFields, strict);
export const MprotectBody = Type.Object(MprotectFields, strict);
export const MremapBody = Type.Object(MremapFields, strict);
export const BrkBody = Type.Object(BrkFields, strict);
export const AnonNameBody = Type.Object(AnonNameFields, strict);
export const TouchBody = Type.Object(TouchFields, strict);
export const MadviseBody = Type.Object(MadviseFields, strict);

/** The single-endpoint body schema of each op (POST /proc/:pid/<op>). */
export const BODY_SCHEMAS = {
  mmap: MmapBody,
  munmap: MunmapBody,
  mprotect: MprotectBody,
  mremap: MremapBody,
  brk: BrkBody,
  anon_name: AnonNameBody,
  touch: TouchBody,
  madvise: MadviseBody,
} as const satisfies Record<SyscallOp, TSchema>;

export const SYSCALL_OPS = Object.keys(BODY_SCHEMAS) as SyscallOp[];

export type BodyOf<Op extends SyscallOp> = Static<(typeof BODY_SCHEMAS)[Op]>;

/** A batch entry: `{"op": …}` plus that op's fields (checked per entry by `parseCallEntry`). */
export const CallEntry = Type.Object(
  { op: Type.Enum([...SYSCALL_OPS]) },
  { additionalProperties: true, description: 'one call: "op" plus that endpoint\'s fields' },
);

const ENTRY_CHECKERS = Object.fromEntries(
  SYSCALL_OPS.map((op) => [
    op,
    Compile(Type.Object({ op: Type.Literal(op), ...BODY_SCHEMAS[op].properties }, strict)),
  ]),
) as Record<SyscallOp, ReturnType<typeof Compile>>;

interface FieldChecker {
  check: ReturnType<typeof Compile>;
  required: boolean;
  expected: string;
}

/** Per op, one compiled checker per field: what `entryError` names the first bad field with. */
const FIELD_CHECKERS = Object.fromEntries(
  SYSCALL_OPS.map((op) => {
    const body = BODY_SCHEMAS[op];
    const required = new Set<string>(body.required ?? []);
    const fields = new Map<string, FieldChecker>();
    for (const [name, schema] of Object.entries(body.properties) as [string, TSchema][]) {
      const expected = expectedOf(schema);
      fields.set(name, { check: Compile(schema), required: required.has(name), expected });
    }
    return [op, fields];
  }),
) as Record<SyscallOp, Map<string, FieldChecker>>;

/**
 * The first thing wrong with an entry that failed its op's schema, found field by field with
 * compiled checks: TypeBox's `Errors()` costs ~60 µs an entry, which a batch of 65,536 bad
 * entries turned into seconds of event loop.
 */
function entryError(op: SyscallOp, entry: Record<string, unknown>): string {
  const fields = FIELD_CHECKERS[op];
  for (const key of Object.keys(entry)) {
    if (key !== 'op' && !fields.has(key))
      return `${op}: unknown field "${shown(key).slice(1, -1)}"`;
  }
  for (const [name, f] of fields) {
    if (!Object.hasOwn(entry, name)) {
      if (f.required) return `${op}: ${name} is required`;
    } else if (!f.check.Check(entry[name])) {
      return `${op}: ${name} ${shown(entry[name])} is not ${f.expected}`;
    }
  }
  return `${op}: invalid call`;
}

/** Thrown for a call that fails its schema; becomes EINVAL. */
export class CallShapeError extends UapiValueError {
  constructor(message: string) {
    super('EINVAL', message);
    this.name = 'CallShapeError';
  }
}

function isSyscallOp(op: unknown): op is SyscallOp {
  return typeof op === 'string' && (SYSCALL_OPS as string[]).includes(op);
}

/**
 * Validates one batch / loop / ws entry and converts it. Throws `CallShapeError` or
 * `UapiValueError` (both become EINVAL-style errors for that entry only).
 */
export function parseCallEntry(entry: unknown): SyscallCall {
  const op = (entry as { op?: unknown } | null)?.op;
  if (!isSyscallOp(op)) {
    throw new CallShapeError(`op must be one of ${SYSCALL_OPS.join(', ')}`);
  }
  if (!ENTRY_CHECKERS[op].Check(entry)) {
    throw new CallShapeError(entryError(op, entry as Record<string, unknown>));
  }
  return toSyscallCall(op, entry as BodyOf<typeof op>);
}

export function protBits(prot: string): number {
  let bits = 0;
  for (const c of prot) bits |= PROT_BITS[c as keyof typeof PROT_BITS] ?? 0;
  return bits;
}

function flagBits(
  flags: readonly string[] | number | undefined,
  table: Record<string, number>,
): number {
  if (flags === undefined) return 0;
  if (typeof flags === 'number') return flags;
  let bits = 0;
  for (const f of flags) bits |= table[f];
  return bits;
}

function parseDev(dev: string | undefined): [number, number] {
  if (dev === undefined) return [0, 0];
  const [maj, min] = dev.split(':');
  return [Number.parseInt(maj, 16), Number.parseInt(min, 16)];
}

function fileRef(body: BodyOf<'mmap'>): FileRef | null {
  if (body.path === undefined) return null;
  const [devMajor, devMinor] = parseDev(body.dev);
  return {
    path: body.path,
    devMajor,
    devMinor,
    inode: body.inode ?? 0,
    writable: body.writable ?? true,
  };
}

/** A validated single-endpoint body → engine call. Throws `UapiValueError` for bad u64s. */
export function toSyscallCall<Op extends SyscallOp>(op: Op, body: BodyOf<Op>): SyscallCall {
  switch (op) {
    case 'mmap': {
      const b = body as BodyOf<'mmap'>;
      const flags = flagBits(b.flags, MMAP_FLAG_BITS);
      return {
        op: 'mmap',
        addr: b.addr === undefined ? 0 : engineU64('addr', b.addr),
        length: engineU64('length', b.length),
        prot: protBits(b.prot),
        flags,
        // The engine checks it (alignment first, even for anonymous mappings, as x86 sys_mmap).
        offset: b.offset === undefined ? 0 : engineU64('offset', b.offset),
        // MAP_ANONYMOUS ignores the fd (and so the file fields), as the kernel does.
        file: flags & MAP_ANONYMOUS ? null : fileRef(b),
      };
    }
    case 'munmap': {
      const b = body as BodyOf<'munmap'>;
      return { op, addr: engineU64('addr', b.addr), length: engineU64('length', b.length) };
    }
    case 'mprotect': {
      const b = body as BodyOf<'mprotect'>;
      return {
        op,
        addr: engineU64('addr', b.addr),
        length: engineU64('length', b.length),
        prot: protBits(b.prot),
      };
    }
    case 'mremap': {
      const b = body as BodyOf<'mremap'>;
      return {
        op,
        oldAddr: engineU64('old_addr', b.old_addr),
        oldSize: engineU64('old_size', b.old_size),
        newSize: engineU64('new_size', b.new_size),
        flags: flagBits(b.flags, MREMAP_FLAG_BITS),
        newAddr: b.new_addr === undefined ? 0 : engineU64('new_addr', b.new_addr),
      };
    }
    case 'brk': {
      const b = body as BodyOf<'brk'>;
      return { op, addr: engineU64('addr', b.addr) };
    }
    case 'anon_name': {
      const b = body as BodyOf<'anon_name'>;
      return {
        op,
        addr: engineU64('addr', b.addr),
        length: engineU64('length', b.length),
        name: b.name,
      };
    }
    case 'madvise': {
      const b = body as BodyOf<'madvise'>;
      return {
        op,
        addr: engineU64('addr', b.addr),
        length: engineU64('length', b.length),
        advice:
          typeof b.advice === 'number'
            ? b.advice
            : MADVISE_ADVICE[b.advice as keyof typeof MADVISE_ADVICE],
      };
    }
    case 'touch': {
      const b = body as BodyOf<'touch'>;
      return {
        op,
        addr: engineU64('addr', b.addr),
        length: engineU64('length', b.length),
        write: b.write ?? false,
      };
    }
  }
  throw new CallShapeError(`unknown op ${String(op)}`);
}
