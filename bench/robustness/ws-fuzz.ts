/**
 * Hostile /ws messages, one arbitrary per op of the protocol (the request ops, every syscall op,
 * subscribe/unsubscribe) plus malformed frames, and the checks of their replies: exactly one
 * reply per message (events and rates pushed by a subscription are set aside), every error reply
 * in the errno shape, the victim's maps unchanged after every error reply (with the same
 * partial-application exceptions as HTTP, hostile-client.ts).
 */
import fc from 'fast-check';
import type { WebSocket } from 'ws';
import { SYSCALL_OPS } from '../../src/schemas/syscalls.js';
import { REQUEST_OPS } from '../../src/schemas/ws-protocol.js';
import { errnoShapeProblem, type HostileClient, isPartialError } from './hostile-client.js';
import { hostileBodyText, hostileU64, u64Field, wrongType } from './hostile-values.js';
import { callEntry, type RequestShapes } from './http-bodies.js';
import type { PidToken } from './http-requests.js';

/** The ops a client can send besides subscriptions: the coverage test compares with the server's. */
export const WS_FUZZED_OPS = [...REQUEST_OPS, ...SYSCALL_OPS];

export interface HostileMessage {
  /** The op it was made for (`mmap`, `subscribe`, `malformed`, …). */
  op: string;
  /** JSON fields, with `pid` resolved at send time from the token. */
  fields?: Record<string, unknown>;
  pid?: PidToken | { value: unknown };
  /** A frame sent as is (malformed JSON, wrong types); binary when `binary`. */
  raw?: string;
  binary?: boolean;
}

const strategy = fc.constantFrom<unknown>(
  'per_vma',
  'lockless',
  'snapshot',
  'mmap_lock',
  'bogus',
  '',
  3,
  null,
);
const boolish = fc.constantFrom<unknown>(true, false, 0, 1, 2, 'true', null);
const id = fc.oneof(
  { arbitrary: fc.nat({ max: 1e6 }), weight: 8 },
  {
    arbitrary: fc.constantFrom<unknown>('a', 'x'.repeat(201), null, {}, [], 1.5, -1, true),
    weight: 1,
  },
);
const wsPid: fc.Arbitrary<HostileMessage['pid']> = fc.oneof(
  { arbitrary: fc.constantFrom<PidToken>('victim', 'victim', 'sacrifice', 'missing'), weight: 4 },
  {
    arbitrary: fc
      .constantFrom<unknown>(0, -1, 1.5, '1', 2 ** 31, 2 ** 53, null, [1])
      .map((value) => ({ value })),
    weight: 1,
  },
);

/** Per op, the fields besides id/op/pid. */
function opFieldsArb(op: string, shapes: RequestShapes): fc.Arbitrary<Record<string, unknown>> {
  const u64 = u64Field(shapes.bases);
  const any = fc.oneof(hostileU64, wrongType);
  const opt = (model: Record<string, fc.Arbitrary<unknown>>) =>
    fc.record(model, { requiredKeys: [] });
  switch (op) {
    case 'maps':
      return opt({
        strategy,
        chunk: fc.constantFrom<unknown>(0, 1, 4096, 2 ** 26, 2 ** 26 + 1, -1, 1.9, '4096'),
        chunks: boolish,
      });
    case 'procmap_query':
      return opt({
        strategy,
        addr: u64,
        flags: fc.oneof(fc.constantFrom<unknown>('COVERING_OR_NEXT_VMA', 'NOPE', 255, 2 ** 53)),
        name: boolish,
        build_id: boolish,
      });
    case 'processes':
      return opt({ offset: any, limit: fc.constantFrom<unknown>(0, 1, 10_000, 10_001, -1, 1.5) });
    case 'syscalls':
      return opt({
        calls: fc.oneof(
          fc.array(callEntry(shapes), { maxLength: 6 }),
          wrongType,
          fc.constant(new Array(70).fill({ op: 'bogus' })),
        ),
      });
    case 'process':
    case 'config':
      return opt({ junk: any });
    default:
      return callEntry(shapes).map((e) => {
        const { op: _op, ...rest } = (typeof e === 'object' && e !== null ? e : {}) as Record<
          string,
          unknown
        >;
        return rest;
      });
  }
}

