/**
 * CPU a server process spends, read from /proc while autocannon loads it: the whole process
 * (every thread: utime + stime of /proc/PID/stat, in clock ticks) and its main thread (the event
 * loop: /proc/PID/task/PID/schedstat, ns on CPU). Divided by the requests served, this is the
 * server CPU per request, the number that does not depend on how fast the client is.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: Linux reports utime/stime in 1/100 s on every architecture we run on. */
const TICK_US = 10_000;

export interface CpuSample {
  processUs: number;
  mainThreadUs: number;
}

export function sampleCpu(pid: number): CpuSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const sched = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'latin1');
  return {
    processUs: ticks * TICK_US,
    mainThreadUs: Number(sched.slice(0, sched.indexOf(' '))) / 1000,
  };
}

/** CPU µs per request between two samples. */
export function cpuPerRequest(a: CpuSample, b: CpuSample, requests: number): CpuSample {
  return {
    processUs: (b.processUs - a.processUs) / requests,
    mainThreadUs: (b.mainThreadUs - a.mainThreadUs) / requests,
  };
}
