// The partial file of a download. It is only ever appended to (or emptied), so after a crash, even a
// `kill -9`, its length is exactly what was written: that length, not any counter, is the resume point.

import { createReadStream } from 'node:fs';
import { mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { storageError, TransferAborted } from './transfer-errors.js';

/** Length of the partial file, 0 when there is none yet. */
export async function partFileSize(file: string): Promise<number> {
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return st.size;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return 0;
    throw storageError(err, file);
  }
}

/**
 * Feeds the first `length` bytes of the file to `feed`, in order (the hash must cover the whole package);
 * a feed that returns a promise is waited for before the next chunk.
 */
export async function hashPrefix(file: string, length: number, feed: (chunk: Buffer) => unknown, signal?: AbortSignal): Promise<void> {
  if (length === 0) return;
  let read = 0;
  try {
    for await (const chunk of createReadStream(file, { start: 0, end: length - 1, highWaterMark: 1024 * 1024 })) {
      if (signal?.aborted) throw new TransferAborted();
      await feed(chunk as Buffer);
      read += (chunk as Buffer).length;
    }
  } catch (err) {
    if (err instanceof TransferAborted) throw err;
    throw storageError(err, file);
  }
  if (read !== length) {
    throw storageError(new Error(`only ${read} of its ${length} bytes could be read back`), file);
  }
}

/** Removes the partial file; a file that is already gone is fine. */
export async function removePartFile(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw storageError(err, file);
  }
}

/** Bytes written after which the disk is asked to start writing them out, behind the download. */
const SYNC_BEHIND_BYTES = 64 * 1024 * 1024;

/** An open, append-only partial file. */
export class PartFile {
  #unsynced = 0; // bytes appended since the last flush to disk began
  #syncing: Promise<void> | null = null;
  #syncError: unknown = null;

  private constructor(readonly file: string, private handle: FileHandle | null) {}

  static async open(file: string): Promise<PartFile> {
    try {
      await mkdir(path.dirname(file), { recursive: true }); // the cache folder may have been cleared
      return new PartFile(file, await open(file, 'a'));
    } catch (err) {
      throw storageError(err, file);
    }
  }

  #fh(): FileHandle {
    if (!this.handle) throw new Error(`partial file ${this.file} used after close`);
    return this.handle;
  }

  /** Appends all of `pieces`, in order, in one writev (a short write is continued, not lost). */
  async append(pieces: readonly Buffer[]): Promise<void> {
    const fh = this.#fh();
    let rest = pieces.filter((p) => p.length > 0);
    const total = rest.reduce((n, p) => n + p.length, 0);
    while (rest.length > 0) {
      let { bytesWritten } = await fh.writev(rest);
      // Drop what was written: whole pieces, then the written start of the first piece left.
      while (rest.length > 0 && bytesWritten >= (rest[0] as Buffer).length) {
        bytesWritten -= (rest[0] as Buffer).length;
        rest = rest.slice(1);
      }
      if (bytesWritten > 0) rest = [(rest[0] as Buffer).subarray(bytesWritten), ...rest.slice(1)];
    }
    this.appended(total);
  }

  /** The open file's descriptor, for a writer on another thread (package-hash.ts). */
  get fd(): number {
    return this.#fh().fd;
  }

  /** Counts bytes appended through `fd` elsewhere, so that the disk is asked to write them behind the download. */
  appended(bytes: number): void {
    this.#unsynced += bytes;
    if (this.#unsynced >= SYNC_BEHIND_BYTES && this.#syncing === null) this.#syncBehind(this.#fh());
  }

  // Asks the disk to write what is in the page cache now, while the download goes on: the final sync()
  // then has only the tail left, instead of a whole package's worth of seconds. Not awaited; an error is
  // kept for sync(), because the kernel reports a failed write-back to one flush only.
  #syncBehind(fh: FileHandle): void {
    this.#unsynced = 0;
    this.#syncing = fh.datasync().catch((err: unknown) => {
      if ((err as { code?: string }).code !== 'EINVAL') this.#syncError ??= err;
    }).finally(() => {
      this.#syncing = null;
    });
  }

  /** Empties the file so the download starts again from byte 0. */
  async truncate(): Promise<void> {
    try {
      await this.#fh().truncate(0);
    } catch (err) {
      throw storageError(err, this.file);
    }
  }

  /** Asks the disk to keep what was written, so a finished package survives a power cut. */
  async sync(): Promise<void> {
    try {
      await this.#syncing;
      if (this.#syncError !== null) throw this.#syncError;
      await this.#fh().datasync();
      this.#unsynced = 0;
    } catch (err) {
      // Some files (devices, some network disks) cannot be synced; the bytes were still written.
      if ((err as { code?: string }).code !== 'EINVAL') throw storageError(err, this.file);
    }
  }

  /** Closes the file; never throws, because it runs on failure paths where the first error matters. */
  async close(): Promise<void> {
    const fh = this.handle;
    this.handle = null;
    await this.#syncing;
    await fh?.close().catch(() => undefined);
  }
}
