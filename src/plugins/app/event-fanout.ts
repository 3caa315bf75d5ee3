/**
 * The /ws event stream's fan-out (`app.eventFanout`). One engine listener for all subscribers
 * however many there are; each mutation event is serialised ONCE, into one Buffer, and that same
 * Buffer goes to every subscriber that wants it (subscribers of one pid only get that pid's).
 * Before this, each subscriber formatted and stringified every event itself: 100 subscribers of
 * a busy process held the event loop for seconds at a time (issue 11 finding 7).
 *
 * At most `--ws-max-subscribers` event subscriptions are open at once; one more is refused
 * (`subscribe` answers null: the route replies EAGAIN) rather than slowing everyone down.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type MutationEvent, type SimApi, SimError } from '../../cpus/sim-api.js';
import { formatCallArgs, formatResult } from '../../schemas/syscall-format.js';

declare module 'fastify' {
  interface FastifyInstance {
    eventFanout: EventFanout;
  }
}

/**
 * Receives the messages of one burst of events (each a JSON text frame's bytes, in order): the
 * events a drain of the activity rings or one syscall batch produced. A burst at a time, so the
 * receiver can write them to its socket in one go rather than one write(2) per event (per-event
 * writes were most of the fan-out's cost).
 */
export type EventSink = (frames: readonly Buffer[]) => void;

interface Subscriber {
  pid: number | undefined;
  sink: EventSink;
  /** Frames of the current burst not yet handed to `sink` (event loop only). */
  pending: Buffer[];
}

/** The message of one event, as API.md gives it. */
function eventMessage(e: MutationEvent): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'mutation',
      pid: e.pid,
      op: e.call.op,
      args: formatCallArgs(e.call),
      result:
        e.result instanceof SimError
          ? { error: e.result.code, errno: e.result.errno }
          : formatResult(e.call.op, e.result),
    }),
  );
}

export class EventFanout {
  private readonly subscribers = new Set<Subscriber>();
  private stopListening: (() => void) | null = null;
  private flushScheduled = false;

  constructor(
    private readonly sim: SimApi,
    readonly maxSubscribers: number,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  /** Adds a subscriber; returns its unsubscribe function, or null when the cap is reached. */
  subscribe(pid: number | undefined, sink: EventSink): (() => void) | null {
    if (this.subscribers.size >= this.maxSubscribers) return null;
    const sub: Subscriber = { pid, sink, pending: [] };
    this.subscribers.add(sub);
    this.stopListening ??= this.sim.onMutation((e) => this.deliver(e));
    return () => {
      if (!this.subscribers.delete(sub) || this.subscribers.size > 0) return;
      this.stopListening?.();
      this.stopListening = null;
    };
  }

  private deliver(e: MutationEvent): void {
    let frame: Buffer | null = null;
    for (const sub of this.subscribers) {
      if (sub.pid !== undefined && sub.pid !== e.pid) continue;
      frame ??= eventMessage(e);
      sub.pending.push(frame);
    }
    if (frame !== null && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands each subscriber the burst gathered since the last flush. */
  private flush(): void {
    this.flushScheduled = false;
    for (const sub of this.subscribers) {
      if (sub.pending.length === 0) continue;
      const frames = sub.pending;
      sub.pending = [];
      sub.sink(frames);
    }
  }
}

async function eventFanoutPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('eventFanout', new EventFanout(app.sim, app.serviceConfig.wsMaxSubscribers));
}

export default fp(eventFanoutPlugin, { name: 'event-fanout', dependencies: ['sim'] });
