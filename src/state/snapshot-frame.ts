/**
 * The framing of a snapshot file: a fixed header that says what the file is and whether it is
 * whole, then the payload.
 *
 *   bytes 0-7    magic "PFSIMSNP"
 *   bytes 8-11   format version (u32 LE)
 *   bytes 12-15  reserved, 0
 *   bytes 16-23  payload length (u64 LE)
 *   bytes 24-55  SHA-256 of the payload
 *   bytes 56-    payload (service-image.ts, per version)
 *
 * `openFrame` refuses, with a reason fit for a log line, a file that is torn (shorter or longer
 * than its header says, or failing its checksum), foreign (no magic), newer than this build, or
 * older than the oldest format this build still reads (named by `SNAPSHOT_FORMATS`).
 */
import { createHash } from 'node:crypto';

const MAGIC = new TextEncoder().encode('PFSIMSNP');
export const FRAME_HEADER_BYTES = 56;

/** Every format this build knows, by version. Add a version here when the payload changes. */
export const SNAPSHOT_FORMATS: Readonly<Record<number, string>> = {
  1: 'logical-v1 (mm fields, VMAs as columns, referenced files and anon names, activities)',
  2: 'logical-v2 (v1 + per-process machine caps: protection keys)',
  3: 'logical-v3 (v2 + page state: page objects, per-process page-table runs)',
  4: 'logical-v4 (v3 + per-process zero-page capability and THP mode, hiwater_vm)',
  5: 'logical-v5 (v4 + per-process page tables: PTE, PMD and PUD tables kept without pages)',
};
/** The version this build writes. */
export const SNAPSHOT_FORMAT_VERSION = 5;
/** The oldest version this build still reads. */
export const OLDEST_READABLE_VERSION = 1;

export class SnapshotRefusedError extends Error {
  override name = 'SnapshotRefusedError';
}

export function sealFrame(payload: Uint8Array, version = SNAPSHOT_FORMAT_VERSION): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, version, true);
  view.setUint32(12, 0, true);
  view.setBigUint64(16, BigInt(payload.length), true);
  out.set(createHash('sha256').update(payload).digest(), 24);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export interface OpenedFrame {
  version: number;
  payload: Uint8Array;
}

/** The payload of a whole, checksummed file of a readable version; SnapshotRefusedError else. */
export function openFrame(file: Uint8Array): OpenedFrame {
  if (file.length < MAGIC.length || !MAGIC.every((b, i) => file[i] === b)) {
    throw new SnapshotRefusedError('not a procfs-sim snapshot (no PFSIMSNP magic): foreign file');
  }
  if (file.length < FRAME_HEADER_BYTES) {
    throw new SnapshotRefusedError(`torn: ${file.length} bytes, shorter than the header`);
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = view.getUint32(8, true);
  if (version > SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotRefusedError(
      `format v${version} is newer than this build, which reads v${OLDEST_READABLE_VERSION}…v${SNAPSHOT_FORMAT_VERSION}`,
    );
  }
  if (version < OLDEST_READABLE_VERSION || SNAPSHOT_FORMATS[version] === undefined) {
    throw new SnapshotRefusedError(
      `format v${version} is older than the oldest this build reads (v${OLDEST_READABLE_VERSION}: ${SNAPSHOT_FORMATS[OLDEST_READABLE_VERSION]})`,
    );
  }
  const length = view.getBigUint64(16, true);
  const actual = BigInt(file.length - FRAME_HEADER_BYTES);
  if (length !== actual) {
    throw new SnapshotRefusedError(
      `torn: the header says ${length} payload bytes, found ${actual}`,
    );
  }
  const payload = file.subarray(FRAME_HEADER_BYTES);
  const sum = createHash('sha256').update(payload).digest();
  if (!sum.equals(file.subarray(24, FRAME_HEADER_BYTES))) {
    throw new SnapshotRefusedError('torn or corrupt: the payload fails its SHA-256 checksum');
  }
  return { version, payload };
}
