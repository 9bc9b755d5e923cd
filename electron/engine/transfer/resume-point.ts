// Where a download starts: the pure decision between "resume at the partial file's length" and "start
// again from byte 0" (spec §14). Kept apart from the I/O so every rule is easy to read and to test.

import type { TransferCheckpoint } from './download.js';

export interface ResumePoint {
  offset: number; // first byte to ask the server for
  validator: string | null; // If-Range value for that request
  discard: boolean; // the partial file holds bytes that must be thrown away before writing
  reason: string | null; // why the bytes are discarded, for logs
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

/** A checkpoint read back from storage may be damaged; a damaged one counts as missing. */
export function readableCheckpoint(cp: unknown): TransferCheckpoint | null {
  if (cp === null || typeof cp !== 'object') return null;
  const c = cp as Partial<TransferCheckpoint>;
  if (typeof c.url !== 'string' || !(c.validator === null || typeof c.validator === 'string')) return null;
  const size = c.expectedSize;
  const expectedSize = typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : null;
  const bytesDone = typeof c.bytesDone === 'number' && Number.isFinite(c.bytesDone) ? c.bytesDone : 0;
  return { url: c.url, validator: c.validator, bytesDone, expectedSize };
}

/**
 * `onDisk` is the partial file's length: it wins over the checkpoint's bytesDone in both directions,
 * because the file is append-only and its length is what really reached the disk.
 */
export function chooseResumePoint(cp: TransferCheckpoint | null, url: string, onDisk: number, expectedSize: number | null): ResumePoint {
  const fromZero = (reason: string | null): ResumePoint => ({ offset: 0, validator: null, discard: onDisk > 0, reason: onDisk > 0 ? reason : null });
  if (onDisk === 0) return fromZero(null);
  if (cp === null) return fromZero('a partial file exists but no checkpoint describes it');
  if (!sameUrl(cp.url, url)) return fromZero(`the package location changed from ${cp.url} to ${url}`);
  if (expectedSize !== null && cp.expectedSize !== null && cp.expectedSize !== expectedSize) {
    return fromZero(`the package size changed from ${cp.expectedSize} to ${expectedSize} bytes`);
  }
  if (expectedSize !== null && onDisk > expectedSize) {
    return fromZero(`the partial file (${onDisk} bytes) is longer than the package (${expectedSize} bytes)`);
  }
  return { offset: onDisk, validator: cp.validator, discard: false, reason: null };
}
