/**
 * `lockless_nofallback`: the lockless strategy (lockless.ts) that reads names speculatively too:
 * freed/reused anon names and dummy ops are detected and counted as hazards, not avoided.
 */
import { locklessVariant } from './lockless.js';

export default locklessVariant('lockless_nofallback', false);
