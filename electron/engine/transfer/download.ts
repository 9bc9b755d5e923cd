// Resumable package download (spec §14 "Checkpoint Restart", architecture §4).
//
// How the resume point is chosen:
//   The partial file is written append-only, so its length on disk is what was really written, even after
//   a `kill -9`. When the engine's checkpoint names the same URL, the download resumes at that length
//   (whatever bytesDone the checkpoint says) with `Range: bytes=N-` and `If-Range: <validator>` (the
//   strong ETag, else Last-Modified, seen when the bytes were first fetched). The hash covers the whole
//   package: the kept prefix is read back from disk into the SHA-256 before new bytes stream in.
//
// When it restarts from zero (the partial file is emptied before any new byte is written):
//   - the checkpoint is missing or unreadable while a partial file exists (spec: a corrupt pending list
//     means "download again from the beginning");
//   - the location URL differs from the checkpoint's (spec: "restart the download from the new server");
//   - the partial file is longer than PackageSize, or the checkpoint recorded another package size;
//   - the server answers 200 to a ranged request (it ignored Range, or If-Range saw a changed validator);
//   - the server answers 416 while the kept bytes are not the whole package (restarted in the same call).
//   After a 206 whose Content-Range does not start at N (or carries another validator), a size or a hash
//   mismatch, the file is deleted and the checkpoint reset, and the error says the next attempt restarts.
//
// Bounds (README "Bounds"): no byte for stallTimeoutMs, or less than 1 KiB/s over a minute (lowSpeed), fails
// as a network fault that keeps the bytes. A package without a declared size may be at most
// maxUndeclaredBytes (512 MiB by default): over it the file is discarded and the error names the package,
// the server and the cap. Free space is checked before the first request (declared size), when the answer
// says how much follows, and every 8 MiB: too little is a transient STORAGE error ("disk full in DIR") that
// keeps the bytes.
//
// Checkpoints: saved before the first byte is written, then after a write once a second has passed or
// 64 MiB were written since the last one, at the end, and after any failure that keeps bytes. The file is
// written before the checkpoint that counts it, and discarded before the checkpoint that resets it, so the
// two never disagree in a harmful way. Saving more often would buy nothing for a resume: the partial
// file's length, not the checkpoint's count, is where a download resumes (resume-point.ts); the count is
// for people watching, and a second is fresh enough for them.
//
// Where the time goes (docs/performance.md has the profile): the bytes are read from the socket straight
// into blocks of 256 KiB (body-pump.ts, http-exchange.ts) and touched once more, hashed as they are written
// (only a resume reads the kept prefix back). A package of 16 MiB or more is written and hashed by a thread
// of its own, in 16 KiB writes (package-hash.ts); a smaller one is written a block or several at a time
// through the thread pool and hashed inline. A progress call and a free-space check per batch of blocks
// rather than per socket read, and a checkpoint per second. Durability: the finished file is flushed to
// disk (fdatasync) once, before the download is reported complete, because the station then tells the
// server the package arrived; part-file.ts starts the disk writing behind the download, so that final
// flush finds little left to do.

import { DockhandError } from '../../../shared/model/errors.js';
import type { RateLimiter } from './rate-limiter.js';
import { contentLength, hostOf, openExchange, parseContentRange, validatorOf, type Exchange } from './http-exchange.js';
import { hashPrefix, PartFile, partFileSize, removePartFile } from './part-file.js';
import { pumpBody } from './body-pump.js';
import { InlineHash, packageHash, ThreadHash, ThreadWriteError, type PackageHash } from './package-hash.js';
import { chooseResumePoint } from './resume-point.js';
import path from 'node:path';
import {
  BodyOverflow, diskFullError, httpStatusError, SizeCapExceeded, storageError, toTransferError, type TransferContext,
} from './transfer-errors.js';
import { checkOptions, type CheckedOptions, type LowSpeedLimit } from './download-options.js';

export interface TransferCheckpoint {
  url: string;
  validator: string | null;
  bytesDone: number;
  expectedSize: number | null;
}

