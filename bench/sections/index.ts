import type { BenchSection } from '../lib/figure.js';
import { engineSection } from './engine.js';

/** The sections of `npm run bench`, in the order they run. */
export const sections: BenchSection[] = [engineSection];
