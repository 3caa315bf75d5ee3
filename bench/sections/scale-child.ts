/**
 * The scale section's measurements in a process of their own (`node scale-child.js [--quick]`):
 * progress lines on stderr, the figures as JSON on stdout. Run by scale-child-run.ts.
 */
import '../../src/v8-inlining.js';
import { measureScale } from './scale.js';

const figures = await measureScale({
  quick: process.argv.includes('--quick'),
  progress: (msg) => process.stderr.write(`${msg}\n`),
});
process.stdout.write(JSON.stringify(figures));
