import type { BenchSection } from '../lib/figure.js';

/** The sections of `npm run bench`, in the order they run. */
export const sections: BenchSection[] = [];
