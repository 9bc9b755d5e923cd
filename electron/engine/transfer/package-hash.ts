// The SHA-256 of a package being downloaded and, for a large package, the writes of its bytes: both on a
// thread of their own.
//
// Why a thread: hashing is the largest piece of CPU a download spends (about 0.55 s per GiB with SHA
// extensions), and on the main thread it runs in turn with the socket reads. On a thread of its own it runs
// while the main thread reads the next bytes.
//
// Why the writes too: the file is written in small pieces (WRITE_PIECE, below, says why), and many small
// writes cannot each be a trip through Node's thread pool. On this thread they are plain write(2) calls, and
// each piece is hashed right after it was written, while it is still in the core's cache.
//
// How the bytes get there without a copy: the body pump's blocks are SharedArrayBuffer memory (block-queue.ts),
// so the thread reads the very bytes the socket wrote, and the pump reuses a block only after the thread
// has written and hashed it (the sink's promise covers both). Bytes in ordinary memory (the kept prefix read
// back on a resume) are copied into the message, which is then theirs.
//
// One thread serves the whole process, whatever the number of downloads, and does not keep the process
// alive. Small packages are written through the thread pool and hashed inline: starting the thread costs
// more than it saves below a few MiB. A failed write keeps its errno (ThreadWriteError), so a full disk is
// the same transient STORAGE error as on the other path; if the thread dies, every download using it fails
// with an error that keeps its bytes (the next attempt reads the kept prefix back into a new hash).

import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { DockhandError } from '../../../shared/model/errors.js';

export interface PackageHash {
  /** Adds `pieces`, in order; once the returned promise settles the pieces' memory may be reused. */
  update(pieces: readonly Uint8Array[]): Promise<void>;
  /** The hex digest of everything added; the hash cannot be used afterwards. */
  digest(): Promise<string>;
  /** Frees the hash without a digest (a download that failed or restarted). */
  drop(): void;
}

/** What the hashing thread did in this process (for tests and benchmarks). */
export const hashThreadStats = { threadsStarted: 0, sharedBytes: 0, copiedBytes: 0, writtenBytes: 0 };

/** Below this many bytes still to come, the package is hashed inline and written through the thread pool. */
export const OFF_THREAD_MIN_BYTES = 16 * 1024 * 1024;

/** A hash for a download with `remaining` bytes to come (null: not known). */
export function packageHash(remaining: number | null): PackageHash {
  return remaining !== null && remaining >= OFF_THREAD_MIN_BYTES ? new ThreadHash() : new InlineHash();
}

export class InlineHash implements PackageHash {
  #hash: Hash | null = createHash('sha256');
  update(pieces: readonly Uint8Array[]): Promise<void> {
    const hash = this.#live();
    for (const p of pieces) hash.update(p);
    return Promise.resolve();
  }
  digest(): Promise<string> {
    const hex = this.#live().digest('hex');
    this.#hash = null;
    return Promise.resolve(hex);
  }
  drop(): void {
    this.#hash = null;
  }
  #live(): Hash {
    if (!this.#hash) throw new Error('the package hash was used after its digest');
    return this.#hash;
  }
}

// The hashing thread's whole program. Messages: [id, 'update', seq, parts, fd] where a part is
// [SharedArrayBuffer, offset, length] or a Uint8Array and fd, when not -1, is a file the parts are first
// appended to; [id, 'digest', seq]; [id, 'drop']. Answers: [id, seq, digestOrNull] or
// [id, seq, null, errorText, errno, 'write' | 'hash']. It runs as CommonJS or as a module depending on how
// the process was started (--input-type), hence builtin() rather than require alone.
//
// Writes go WRITE_PIECE bytes per write(2), each piece hashed right after it is written, while it is still in
// the core's cache. Why so small a write: on Linux 6.16 and later a write of N bytes puts them in page-cache
// folios of up to N bytes, and a large folio needs a large run of free memory. In a virtual machine that
// hands free memory back to its host (free page reporting: Firecracker, many cloud guests) the large runs
// are exactly the memory handed back, so every page of a large folio first faults in the host. Measured
// here, 1 GiB from /dev/zero with dd once freed memory had been reported: 16 KiB writes 0.36-0.40 s of
// system time, 32 KiB 0.75 s, 64 KiB 1.38 s, 256 KiB 2.49 s, 2 MiB 2.82-3.07 s; right after a gigabyte had been
// freed, 2 MiB and 16 KiB writes took the same 0.42-0.52 s. curl writes 16 KiB at a time.
const THREAD_PROGRAM = `
const builtin = (name) => (typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule(name) : require(name));
const { parentPort } = builtin('node:worker_threads');
const { createHash } = builtin('node:crypto');
const { writeSync } = builtin('node:fs');
const WRITE_PIECE = ${16 * 1024};
const hashes = new Map();
const failed = new Map(); // a hash that failed stays failed: its digest must never be of fewer bytes
function writeAndHash(fd, h, bytes) {
  for (let at = 0; at < bytes.length;) {
    const end = Math.min(at + WRITE_PIECE, bytes.length);
    let done = at;
    while (done < end) done += writeSync(fd, bytes, done, end - done);
    h.update(bytes.subarray(at, end));
    at = end;
  }
}
parentPort.on('message', ([id, op, seq, parts, fd]) => {
  if (op === 'drop') { hashes.delete(id); failed.delete(id); return; }
  if (failed.has(id)) { parentPort.postMessage([id, seq, null, ...failed.get(id)]); return; }
  let stage = 'hash';
  try {
    let h = hashes.get(id);
    if (!h) { h = createHash('sha256'); hashes.set(id, h); }
    if (op === 'update') {
      for (const p of parts) {
        const bytes = Array.isArray(p) ? new Uint8Array(p[0], p[1], p[2]) : p;
        if (fd >= 0) {
          stage = 'write';
          writeAndHash(fd, h, bytes);
        } else {
          h.update(bytes);
        }
      }
      parentPort.postMessage([id, seq, null]);
    } else {
      hashes.delete(id);
      parentPort.postMessage([id, seq, h.digest('hex')]);
    }
  } catch (err) {
    hashes.delete(id);
    failed.set(id, [String((err && err.message) || err), (err && err.code) || null, stage]);
    parentPort.postMessage([id, seq, null, ...failed.get(id)]);
  }
});
`;

