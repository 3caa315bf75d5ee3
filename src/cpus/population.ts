/**
 * The built-in population `npm start` serves (`--population N`): a realistic mix of processes
 * from the templates, a few of them busy, so maps, queries, metrics and dashboards show live data
 * at once. Pids are handed out in this order, so the first process is pid 1 (a bash, like the
 * docs' examples use).
 */
import { errnoName } from '../mm/errno.js';
import { importMaps, MapsImportError } from '../mm/import-maps.js';
import type { MmStruct } from '../mm/mm-struct.js';
import { buildTemplate, type TemplateOptions } from '../mm/templates/index.js';
import {
  type ActivitySpec,
  type CreateProcessOptions,
  SimError,
  type TemplateName,
} from './sim-api.js';

export interface PopulationEntry {
  template: TemplateName;
  comm: string;
  activity: ActivitySpec | null;
  /** ASLR seed of its layout (deterministic per position). */
  seed: number;
}

/** One slot per 8 processes: mostly shells, some node and JVM services, one tiny tool. */
const ROTATION: ReadonlyArray<{ template: TemplateName; comm: string }> = [
  { template: 'bash', comm: 'bash' },
  { template: 'node', comm: 'node' },
  { template: 'bash', comm: 'bash' },
  { template: 'jvm', comm: 'java' },
  { template: 'bash', comm: 'sshd' },
  { template: 'node', comm: 'node' },
  { template: 'minimal', comm: 'cat' },
  { template: 'bash', comm: 'bash' },
];

/** Busy processes cycle through the profiles, at a modest rate each. */
const BUSY: readonly ActivitySpec[] = [
  { kind: 'profile', profile: 'jit', ratePerS: 200 },
  { kind: 'profile', profile: 'malloc', ratePerS: 200 },
  { kind: 'profile', profile: 'mmap_churn', ratePerS: 200 },
  { kind: 'profile', profile: 'thread_stacks', ratePerS: 50 },
];

/** Every 8th process, starting with the second (a node: JIT), is busy. */
export function populationPlan(n: number): PopulationEntry[] {
  const plan: PopulationEntry[] = [];
  for (let i = 0; i < n; i++) {
    const slot = ROTATION[i % ROTATION.length];
    const busy = i % 8 === 1 ? BUSY[Math.floor(i / 8) % BUSY.length] : null;
    plan.push({ template: slot.template, comm: slot.comm, activity: busy, seed: i + 1 });
  }
  return plan;
}

/**
 * A template's address space. `opts.seed` fixes its ASLR placement (the population passes its
 * index, so `npm start` always serves the same layouts); without one it is random, as for a
 * real exec.
 */
export function buildTemplateProcess(template: TemplateName, opts: TemplateOptions): MmStruct {
  return buildTemplate(template, opts);
}

/** Linux TASK_COMM_LEN is 16 with the NUL: comm is cut to 15 bytes, as prctl(PR_SET_NAME). */
export const COMM_MAX = 15;

/**
 * The address space and comm of `POST /processes`: an imported maps text, or a template (random
 * ASLR placement, as for a real exec), on a CPU with protection keys if `opts.pkeys` (default:
 * `mmOptions.pkeys`, the service's). An unparsable text is a SimError with the importer's errno
 * (EINVAL, or ENOMEM beyond max_map_count or when the file table's new entries pass the budget).
 */
export function newProcessImage(
  opts: CreateProcessOptions,
  mmOptions: TemplateOptions,
): { mm: MmStruct; comm: string } {
  let mm: MmStruct;
  if (opts.pkeys !== undefined) mmOptions = { ...mmOptions, pkeys: opts.pkeys };
  try {
    mm =
      opts.maps !== undefined
        ? importMaps(opts.maps, mmOptions)
        : buildTemplateProcess(opts.template ?? 'minimal', mmOptions);
  } catch (e) {
    // A template's files too may not fit (ENOMEM past --max-memory): an errno, not a 500.
    if (!(e instanceof MapsImportError)) throw e;
    throw new SimError(e.errno, errnoName(e.errno), e.message);
  }
  const comm = opts.comm ?? (opts.maps !== undefined ? 'imported' : (opts.template ?? 'minimal'));
  return { mm, comm: comm.slice(0, COMM_MAX) };
}