export interface DownloadOptions {
  url: string;
  partPath: string;
  checkpoint: TransferCheckpoint | null;
  expectedSize?: number;
  sha256?: string;
  limiter?: RateLimiter;
  signal?: AbortSignal;
  saveCheckpoint: (cp: TransferCheckpoint) => void;
  onProgress?: (bytesDone: number, total: number | null) => void;
  headers?: Record<string, string>;
  stallTimeoutMs?: number;
  maxRedirects?: number;
  /** Cap for a package without a declared size (default 512 MiB). */
  maxUndeclaredBytes?: number;
  /** Slowest transfer kept going (default 1 KiB/s over 60 s); null turns the check off. */
  lowSpeed?: LowSpeedLimit | null;
  /** Free bytes on the disk of a folder (default: statfs). */
  freeSpace?: (dir: string) => Promise<number>;
  /** The package in words, for messages: "the package 'Firmware' (9A43…)". */
  label?: string;
  /** A checkpoint after a write once this many bytes or milliseconds passed since the last (64 MiB, 1 s). */
  checkpointEvery?: { bytes?: number; ms?: number };
}

export interface DownloadResult {
  bytes: number;
  sha256: string;
  resumedFrom: number;
  restartedFromZero: boolean;
  validator: string | null;
}

const SPACE_CHECK_EVERY = 8 * 1024 * 1024;

/** Thrown by the caller's own callbacks: passed through unchanged, since it is a bug, not a network fault. */
class CallbackError extends Error {}

export async function downloadResumable(opts: DownloadOptions): Promise<DownloadResult> {
  return new Download(checkOptions(opts)).run();
}

class Download {
  #offset = 0; // bytes of the package in the partial file that belong to the current validator
  #validator: string | null = null;
  #total: number | null = null;
  #hash: PackageHash = new InlineHash();
  #where: string;
  #part: PartFile | null = null;
  #committed = false; // the checkpoint describes the file as this run writes it
  #mustEmpty = false; // the partial file holds bytes that must go before anything is written
  #restarted = false;
  #resumedFrom = 0;
  #lastSaved = 0;
  #lastSavedAt = 0; // performance.now() of the last checkpoint
  #commitment: Promise<void> | null = null;
  #exchange: Exchange | null = null;
  #discardOnFail = false; // the failure makes the kept bytes worthless: delete them and reset the checkpoint
  #spaceCheckedAt = 0; // offset at the last free-space check

  constructor(private readonly o: CheckedOptions) {
    this.#where = hostOf(o.url);
    this.#total = o.expectedSize;
  }

  #ctx(): TransferContext {
    return { where: this.#where, bytesDone: this.#offset, total: this.#total, label: this.o.label };
  }

