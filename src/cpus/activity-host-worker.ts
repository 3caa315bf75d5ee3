/**
 * Entry of the shared activity thread (activity-host.ts): runs many capped activities on one
 * thread, each through its own ActivityRunner (the same calls, pacing, counters and event records
 * as on a thread of its own). Each wake runs every call that fell due, activity after activity,
 * then sleeps until the earliest next one (at least RATE_SLEEP_MS away), or until the event loop
 * bumps the control word (an activity added or stopped, or close).
 *
 * Control word (Int32 word 0 of `control`): bumped (Atomics.add + notify) by the event loop after
 * each message it posts on `port`; this thread loads it BEFORE it drains the port and sleeps only
 * while it still holds that value, so a message posted meanwhile is never slept through.
 */
import {
  type MessagePort,
  parentPort,
  receiveMessageOnPort,
  workerData,
} from 'node:worker_threads';
import { ActivityCounters } from './activity-counters.js';
import { ActivityEventWriter } from './activity-events.js';
import { ActivityRunner } from './activity-runner.js';
import { EventsGate, MutationRing } from './mutation-ring.js';
import type { ActivitySpec } from './sim-api.js';
import type { EngineThreadData } from './transport.js';
import { openWriterThread } from './writer-thread.js';

export interface ActivityHostData {
  engine: EngineThreadData;
  /** The sim's subscription gate (every hosted activity's records obey it). */
  gate: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** Where the event loop posts `HostCommand`s (read synchronously between wakes). */
  port: MessagePort;
}

/** One activity to run: its process, spec, counters and event ring (it is their only writer). */
export interface HostedActivityData {
  id: number;
  mm: SharedArrayBuffer;
  spec: ActivitySpec;
  counters: SharedArrayBuffer;
  ring: SharedArrayBuffer;
}

export type HostCommand = { add: HostedActivityData } | { close: true };
/** What the thread tells the event loop, besides 'ready' once it holds its RCU slot. */
export type HostReport = { added: number } | { stopped: number } | { died: number; reason: string };

const data = workerData as ActivityHostData;
const thread = openWriterThread(data.engine);
const gate = EventsGate.attach(data.gate);
const control = new Int32Array(data.control);
/** Hosted activities by id; a finished one (a source that ran out) stays until it is stopped. */
const runners = new Map<number, { runner: ActivityRunner; finished: boolean }>();
const report = (r: HostReport) => parentPort?.postMessage(r);
parentPort?.postMessage('ready');

try {
  hostLoop();
} finally {
  thread.close();
}

function hostLoop(): void {
  for (;;) {
    const seen = Atomics.load(control, 0);
    for (let m = receiveMessageOnPort(data.port); m; m = receiveMessageOnPort(data.port)) {
      const command = m.message as HostCommand;
      if ('close' in command) return;
      add(command.add);
    }
    let sleepMs = Number.POSITIVE_INFINITY;
    for (const [id, hosted] of runners) sleepMs = Math.min(sleepMs, runDue(id, hosted));
    Atomics.wait(control, 0, seen, sleepMs);
  }
}

function add(a: HostedActivityData): void {
  const counters = ActivityCounters.attach(a.counters);
  const events = new ActivityEventWriter(MutationRing.attach(a.ring), gate);
  try {
    const runner = new ActivityRunner(thread.attach(a.mm), thread.env, a.spec, counters, events);
    runners.set(a.id, { runner, finished: false });
    report({ added: a.id });
  } catch (err) {
    report({ died: a.id, reason: (err as Error)?.stack ?? String(err) });
  }
}

/** Runs the calls of one activity that are due; returns how long until its next one. */
function runDue(id: number, hosted: { runner: ActivityRunner; finished: boolean }): number {
  const runner = hosted.runner;
  try {
    for (;;) {
      if (runner.counters.stopRequested) {
        runners.delete(id);
        report({ stopped: id });
        return Number.POSITIVE_INFINITY;
      }
      if (hosted.finished) return Number.POSITIVE_INFINITY;
      const sleepMs = runner.sleepMs();
      if (sleepMs > 0) return sleepMs;
      if (!runner.step()) hosted.finished = true;
    }
  } catch (err) {
    // A bug in a call source or the engine: this activity stops and says why; the others go on.
    runners.delete(id);
    report({ died: id, reason: (err as Error)?.stack ?? String(err) });
    return Number.POSITIVE_INFINITY;
  }
}
