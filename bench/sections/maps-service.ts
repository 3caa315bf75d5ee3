/**
 * `npm run bench -- --only=maps`: a maps read in the service setting, per strategy, for a quiet
 * and a busy template process (bench/engine/maps-service.ts).
 */
import { runMapsInService } from '../engine/maps-service.js';
import type { BenchSection } from '../lib/figure.js';

export const mapsServiceSection: BenchSection = { name: 'maps', run: runMapsInService };
