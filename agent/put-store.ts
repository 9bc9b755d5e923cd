// Files the station pushes, with a checkpoint that survives unplugging (docs/link-protocol.md §Put file).
//
// While a file arrives it is written to a hidden part file next to its destination (`.setup.cab.dockhand-part`),
// and a small record in the state folder says which put the part belongs to (destination, size, SHA-256).
// The part file's length is the checkpoint: after a re-plug (or an agent restart) PUT_QUERY answers with it,
// and PUT_BEGIN continues from there. Only when the whole file is present and its SHA-256 matches is it
// renamed into place, so a half-sent or corrupt file never sits under the package's name.
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkFileName, mapDevicePath, toDevicePath } from '../electron/engine/local/device-path.js';
import { hashPrefix, partFileSize } from '../electron/engine/transfer/part-file.js';
import { LinkRefusal } from './refusal.js';

export interface PutRecord {
  target: string;
  part: string;
  size: number;
  sha256: string;
}

export interface PutSpec {
  directory: string;
  fileName: string;
  size: number;
  sha256: string;
}

/**
 * One put in progress. Chunks are queued and written strictly in order behind the channel's back, so the
 * channel never waits for the disk: whatever queued up while a write was under way goes out as the next
 * single write (at 4 KiB a frame, a write per chunk would be a thread-pool round trip per frame). The
 * bytes are hashed as they are written, so finish() checks the SHA-256 without reading the file back; a
 * resumed put hashes the kept prefix once, when it begins. finish() and close() wait for the queue first,
 * and so does a PUT_QUERY for the same file, so the checkpoint it reports includes every byte that
 * arrived before the session ended.
 */
export class PutHandle {
  private position: number;
  private readonly waiting: { offset: number; bytes: Uint8Array }[] = [];
  private writing: Promise<void> | null = null;
  private failure: unknown;
  private onFailure: ((err: unknown) => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly store: PutStore,
    readonly record: PutRecord,
    private readonly file: fs.FileHandle,
    start: number,
    private readonly hash: Hash,
  ) {
    this.position = start;
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.position;
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  /** Queues a chunk; `onFailure` is told once about the first chunk that cannot be written. */
  enqueue(offset: number, bytes: Uint8Array, onFailure: (err: unknown) => void): void {
    if (this.closing || this.failure !== undefined) return; // what arrived before close() is still written; nothing after it
    this.onFailure = onFailure;
    this.waiting.push({ offset, bytes });
    this.writing ??= this.writeQueued();
  }

  // Writes everything queued, a batch at a time, until the queue stays empty.
  private async writeQueued(): Promise<void> {
    try {
      while (this.waiting.length > 0 && this.failure === undefined) {
        const buffers: Uint8Array[] = [];
        let length = 0;
        let refusal: LinkRefusal | undefined;
        for (const { offset, bytes } of this.waiting.splice(0)) {
          if (offset !== this.position + length) refusal = new LinkRefusal('BAD_OFFSET', `data for byte ${offset} arrived where byte ${this.position + length} was next`);
          else if (offset + bytes.length > this.record.size) refusal = new LinkRefusal('SIZE_MISMATCH', `more data arrived than the ${this.record.size} bytes announced`);
          if (refusal) break; // the chunks before it are still written: the part stays a true prefix
          buffers.push(bytes);
          length += bytes.length;
        }
        const written = writeAll(this.file, buffers, this.position);
        for (const b of buffers) this.hash.update(b);
        await written;
        this.position += length;
        if (refusal) throw refusal;
      }
    } catch (err) {
      this.failure = err;
      this.waiting.length = 0;
      this.onFailure?.(err);
    } finally {
      this.writing = null;
    }
  }

  /** Resolves when every queued chunk is on disk (or failed). */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Checks size and SHA-256 and renames the part into place; returns the saved file's host path. */
  async finish(): Promise<string> {
    await this.settled();
    if (this.failure !== undefined) throw this.failure;
    await this.file.sync();
    await this.close();
    const { record } = this;
    if (this.position !== record.size) {
      throw new LinkRefusal('SIZE_MISMATCH', `only ${this.position} of ${record.size} bytes arrived; send the rest (the part is kept)`);
    }
    const actual = this.hash.digest('hex');
    if (actual !== record.sha256) {
      await this.store.forget(record, true);
      throw new LinkRefusal('HASH_MISMATCH', `the file's SHA-256 is ${actual}, not the ${record.sha256} announced; the partial file was discarded`);
    }
    await fs.rename(record.part, record.target);
    await this.store.forget(record, false);
    return record.target;
  }

  /** Stops after the queued chunks are written; the part file and its record stay for a later resume. */
  close(): Promise<void> {
    this.closing ??= this.settled().then(async () => {
      await this.file.close().catch(() => undefined);
      this.store.release(this);
    });
    return this.closing;
  }
}

/** Writes `buffers` at `position` in one system call where it can (a short write is continued). */
async function writeAll(file: fs.FileHandle, buffers: Uint8Array[], position: number): Promise<void> {
  const left = [...buffers]; // consumed below; the caller still hashes `buffers`
  let at = position;
  while (left.length > 0) {
    const { bytesWritten } = await file.writev(left, at);
    if (bytesWritten === 0) throw new Error('the disk took no bytes');
    at += bytesWritten;
    let skip = bytesWritten;
    while (left.length > 0 && skip >= left[0]!.length) skip -= left.shift()!.length;
    if (skip > 0) left[0] = left[0]!.subarray(skip);
  }
}

export class PutStore {
  private readonly active = new Map<string, PutHandle>();

