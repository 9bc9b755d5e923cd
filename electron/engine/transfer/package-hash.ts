// The SHA-256 of a package being downloaded, computed on another thread when the package is large.
//
// Why: hashing is the largest piece of CPU a download spends (about 0.55 s per GiB with SHA extensions, a
// quarter of the station's samples in docs/performance.md), and on the main thread it runs in turn with the
// socket reads. On a thread of its own it runs while the main thread reads the next bytes and the thread pool
// writes the previous ones, so a download costs the time of its slowest stage rather than the sum.
//
// How the bytes get there without a copy: the body pump's blocks are SharedArrayBuffer memory (block-queue.ts),
// so the hashing thread reads the very bytes the socket wrote, and the pump reuses a block only after both
// the write and the hash of it have finished (the sink's promise covers both). Bytes in ordinary memory (the
// kept prefix read back on a resume, a copy) are copied into the message, which is then theirs.
//
// One hashing thread serves the whole process, whatever the number of downloads, and does not keep the
// process alive. Small packages are hashed inline: starting the thread costs more than it saves below a few
// MiB. If the thread dies, every hash in progress fails with a STORAGE-free, transient error and the
// download keeps its bytes (the next attempt reads the kept prefix back into a new hash).

import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface PackageHash {
  /** Adds `pieces`, in order; once the returned promise settles the pieces' memory may be reused. */
  update(pieces: readonly Uint8Array[]): Promise<void>;
  /** The hex digest of everything added; the hash cannot be used afterwards. */
  digest(): Promise<string>;
  /** Frees the hash without a digest (a download that failed or restarted). */
  drop(): void;
}

/** What the hashing thread did in this process (for tests and benchmarks). */
export const hashThreadStats = { threadsStarted: 0, sharedBytes: 0, copiedBytes: 0 };

/** Below this many bytes still to come, the package is hashed on the main thread. */
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

// The hashing thread's whole program. Messages: [id, 'update', seq, parts] where a part is
// [SharedArrayBuffer, offset, length] or a Uint8Array; [id, 'digest', seq]; [id, 'drop']. Answers:
// [id, seq, digestOrNull] or [id, seq, null, errorText]. It runs as CommonJS or as a module depending on
// how the process was started (--input-type), hence builtin() rather than require alone.
const THREAD_PROGRAM = `
const builtin = (name) => (typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule(name) : require(name));
const { parentPort } = builtin('node:worker_threads');
const { createHash } = builtin('node:crypto');
const hashes = new Map();
const failed = new Map(); // a hash that failed stays failed: its digest must never be of fewer bytes
parentPort.on('message', ([id, op, seq, parts]) => {
  if (op === 'drop') { hashes.delete(id); failed.delete(id); return; }
  if (failed.has(id)) { parentPort.postMessage([id, seq, null, failed.get(id)]); return; }
  try {
    let h = hashes.get(id);
    if (!h) { h = createHash('sha256'); hashes.set(id, h); }
    if (op === 'update') {
      for (const p of parts) h.update(Array.isArray(p) ? new Uint8Array(p[0], p[1], p[2]) : p);
      parentPort.postMessage([id, seq, null]);
    } else {
      hashes.delete(id);
      parentPort.postMessage([id, seq, h.digest('hex')]);
    }
  } catch (err) {
    hashes.delete(id);
    failed.set(id, String((err && err.message) || err));
    parentPort.postMessage([id, seq, null, failed.get(id)]);
  }
});
`;

type Reply = [id: number, seq: number, digest: string | null, error?: string];
interface Waiter {
  resolve: (digest: string | null) => void;
  reject: (err: Error) => void;
}

/** The process's one hashing thread, started on first use and again after it died. */
class HashThread {
  static #current: HashThread | null = null;
  static get(): HashThread {
    HashThread.#current ??= new HashThread();
    return HashThread.#current;
  }

  readonly #worker: Worker;
  readonly #waiting = new Map<string, Waiter>();
  #nextId = 0;
  #dead: Error | null = null;

  private constructor() {
    // execArgv: none of the process's own flags (a loader such as tsx would only slow the thread's start).
    this.#worker = new Worker(THREAD_PROGRAM, { eval: true, name: 'dockhand package hash', execArgv: [] });
    hashThreadStats.threadsStarted += 1;
    this.#worker.on('message', ([id, seq, digest, error]: Reply) => {
      const key = `${id}:${seq}`;
      const w = this.#waiting.get(key);
      this.#waiting.delete(key);
      if (this.#waiting.size === 0) this.#worker.unref();
      if (error !== undefined) w?.reject(new Error(`the package hash failed: ${error}`));
      else w?.resolve(digest);
    });
    const died = (why: string) => {
      if (HashThread.#current === this) HashThread.#current = null;
      this.#dead ??= new Error(`the thread that hashes packages stopped (${why}); the download keeps its bytes and the next attempt hashes them again`);
      for (const w of this.#waiting.values()) w.reject(this.#dead);
      this.#waiting.clear();
    };
    this.#worker.on('error', (err) => died(err.message));
    this.#worker.on('exit', (code) => died(`exit code ${code}`));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.#worker.unref();
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

export class ThreadHash implements PackageHash {
  readonly #thread = HashThread.get();
  readonly #id = this.#thread.newId();
  #seq = 0;
  #done = false;

  update(pieces: readonly Uint8Array[]): Promise<void> {
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
    const seq = ++this.#seq;
    // Only shared memory must stay untouched until the thread has read it; the answer says when.
    return this.#thread.send([this.#id, 'update', seq, parts], shared ? `${this.#id}:${seq}` : null).then(() => undefined);
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