/** Every message kind, hostile. */
export function wsMessages(shapes: RequestShapes): fc.Arbitrary<HostileMessage> {
  const request = fc
    .constantFrom(...WS_FUZZED_OPS, 'toString', '__proto__', 'constructor', 'subscribe')
    .chain((op) =>
      fc.record({ id, pid: wsPid, f: opFieldsArb(op, shapes) }).map(({ id: i, pid, f }) => ({
        op,
        pid,
        fields: { ...f, id: i, op },
      })),
    );
  const subscription = fc
    .record({
      verb: fc.constantFrom('subscribe', 'unsubscribe'),
      what: fc.constantFrom<unknown>('events', 'rates', 'bogus', null, 1),
      pid: fc.option(wsPid, { nil: undefined }),
    })
    .map(({ verb, what, pid }) => ({ op: verb, pid, fields: { [verb]: what } }));
  const malformed = fc.oneof(
    hostileBodyText.map((raw) => ({ op: 'malformed', raw })),
    fc.constant({ op: 'malformed', raw: '{"id":1,"op":"maps"}', binary: true }),
  );
  return fc.oneof(
    { arbitrary: request, weight: 6 },
    { arbitrary: subscription, weight: 1 },
    { arbitrary: malformed, weight: 2 },
  );
}

function render(c: HostileClient, m: HostileMessage): { data: string; pid: number | null } {
  if (m.raw !== undefined) return { data: m.raw, pid: null };
  const fields = { ...m.fields };
  let pid: number | null = null;
  if (m.pid !== undefined) {
    if (typeof m.pid === 'object' && 'value' in m.pid) fields.pid = m.pid.value;
    else {
      pid = Number(c.pidSegment(m.pid as PidToken));
      fields.pid = pid;
    }
  }
  return { data: JSON.stringify(fields), pid };
}

/** One socket's replies, in order; pushed events and rates are set aside. */
export class WsReplies {
  private queue: Record<string, unknown>[] = [];
  private waiter: ((m: Record<string, unknown>) => void) | null = null;
  closed: { code: number } | null = null;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      if (m.type === 'mutation' || m.type === 'rates') return;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(m);
      } else this.queue.push(m);
    });
    socket.on('close', (code) => {
      this.closed = { code };
    });
  }

  /** The next reply, or an error after `deadlineMs`. */
  next(deadlineMs: number): Promise<Record<string, unknown>> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(
          new Error(
            `no reply within ${deadlineMs} ms (socket ${this.closed ? `closed ${this.closed.code}` : 'open'})`,
          ),
        );
      }, deadlineMs);
      this.waiter = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
  }
}

/** Sends one message and checks its reply; returns the violation, or null. */
export async function sendWs(
  c: HostileClient,
  replies: WsReplies,
  m: HostileMessage,
  deadlineMs = 10_000,
): Promise<string | null> {
  const { data, pid } = render(c, m);
  replies.socket.send(m.binary ? Buffer.from(data) : data);
  let reply: Record<string, unknown>;
  try {
    reply = await replies.next(deadlineMs);
  } catch (e) {
    return record(c, `${(e as Error).message}: ${data.slice(0, 200)}`);
  }
  c.tally.tried++;
  const err = reply.type === 'error' ? reply : (reply.error as Record<string, unknown> | undefined);
  const what = `${data.slice(0, 200)} → ${JSON.stringify(reply).slice(0, 200)}`;
  if (err === undefined) {
    c.tally.classes['2xx']++;
    await c.resync();
    return null;
  }
  c.tally.classes[err.error === 'EBUSY' ? 'shed' : '4xx']++;
  const shape = errnoShapeProblem(err);
  if (shape) return record(c, `ws error reply outside the errno shape (${shape}): ${what}`);
  if (
    m.fields &&
    typeof m.fields.id === 'number' &&
    reply.id !== m.fields.id &&
    reply.type !== 'error'
  ) {
    return record(c, `ws reply without its id: ${what}`);
  }
  if (pid === c.victim && isPartialError(m.op, String(err.error))) {
    c.tally.partialErrors++;
    await c.resync();
    return null;
  }
  const problem = await c.unchanged();
  return problem ? record(c, `${problem} (ws): ${what}`) : null;
}

function record(c: HostileClient, v: string): string {
  c.tally.violations.push(v);
  return v;
}
