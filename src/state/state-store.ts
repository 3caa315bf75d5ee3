/**
 * `StateStore`: the service's state directory (`--state-dir`). One file, `procfs-sim.snapshot`,
 * holds the whole service (snapshot-frame.ts around service-image.ts).
 *
 * Writes are crash-safe: the new snapshot goes to a temporary file in the same directory, is
 * fsynced, renamed over the old one, and the directory is fsynced, so after a crash at any point
 * the file is either the previous snapshot or the new one, whole. Saves are serialized.
 *
 * At start `load()` reads it: no file means a fresh start; a file that is refused (torn, foreign,
 * newer or too old a format, or invalid) is moved aside to `procfs-sim.snapshot.refused-<time>`
 * (kept for inspection, and so that the next shutdown cannot overwrite it) and the service starts
 * empty, never half-restored.
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SimApi } from '../cpus/sim-api.js';
import { ImageFormatError } from '../mm/image/byte-buffer.js';
import {
  type CaptureTotals,
  captureService,
  decodeService,
  encodeService,
  type ServiceImage,
} from './service-image.js';
import {
  openFrame,
  SNAPSHOT_FORMAT_VERSION,
  SnapshotRefusedError,
  sealFrame,
} from './snapshot-frame.js';

export const SNAPSHOT_FILE = 'procfs-sim.snapshot';
const TMP_PREFIX = `${SNAPSHOT_FILE}.tmp-`;

export interface SaveResult extends CaptureTotals {
  bytes: number;
  durationMs: number;
  path: string;
  formatVersion: number;
}

export type LoadResult =
  | { kind: 'none'; path: string }
  | { kind: 'found'; path: string; image: ServiceImage; bytes: number }
  | { kind: 'refused'; path: string; reason: string; movedTo: string };

/** Writes `bytes` to `dir/name` so that a crash leaves the old file or the new one, whole. */
export async function writeFileDurably(
  dir: string,
  name: string,
  bytes: Uint8Array,
): Promise<void> {
  const tmp = join(dir, `${TMP_PREFIX}${process.pid}-${Date.now()}`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, join(dir, name));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export class StateStore {
  readonly path: string;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(r: SaveResult | Error) => void>();

  constructor(readonly dir: string) {
    this.path = join(dir, SNAPSHOT_FILE);
  }

  /** Called after every save, with its result or its error (metrics). */
  onSave(listener: (r: SaveResult | Error) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Reads the snapshot, if any (see the header). Creates the directory; drops stale temp files. */
  async load(): Promise<LoadResult> {
    await mkdir(this.dir, { recursive: true });
    for (const f of await readdir(this.dir)) {
      if (f.startsWith(TMP_PREFIX)) await unlink(join(this.dir, f)).catch(() => {});
    }
    let file: Buffer;
    try {
      file = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { kind: 'none', path: this.path };
      throw err;
    }
    try {
      const { payload, version } = openFrame(file);
      const image = decodeService(payload, version);
      return { kind: 'found', path: this.path, image, bytes: file.length };
    } catch (err) {
      if (!(err instanceof SnapshotRefusedError || err instanceof ImageFormatError)) throw err;
      return this.setAside(`${err.message}`);
    }
  }

  /** Moves the snapshot out of the way after it was refused (also used when a restore fails). */
  async setAside(reason: string): Promise<LoadResult & { kind: 'refused' }> {
    const movedTo = `${this.path}.refused-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(this.path, movedTo);
    return { kind: 'refused', path: this.path, reason, movedTo };
  }

  /** Writes a snapshot of every process of `sim` now (serialized with other saves). */
  save(sim: SimApi): Promise<SaveResult> {
    const run = this.queue.then(() => this.saveNow(sim));
    this.queue = run.catch(() => {});
    return run;
  }

  private async saveNow(sim: SimApi): Promise<SaveResult> {
    const t0 = performance.now();
    try {
      const durable = sim.durable;
      if (durable === undefined) throw new Error('this engine cannot be snapshotted');
      const image = await captureService(sim, durable);
      const file = sealFrame(encodeService(image));
      await mkdir(this.dir, { recursive: true });
      await writeFileDurably(this.dir, SNAPSHOT_FILE, file);
      let vmas = 0;
      for (const p of image.processes) vmas += p.mm.count;
      const result: SaveResult = {
        processes: image.processes.length,
        vmas,
        bytes: file.length,
        durationMs: performance.now() - t0,
        path: this.path,
        formatVersion: SNAPSHOT_FORMAT_VERSION,
      };
      for (const l of this.listeners) l(result);
      return result;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const l of this.listeners) l(e);
      throw e;
    }
  }
}