  constructor(private readonly root: string, private readonly stateDir: string) {}

  /** The checkpoint: bytes already held of exactly this file (same destination, size and SHA-256), else 0. */
  async query(spec: PutSpec): Promise<number> {
    const target = this.target(spec);
    await this.active.get(target)?.settled();
    const record = await this.load(target);
    if (!record || record.size !== spec.size || record.sha256 !== spec.sha256.toLowerCase()) return 0;
    const held = await partFileSize(record.part);
    return held > spec.size ? 0 : held;
  }

  /** Starts or resumes a put at `offset`, which must not be past what the part file holds. */
  async begin(spec: PutSpec, offset: number): Promise<PutHandle> {
    const target = this.target(spec);
    const previous = this.active.get(target);
    if (previous && !previous.isClosing) throw new LinkRefusal('BUSY', `${spec.fileName} is already being received`);
    await previous?.close(); // an interrupted transfer still writing what it received
    const record: PutRecord = {
      target,
      part: path.join(path.dirname(target), `.${path.basename(target)}.dockhand-part`),
      size: spec.size,
      sha256: spec.sha256.toLowerCase(),
    };
    if (offset > 0) {
      const held = await this.query(spec);
      if (offset > held) throw new LinkRefusal('BAD_OFFSET', `the device holds ${held} bytes of ${spec.fileName}, so it cannot continue from byte ${offset}`);
    }
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.mkdir(path.join(this.stateDir, 'puts'), { recursive: true });
    await fs.writeFile(this.recordFile(target), JSON.stringify(record));
    const file = await fs.open(record.part, offset > 0 ? 'r+' : 'w');
    await file.truncate(offset);
    const hash = createHash('sha256');
    try {
      await hashPrefix(record.part, offset, (chunk) => hash.update(chunk)); // the kept bytes of a resumed put, read once
    } catch (err) {
      await file.close();
      throw err;
    }
    const handle = new PutHandle(this, record, file, offset, hash);
    this.active.set(target, handle);
    return handle;
  }

  /** The device path of a host path under the root, for replies. */
  devicePath(hostPath: string): string {
    return toDevicePath(this.root, hostPath);
  }

  release(handle: PutHandle): void {
    if (this.active.get(handle.record.target) === handle) this.active.delete(handle.record.target);
  }

  async forget(record: PutRecord, removePart: boolean): Promise<void> {
    await fs.rm(this.recordFile(record.target), { force: true });
    if (removePart) await fs.rm(record.part, { force: true });
  }

  private target(spec: PutSpec): string {
    const dir = mapDevicePath(this.root, spec.directory);
    const target = mapDevicePath(this.root, `${spec.directory}\\${checkFileName(spec.fileName)}`);
    if (path.dirname(target) !== dir) throw new LinkRefusal('PATH_REFUSED', `'${spec.fileName}' does not name a file inside ${spec.directory}`);
    if (target === this.stateDir || target.startsWith(this.stateDir + path.sep)) {
      throw new LinkRefusal('PATH_REFUSED', `${spec.directory} is the agent's own state folder; choose another destination`);
    }
    return target;
  }

  private recordFile(target: string): string {
    return path.join(this.stateDir, 'puts', `${createHash('sha256').update(target).digest('hex').slice(0, 32)}.json`);
  }

  private async load(target: string): Promise<PutRecord | undefined> {
    try {
      const value = JSON.parse(await fs.readFile(this.recordFile(target), 'utf8')) as Partial<PutRecord>;
      if (value.target !== target || typeof value.part !== 'string' || typeof value.size !== 'number' || typeof value.sha256 !== 'string') return undefined;
      return value as PutRecord;
    } catch {
      return undefined; // no record, or an unreadable one: start over
    }
  }
}
