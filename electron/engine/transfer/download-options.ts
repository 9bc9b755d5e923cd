// Checks the options of downloadResumable once, up front, so the download itself works with clean values.
// Values that come from the server's documents (URL, PackageSize, hash) fail as PROTOCOL errors: the
// instructions are unusable and retrying will not change them. Values only a programmer can get wrong
// fail as TypeError.

import { statfs } from 'node:fs/promises';
import { DockhandError } from '../../../shared/model/errors.js';
import type { RateLimiter } from './rate-limiter.js';
import type { DownloadOptions, TransferCheckpoint } from './download.js';
import { checkDownloadUrl } from './http-exchange.js';
import { readableCheckpoint } from './resume-point.js';

export interface CheckedOptions {
  url: URL;
  rawUrl: string;
  partPath: string;
  checkpoint: TransferCheckpoint | null;
  expectedSize: number | null;
  sha256: string | null;
  limiter: RateLimiter | undefined;
  signal: AbortSignal | undefined;
  saveCheckpoint: (cp: TransferCheckpoint) => void;
  onProgress: ((bytesDone: number, total: number | null) => void) | undefined;
  headers: Record<string, string>;
  stallTimeoutMs: number;
  maxRedirects: number;
  maxUndeclaredBytes: number;
  lowSpeed: LowSpeedLimit | null;
  freeSpace: (dir: string) => Promise<number>;
  label: string;
  checkpointEvery: { bytes: number; ms: number };
}

/** A transfer slower than `bytesPerSecond`, averaged over `windowMs`, is given up (and resumed later). */
export interface LowSpeedLimit {
  bytesPerSecond: number;
  windowMs: number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_REDIRECTS = 5;
/** Downloads without a declared PackageSize stop here (a setting: maxUndeclaredDownloadBytes). */
export const DEFAULT_MAX_UNDECLARED_BYTES = 512 * 1024 * 1024;
/** Less than 1 KiB/s over a minute is a transfer going nowhere (curl's --speed-limit 1024 --speed-time 60). */
export const DEFAULT_LOW_SPEED: LowSpeedLimit = { bytesPerSecond: 1024, windowMs: 60_000 };

/** Checkpoints while bytes flow: a second is fresh enough for a person watching (download.ts). */
export const DEFAULT_CHECKPOINT_EVERY = { bytes: 64 * 1024 * 1024, ms: 1000 };

/** Bytes the current user may still write on the disk holding `dir` (Infinity when the OS cannot say). */
export async function freeDiskSpace(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return Infinity;
  }
}

export function checkOptions(opts: DownloadOptions): CheckedOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError('downloadResumable needs an options object');
  if (typeof opts.url !== 'string') throw new TypeError('downloadResumable: url must be a string');
  if (typeof opts.partPath !== 'string' || opts.partPath === '') throw new TypeError('downloadResumable: partPath must name a file');
  if (typeof opts.saveCheckpoint !== 'function') throw new TypeError('downloadResumable: saveCheckpoint must be a function');
  const url = checkDownloadUrl(opts.url, 'the package location');
  const { expectedSize, sha256 } = opts;
  if (expectedSize !== undefined && !(Number.isSafeInteger(expectedSize) && expectedSize >= 0)) {
    throw new DockhandError('PROTOCOL', `the package size ${String(expectedSize)} is not a byte count (PackageSize must be a whole number, 0 or more)`);
  }
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(sha256)) {
    throw new DockhandError('PROTOCOL', `the published SHA-256 "${String(sha256)}" is not 64 hexadecimal digits, so the package cannot be verified`);
  }
  const stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  if (!(Number.isFinite(stallTimeoutMs) && stallTimeoutMs > 0)) throw new TypeError(`downloadResumable: stallTimeoutMs must be a positive number of milliseconds, got ${String(stallTimeoutMs)}`);
  const maxUndeclaredBytes = opts.maxUndeclaredBytes ?? DEFAULT_MAX_UNDECLARED_BYTES;
  if (!(Number.isSafeInteger(maxUndeclaredBytes) && maxUndeclaredBytes > 0)) throw new TypeError(`downloadResumable: maxUndeclaredBytes must be a positive whole number, got ${String(maxUndeclaredBytes)}`);
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  if (!(Number.isSafeInteger(maxRedirects) && maxRedirects >= 0)) throw new TypeError(`downloadResumable: maxRedirects must be a whole number, 0 or more, got ${String(maxRedirects)}`);
  const every = { ...DEFAULT_CHECKPOINT_EVERY, ...opts.checkpointEvery };
  if (!(every.bytes > 0 && every.ms >= 0)) throw new TypeError(`downloadResumable: checkpointEvery needs a positive byte count and a millisecond count, 0 or more, got ${JSON.stringify(opts.checkpointEvery)}`);
  return {
    url,
    rawUrl: opts.url,
    partPath: opts.partPath,
    checkpoint: readableCheckpoint(opts.checkpoint),
    expectedSize: expectedSize ?? null,
    sha256: sha256?.toLowerCase() ?? null,
    limiter: opts.limiter,
    signal: opts.signal,
    saveCheckpoint: opts.saveCheckpoint,
    onProgress: opts.onProgress,
    headers: { ...(opts.headers ?? {}) },
    stallTimeoutMs,
    maxRedirects,
    maxUndeclaredBytes,
    lowSpeed: opts.lowSpeed === undefined ? DEFAULT_LOW_SPEED : opts.lowSpeed,
    freeSpace: opts.freeSpace ?? freeDiskSpace,
    label: opts.label ?? `the package at ${opts.url}`,
    checkpointEvery: every,
  };
}
