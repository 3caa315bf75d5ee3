import { benchIndexMutation } from '../engine/index-mutation.js';
import type { BenchSection } from '../lib/figure.js';
import { metricsOverheadSection } from '../metrics/overhead.js';
import { engineSection } from './engine.js';
import { httpSection } from './http.js';
import { mapsServiceSection } from './maps-service.js';
import { robustnessSection } from './robustness.js';
import { scaleSection } from './scale.js';
import { snapshotSection } from './snapshot.js';
import { strategiesSection } from './strategies.js';

const indexSection: BenchSection = { name: 'index', run: benchIndexMutation };

/** The sections of `npm run bench`, in the order they run. */
export const sections: BenchSection[] = [
  engineSection,
  indexSection,
  mapsServiceSection,
  metricsOverheadSection,
  httpSection,
  strategiesSection,
  snapshotSection,
  robustnessSection,
  scaleSection,
];