/** A write(2) on the hashing thread failed: the errno is kept, for the words storageError gives it. */
export class ThreadWriteError extends Error {
  constructor(message: string, readonly code: string | null) {
    super(message);
  }
}

type Reply = [id: number, seq: number, digest: string | null, error?: string, errno?: string | null, stage?: 'write' | 'hash'];
interface Waiter {
  resolve: (digest: string | null) => void;
  reject: (err: Error) => void;
}

/** The process's one thread that writes and hashes large packages, started on first use and again after it died. */
class HashThread {
  static #current: HashThread | null = null;
  static get(): HashThread {
    HashThread.#current ??= new HashThread();
    return HashThread.#current;
  }

  readonly #worker: Worker;
  readonly #waiting = new Map<string, Waiter>();
  #nextId = 0;
  #dead: DockhandError | null = null;

  private constructor() {
    // execArgv: none of the process's own flags (a loader such as tsx would only slow the thread's start).
    this.#worker = new Worker(THREAD_PROGRAM, { eval: true, name: 'dockhand package hash', execArgv: [] });
    hashThreadStats.threadsStarted += 1;
    this.#worker.on('message', ([id, seq, digest, error, errno, stage]: Reply) => {
      const key = `${id}:${seq}`;
      const w = this.#waiting.get(key);
      this.#waiting.delete(key);
      if (this.#waiting.size === 0) this.#worker.unref();
      if (error !== undefined) w?.reject(stage === 'write' ? new ThreadWriteError(error, errno ?? null) : new Error(`the package hash failed: ${error}`));
      else w?.resolve(digest);
    });
    const died = (why: string) => {
      if (HashThread.#current === this) HashThread.#current = null;
      // STORAGE: the bytes could not be written and hashed here; transient, the next attempt starts a new thread.
      this.#dead ??= new DockhandError('STORAGE',
        `the station's thread that writes and hashes large packages stopped (${why}); the bytes already written are kept and the next attempt reads them back`,
        { transient: true });
      for (const w of this.#waiting.values()) w.reject(this.#dead);
      this.#waiting.clear();
    };
    this.#worker.on('error', (err) => died(err.message));
    this.#worker.on('exit', (code) => died(`exit code ${code}`));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.#worker.unref();
  }

  /** Ends the thread as a crash would (tests). */
  static async terminate(): Promise<void> {
    const thread = HashThread.#current;
    if (thread) await thread.#worker.terminate();
  }

  newId(): number {
    return ++this.#nextId;
  }

  send(message: unknown[], key: string | null): Promise<string | null> {
    if (this.#dead) return Promise.reject(this.#dead);
    if (key === null) {
      this.#worker.postMessage(message);
      return Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
      this.#waiting.set(key, { resolve, reject });
      this.#worker.ref(); // a pending answer keeps the process alive, as a pending write would
      this.#worker.postMessage(message);
    });
  }
}

/** Stops the thread as a crash would, failing what waits on it; the next large download starts a new one (tests). */
export function terminatePackageThread(): Promise<void> {
  return HashThread.terminate();
}

export class ThreadHash implements PackageHash {
  readonly #thread = HashThread.get();
  readonly #id = this.#thread.newId();
  #seq = 0;
  #done = false;

  update(pieces: readonly Uint8Array[]): Promise<void> {
    return this.#send(pieces, -1);
  }

  /**
   * Appends `pieces` to the open file `fd` (in WRITE_PIECE writes, on the thread) and hashes them; resolves
   * once both are done, rejects with ThreadWriteError when a write failed (the hash is then unusable).
   */
  writeAndUpdate(fd: number, pieces: readonly Uint8Array[]): Promise<void> {
    return this.#send(pieces, fd);
  }

  #send(pieces: readonly Uint8Array[], fd: number): Promise<void> {
    if (this.#done) return Promise.reject(new Error('the package hash was used after its digest'));
    let shared = false;
    const parts = pieces.map((p) => {
      if (p.buffer instanceof SharedArrayBuffer) {
        shared = true;
        hashThreadStats.sharedBytes += p.length;
        return [p.buffer, p.byteOffset, p.length];
      }
      hashThreadStats.copiedBytes += p.length;
      return p; // copied into the message: the caller may reuse it at once
    });
    if (fd >= 0) hashThreadStats.writtenBytes += pieces.reduce((n, p) => n + p.length, 0);
    const seq = ++this.#seq;
    // Shared memory must stay untouched until the thread has read it, and a write's outcome must be heard.
    const answer = shared || fd >= 0 ? `${this.#id}:${seq}` : null;
    return this.#thread.send([this.#id, 'update', seq, parts, fd], answer).then(() => undefined);
  }

  async digest(): Promise<string> {
    if (this.#done) throw new Error('the package hash was used after its digest');
    this.#done = true;
    const seq = ++this.#seq;
    return (await this.#thread.send([this.#id, 'digest', seq], `${this.#id}:${seq}`)) as string;
  }

  drop(): void {
    if (this.#done) return;
    this.#done = true;
    this.#thread.send([this.#id, 'drop'], null).catch(() => undefined);
  }
}
