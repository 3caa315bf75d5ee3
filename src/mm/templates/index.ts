/**
 * Process templates: `minimal` (a small C tool: cat), `bash`, `node` and `jvm` (OpenJDK 17 with
 * 24 threads: thread stacks with guard pages, a 6 GiB heap reservation, malloc arenas, the code
 * cache). Each is a real maps layout captured on this host (layouts/), relocated like ASLR from a
 * seed (relocate.ts) and imported into a fresh `MmStruct` (import-maps.ts), so templates have
 * real libraries with their r--p/r-xp/r--p/rw-p segments and offsets, bss, guards, heap, stack,
 * vvar/vvar_vclock/vdso and the vsyscall gate, and later syscalls behave as on the real process.
 */
import { importMaps } from '../import-maps.js';
import type { MmCreateOptions, MmStruct } from '../mm-struct.js';
import { BASH_LAYOUT } from './layouts/bash.js';
import { JVM_LAYOUT } from './layouts/jvm.js';
import { MINIMAL_LAYOUT } from './layouts/minimal.js';
import { NODE_LAYOUT } from './layouts/node.js';
import { relocateLayout } from './relocate.js';

export const TEMPLATE_NAMES = ['minimal', 'bash', 'node', 'jvm'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const LAYOUTS: Readonly<Record<TemplateName, string>> = {
  minimal: MINIMAL_LAYOUT,
  bash: BASH_LAYOUT,
  node: NODE_LAYOUT,
  jvm: JVM_LAYOUT,
};

export function isTemplateName(s: string): s is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(s);
}

export interface TemplateOptions extends MmCreateOptions {
  /** ASLR seed: the same seed gives the same addresses. Default: a random seed. */
  seed?: number;
}

/** The template's maps text for `seed` (what the built process's maps will read). */
export function templateMaps(name: TemplateName, seed: number): string {
  return relocateLayout(LAYOUTS[name], seed);
}

/** A new address space laid out like a fresh `name` process. */
export function buildTemplate(name: TemplateName, opts: TemplateOptions = {}): MmStruct {
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  return importMaps(templateMaps(name, seed), opts);
}