  /** Fails (keeping the bytes) when the disk has less room than the rest of the package needs. */
  async #checkSpace(): Promise<void> {
    this.#spaceCheckedAt = this.#offset;
    const need = (this.#total ?? this.o.expectedSize ?? this.o.maxUndeclaredBytes) - this.#offset;
    if (need <= 0) return;
    const dir = path.dirname(this.o.partPath);
    const free = await this.o.freeSpace(dir);
    if (free < need) throw diskFullError(dir, need, free, this.#ctx());
  }

  #save(): void {
    const cp: TransferCheckpoint = { url: this.o.rawUrl, validator: this.#validator, bytesDone: this.#offset, expectedSize: this.o.expectedSize ?? this.#total };
    try {
      this.o.saveCheckpoint(cp);
    } catch (err) {
      if (err instanceof DockhandError) throw err;
      throw new DockhandError('STORAGE', `the download progress of ${this.o.rawUrl} could not be recorded (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
    this.#lastSaved = this.#offset;
    this.#lastSavedAt = performance.now();
  }

  async run(): Promise<DownloadResult> {
    const o = this.o;
    if (o.signal?.aborted) throw new DockhandError('CANCELLED', `the download of ${o.rawUrl} was stopped before it started; nothing on disk was changed`);
    const onDisk = await partFileSize(o.partPath);
    const start = chooseResumePoint(o.checkpoint, o.rawUrl, onDisk, o.expectedSize);
    this.#offset = start.offset;
    this.#validator = start.validator;
    this.#mustEmpty = start.discard;
    this.#restarted = start.discard;
    this.#hash = packageHash(this.#remaining());
    let bodyStarted = false;
    try {
      if (this.#offset > 0) await hashPrefix(o.partPath, this.#offset, (chunk) => this.#hash.update([chunk]), o.signal);
      if (o.expectedSize !== null) await this.#checkSpace(); // no request when the declared size cannot fit
      for (;;) {
        const exchange = await openExchange(o.url, { headers: this.#requestHeaders(), maxRedirects: o.maxRedirects, stallTimeoutMs: o.stallTimeoutMs, signal: o.signal });
        this.#exchange = exchange;
        this.#where = hostOf(exchange.url);
        if (exchange.status === 416) {
          const done = await this.#rangeNotSatisfiable(exchange);
          if (done) return done;
          continue;
        }
        const limit = this.#accept(exchange);
        // The body is taken in at once, while the file is prepared: node:http drops what a response has
        // buffered when the server closes, so waiting for the disk first could lose bytes that arrived.
        const commitment = this.#commit();
        this.#commitment = commitment.catch((err: unknown) => exchange.fail(err));
        bodyStarted = true;
        const sink = async (pieces: Buffer[]): Promise<void> => {
          await commitment;
          await this.#write(pieces);
        };
        // Without a declared size only the cap bounds the body (what the server announces was checked already).
        const cap = o.expectedSize === null ? { bytes: o.maxUndeclaredBytes - this.#offset, whole: o.maxUndeclaredBytes } : undefined;
        await pumpBody({ exchange, limit, stallTimeoutMs: o.stallTimeoutMs, lowSpeed: o.lowSpeed, cap, limiter: o.limiter, signal: o.signal, sink });
        await commitment; // an empty body never reached the sink
        return await this.#finish(exchange);
      }
    } catch (err) {
      await this.#commitment; // never decide about file and checkpoint while they are being prepared
      throw await this.#fail(err, bodyStarted);
    } finally {
      this.#exchange?.close(); // whatever happened, no socket outlives the call
      this.#hash.drop(); // nothing after a digest; frees the hash of a download that failed
      await this.#part?.close();
    }
  }

  #requestHeaders(): Record<string, string> {
    const reserved = new Set(['range', 'if-range', 'accept-encoding']);
    const headers = Object.fromEntries(Object.entries(this.o.headers).filter(([k]) => !reserved.has(k.toLowerCase())));
    if (this.#offset > 0) {
      headers['range'] = `bytes=${this.#offset}-`;
      if (this.#validator !== null) headers['if-range'] = this.#validator;
    }
    return headers;
  }

  // 200 or 206: checks the answer against what was asked; returns how many body bytes may follow.
  #accept(exchange: Exchange): number {
    const status = exchange.status;
    const announced = contentLength(exchange);
    if (status === 206) {
      const range = parseContentRange(exchange.header('content-range'));
      const validator = validatorOf(exchange);
      if (range === null || range.start !== this.#offset || range.end === null || (range.total !== null && range.end >= range.total)) {
        throw this.#discarding(new DockhandError('HTTP_STATUS',
          `the server at ${this.#where} answered with ${exchange.header('content-range') === undefined ? 'a partial answer without Content-Range' : `"Content-Range: ${exchange.header('content-range')}"`} when the download asked for bytes ${this.#offset} to the end; the partial file was discarded and the next attempt starts from the beginning`,
          { transient: true, detail: { contentRange: exchange.header('content-range'), asked: this.#offset } }));
      }
      if (this.#validator !== null && validator !== null && validator !== this.#validator) {
        throw this.#discarding(new DockhandError('HTTP_STATUS',
          `the package changed on the server at ${this.#where} (${this.#validator} became ${validator}) yet it sent only the rest of it; the partial file was discarded and the next attempt starts from the beginning`,
          { transient: true }));
      }
      this.#checkAnnounced(range.total);
      this.#checkCap(range.total);
      this.#total = range.total ?? this.o.expectedSize;
      this.#validator = validator ?? this.#validator;
      this.#resumedFrom = this.#offset;
      const span = range.end + 1 - range.start;
      return Math.min(span, announced ?? span, (this.o.expectedSize ?? Infinity) - this.#offset);
    }
    if (status === 200) {
      this.#checkAnnounced(announced);
      this.#checkCap(announced);
      if (this.#offset > 0) this.#restarted = true;
      this.#restartFromZero();
      this.#validator = validatorOf(exchange);
      this.#total = announced ?? this.o.expectedSize;
      return Math.min(announced ?? Infinity, this.o.expectedSize ?? Infinity);
    }
    const retryAfter = exchange.header('retry-after');
    exchange.close();
    if (status >= 200 && status < 300) {
      throw new DockhandError('HTTP_STATUS', `the server at ${this.#where} answered HTTP ${status} instead of the package bytes; the package URL ${this.o.rawUrl} may not name a file`, { detail: { status } });
    }
    throw httpStatusError(status, this.o.rawUrl, this.#ctx(), retryAfter);
  }

  // The server's size is not the package's size: these bytes can never become the right package.
  #checkAnnounced(size: number | null): void {
    const expected = this.o.expectedSize;
    if (size === null || expected === null || size === expected) return;
    throw new DockhandError('SIZE_MISMATCH',
      `the server at ${this.#where} says the package has ${size} bytes but its instructions say PackageSize ${expected}; the package on the server does not match its instructions, so nothing was downloaded`,
      { detail: { announced: size, expectedSize: expected } });
  }

  // A package with no declared size that the server says is over the cap is refused before a byte is written.
  #checkCap(size: number | null): void {
    if (this.o.expectedSize !== null || size === null || size <= this.o.maxUndeclaredBytes) return;
    throw this.#discarding(toTransferError(new SizeCapExceeded(this.o.maxUndeclaredBytes, size), this.#ctx(), false));
  }

  #restartFromZero(): void {
    if (this.#offset > 0) this.#mustEmpty = true;
    this.#offset = 0;
    this.#resumedFrom = 0;
    this.#hash.drop();
    this.#hash = packageHash(this.#remaining());
  }

  /** Bytes still to come as far as the instructions (or the checkpoint) say; null when nobody said. */
  #remaining(): number | null {
    const size = this.o.expectedSize ?? this.o.checkpoint?.expectedSize ?? null;
    return size === null ? null : size - this.#offset;
  }

  // Opens the file, empties it when this run restarts, and records the checkpoint before any byte.
  async #commit(): Promise<void> {
    this.#part ??= await PartFile.open(this.o.partPath);
    if (this.#mustEmpty) await this.#part.truncate();
    this.#mustEmpty = false;
    const onDisk = await partFileSize(this.o.partPath);
    if (onDisk !== this.#offset) {
      throw storageError(new Error(`its length changed from ${this.#offset} to ${onDisk} bytes while the download was starting (is another download writing the same file?)`), this.o.partPath);
    }
    this.#save();
    this.#committed = true;
    await this.#checkSpace(); // now the answer says how much follows
  }

  // One pass over the bytes: they are hashed while the kernel copies them into the file.
  async #write(pieces: Buffer[]): Promise<void> {
    const part = this.#part as PartFile;
    const length = pieces.reduce((n, p) => n + p.length, 0);
    if (this.#hash instanceof ThreadHash) {
      // A large package: its thread writes the bytes in small pieces and hashes each as it goes (package-hash.ts).
      try {
        await this.#hash.writeAndUpdate(part.fd, pieces);
      } catch (err) {
        throw err instanceof ThreadWriteError ? storageError(err, this.o.partPath, this.#ctx()) : err;
      }
      part.appended(length);
    } else {
      const written = part.append(pieces);
      void this.#hash.update(pieces); // inline: done when it returns
      try {
        await written;
      } catch (err) {
        throw storageError(err, this.o.partPath, this.#ctx());
      }
    }
    this.#offset += length;
    const every = this.o.checkpointEvery;
    if (this.#offset - this.#lastSaved >= every.bytes || performance.now() - this.#lastSavedAt >= every.ms) this.#save();
    // A full disk fails as STORAGE, keeping the bytes: #fail saves the checkpoint that counts them.
    if (this.#offset - this.#spaceCheckedAt >= SPACE_CHECK_EVERY) await this.#checkSpace();
    try {
      this.o.onProgress?.(this.#offset, this.#total);
    } catch (err) {
      throw new CallbackError('onProgress threw', { cause: err });
    }
  }

  // 416: the kept bytes are the whole package, or the server's file shrank and the download restarts.
  async #rangeNotSatisfiable(exchange: Exchange): Promise<DownloadResult | null> {
    const range = parseContentRange(exchange.header('content-range'));
    const validator = validatorOf(exchange);
    exchange.close();
    const size = this.o.expectedSize ?? range?.total ?? this.o.checkpoint?.expectedSize ?? null;
    if (this.#offset > 0 && this.#offset === size && (range?.total ?? size) === size) {
      this.#total = size;
      this.#validator = validator ?? this.#validator;
      this.#resumedFrom = this.#offset;
      this.#save();
      this.#committed = true;
      return await this.#complete();
    }
    if (this.#offset === 0 || this.#restarted) {
      throw new DockhandError('HTTP_STATUS', `the server at ${this.#where} answered 416 (range not satisfiable) for ${this.o.rawUrl} even for a download from the beginning`, { detail: { status: 416 } });
    }
    this.#restarted = true;
    this.#validator = null;
    this.#restartFromZero();
    return null;
  }

  async #finish(exchange: Exchange): Promise<DownloadResult> {
    const total = this.#total;
    if (total !== null && this.#offset < total) {
      if (exchange.status === 206) {
        this.#save();
        throw new DockhandError('NETWORK', `the server at ${this.#where} sent only part of the package (${this.#offset} of ${total} bytes); ${this.#offset} bytes are kept and the download will resume from there`, { transient: true });
      }
      throw this.#discarding(new DockhandError('SIZE_MISMATCH',
        `the server at ${this.#where} ended the package after ${this.#offset} bytes but it has ${total} bytes; the partial file was discarded and the next attempt starts from the beginning`,
        { transient: true, detail: { received: this.#offset, expected: total } }));
    }
    await (this.#part as PartFile).sync();
    return await this.#complete();
  }

  // Size is right: the hash decides. A mismatch deletes the file, because no prefix of it can be trusted.
  async #complete(): Promise<DownloadResult> {
    const sha256 = await this.#hash.digest();
    if (this.o.sha256 !== null && sha256 !== this.o.sha256) {
      throw this.#discarding(new DockhandError('HASH_MISMATCH',
        `the downloaded package from ${this.#where} does not match its published SHA-256 (expected ${this.o.sha256}, got ${sha256}); the partial file was deleted and the next attempt downloads it again from the beginning`,
        { transient: true, detail: { expected: this.o.sha256, actual: sha256 } }));
    }
    this.#save();
    return { bytes: this.#offset, sha256, resumedFrom: this.#resumedFrom, restartedFromZero: this.#restarted, validator: this.#validator };
  }

  #discarding(err: DockhandError): DockhandError {
    this.#discardOnFail = true;
    return err;
  }

  // Leaves file and checkpoint consistent, then says what happened in words a technician can act on.
  async #fail(err: unknown, bodyStarted: boolean): Promise<unknown> {
    if (err instanceof CallbackError) {
      if (this.#committed) this.#trySave();
      return err.cause;
    }
    if (err instanceof BodyOverflow || err instanceof SizeCapExceeded) this.#discardOnFail = true; // bytes from a server that lies, or too many, are not kept
    const error = toTransferError(err, this.#ctx(), bodyStarted);
    if (this.#discardOnFail) {
      await this.#part?.close();
      await removePartFile(this.o.partPath).catch(() => undefined);
      this.#offset = 0;
      this.#validator = null;
      this.#trySave();
    } else if (this.#committed) {
      this.#trySave();
    }
    return error;
  }

  #trySave(): void {
    try {
      this.#save();
    } catch {
      // the first error is the one to report; the file length still tells the next attempt where to start
    }
  }
}
