/**
 * The built-in population `npm start` serves (`--population N`): a realistic mix of processes
 * from the templates, a few of them busy, so maps, queries, metrics and dashboards show live data
 * at once. Pids are handed out in this order, so the first process is pid 1 (a bash, like the
 * docs' examples use).
 *
 * Template layouts: until the engine's own templates (src/mm/templates/, issue 2) land, each
 * template is a real x86-64 layout (a host's `cat`, as in test/fixtures/real-maps) with the
 * program's path, imported through src/mm/import-maps.ts; node and jvm add the anonymous regions
 * their runtimes map (JIT code, heaps). `templateMaps()` is the one place to switch over.
 */
import { importMaps } from '../mm/import-maps.js';
import type { MmCreateOptions, MmStruct } from '../mm/mm-struct.js';
import type { ActivitySpec, TemplateName } from './sim-api.js';

export interface PopulationEntry {
  template: TemplateName;
  comm: string;
  activity: ActivitySpec | null;
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
    plan.push({ template: slot.template, comm: slot.comm, activity: busy });
  }
  return plan;
}

const PAD = 73;
const line = (range: string, perms: string, off: string, dev: string, ino: number, name = '') => {
  const prefix = `${range} ${perms} ${off} ${dev} ${ino} `;
  return name === '' ? prefix : `${prefix.padEnd(PAD)}${name}`;
};

const PROGRAMS: Record<TemplateName, { path: string; inode: number }> = {
  minimal: { path: '/usr/bin/cat', inode: 260131 },
  bash: { path: '/usr/bin/bash', inode: 260095 },
  node: { path: '/usr/bin/node', inode: 262410 },
  jvm: { path: '/usr/lib/jvm/java-17-openjdk-amd64/bin/java', inode: 401877 },
};

/** Runtime regions below the libraries: a JIT's rwx code cache, a JVM's heap reservation. */
const RUNTIME_REGIONS: Record<TemplateName, string[]> = {
  minimal: [],
  bash: [],
  node: [
    line('7f7c90000000-7f7c90040000', 'rw-p', '00000000', '00:00', 0),
    line('7f7c9c000000-7f7ca0000000', 'rwxp', '00000000', '00:00', 0),
  ],
  jvm: [
    line('7f7c40000000-7f7c48000000', 'rw-p', '00000000', '00:00', 0),
    line('7f7c48000000-7f7c50000000', '---p', '00000000', '00:00', 0),
    line('7f7c9c000000-7f7ca0000000', 'rwxp', '00000000', '00:00', 0),
  ],
};

const LIBC = '/usr/lib/x86_64-linux-gnu/libc.so.6';
const LD = '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2';

/** The maps text a template's process starts with. */
export function templateMaps(template: TemplateName): string {
  const { path, inode } = PROGRAMS[template];
  const lines = [
    line('56129ed1d000-56129ed1f000', 'r--p', '00000000', 'fe:00', inode, path),
    line('56129ed1f000-56129ed24000', 'r-xp', '00002000', 'fe:00', inode, path),
    line('56129ed24000-56129ed27000', 'r--p', '00007000', 'fe:00', inode, path),
    line('56129ed27000-56129ed28000', 'r--p', '00009000', 'fe:00', inode, path),
    line('56129ed28000-56129ed29000', 'rw-p', '0000a000', 'fe:00', inode, path),
    line('5612d36b3000-5612d36d4000', 'rw-p', '00000000', '00:00', 0, '[heap]'),
    ...RUNTIME_REGIONS[template],
    line('7f7cb0f6f000-7f7cb0f91000', 'rw-p', '00000000', '00:00', 0),
    line('7f7cb0ff4000-7f7cb101a000', 'r--p', '00000000', 'fe:00', 339380, LIBC),
    line('7f7cb101a000-7f7cb1170000', 'r-xp', '00026000', 'fe:00', 339380, LIBC),
    line('7f7cb1170000-7f7cb11c3000', 'r--p', '0017c000', 'fe:00', 339380, LIBC),
    line('7f7cb11c3000-7f7cb11c7000', 'r--p', '001cf000', 'fe:00', 339380, LIBC),
    line('7f7cb11c7000-7f7cb11c9000', 'rw-p', '001d3000', 'fe:00', 339380, LIBC),
    line('7f7cb11c9000-7f7cb11d6000', 'rw-p', '00000000', '00:00', 0),
    line('7f7cb11df000-7f7cb11e1000', 'rw-p', '00000000', '00:00', 0),
    line('7f7cb11e1000-7f7cb11e5000', 'r--p', '00000000', '00:00', 0, '[vvar]'),
    line('7f7cb11e5000-7f7cb11e7000', 'r--p', '00000000', '00:00', 0, '[vvar_vclock]'),
    line('7f7cb11e7000-7f7cb11e9000', 'r-xp', '00000000', '00:00', 0, '[vdso]'),
    line('7f7cb11e9000-7f7cb11ea000', 'r--p', '00000000', 'fe:00', 338944, LD),
    line('7f7cb11ea000-7f7cb1210000', 'r-xp', '00001000', 'fe:00', 338944, LD),
    line('7f7cb1210000-7f7cb121a000', 'r--p', '00027000', 'fe:00', 338944, LD),
    line('7f7cb121a000-7f7cb121c000', 'r--p', '00031000', 'fe:00', 338944, LD),
    line('7f7cb121c000-7f7cb121e000', 'rw-p', '00033000', 'fe:00', 338944, LD),
    line('7ffd65f61000-7ffd65f82000', 'rw-p', '00000000', '00:00', 0, '[stack]'),
    line('ffffffffff600000-ffffffffff601000', '--xp', '00000000', '00:00', 0, '[vsyscall]'),
  ];
  return `${lines.join('\n')}\n`;
}

export function buildTemplateProcess(template: TemplateName, opts: MmCreateOptions): MmStruct {
  return importMaps(templateMaps(template), opts);
}
