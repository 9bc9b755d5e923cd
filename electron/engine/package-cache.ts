// The station's shared package cache: a package is downloaded once (resumable, verified) and then handed
// to every target that needs it — the station's own folder, or any number of docked devices. Concurrent
// requests for the same package share one download (single flight); the checkpoint lives in the cache
// index (electron/store/cache-store.ts), so a download started for one device and cut off is resumed for
// whichever target asks next, even after a restart.
//
// Nothing of the server's chooses a name here (confine.ts): a package lives in `cache/p-<hash of its ID>/`
// as `file` (and `file.part` while it downloads); its ID, URL and file name are kept in the index. IDs that
// differ only in case are one package.
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { CacheStore, type CacheEntry } from '../store/cache-store.js';
import { cacheFolder, packageKey } from './confine.js';
import { downloadResumable } from './transfer/download.js';
import type { RateLimiter } from './transfer/rate-limiter.js';
import type { Clock } from './clock.js';

export interface FetchRequest {
  packageId: string;
  url: string;
  fileName: string;
  expectedSize?: number;
  sha256?: string;
  /** The target that will use the file; the entry is kept while any user remains. */
  userId: string;
  /** The package's name, for messages. */
  name?: string;
  signal?: AbortSignal;
  onProgress?: (bytesDone: number, total: number | null, resumedFrom: number) => void;
}

export interface CachedPackage {
  path: string;
  size: number;
  sha256: string;
  resumedFrom: number;
  restartedFromZero: boolean;
  /** True when the file was already in the cache (another target, or an earlier event, fetched it). */
  reused: boolean;
}

const FILE = 'file';
const PART = 'file.part';

export class PackageCache {
  readonly store: CacheStore;
  private readonly inflight = new Map<string, Promise<CachedPackage>>();
  /** Folders being removed: a fetch of the same package waits, or its mkdir races the removal (ENOENT). */
  private readonly clearing = new Map<string, Promise<void>>();

  constructor(readonly dir: string, private readonly limiter: RateLimiter, private readonly clock: Clock,
    private readonly bounds: { maxUndeclaredBytes?: number } = {}) {
    this.store = new CacheStore(path.join(dir, 'cache.sqlite'));
    this.adoptLegacyEntries();
  }

  /** Where a package's files live: `cache/p-<hash>`. */
  folderOf(packageId: string): string {
    return cacheFolder(this.dir, packageId);
  }

  /**
   * Entries an earlier Dockhand made kept their files in a folder named after the ID (`cache/<ID>/<file name>`):
   * their files move into the hashed folder, the entry is re-keyed. A folder is only taken when it is a
   * direct sub-folder of the cache (an ID like `..` named the data folder itself, which is left alone).
   */
  private adoptLegacyEntries(): void {
    for (const e of this.store.entries()) {
      const key = packageKey(e.packageId);
      const folder = this.folderOf(key);
      const part = path.join(folder, PART);
      if (e.packageId === key && e.partPath === part) continue;
      const old = path.dirname(e.partPath);
      const movable = path.dirname(old) === path.resolve(this.dir) && old !== folder && !['.', '..'].includes(path.basename(old)) &&
        (statSync(old, { throwIfNoEntry: false })?.isDirectory() ?? false);
      if (movable && existsSync(folder)) {
        rmSync(old, { recursive: true, force: true }); // the same package under another spelling: one copy is enough
      } else if (movable) {
        try {
          renameSync(old, folder);
          const within = (name: string) => path.join(folder, name);
          if (existsSync(within(e.fileName))) renameSync(within(e.fileName), within(FILE));
          if (existsSync(within(`${e.fileName}.part`))) renameSync(within(`${e.fileName}.part`), within(PART));
        } catch {
          rmSync(folder, { recursive: true, force: true }); // half moved: download afresh rather than trust it
          this.store.delete(e.packageId);
          continue;
        }
      }
      this.store.rekey(e.packageId, key, part);
    }
  }

  close(): void {
    this.store.close();
  }

  entries(): CacheEntry[] {
    return this.store.entries();
  }

  async fetch(request: FetchRequest): Promise<CachedPackage> {
    const req = { ...request, packageId: packageKey(request.packageId) };
    await this.clearing.get(req.packageId);
    for (;;) {
      const running = this.inflight.get(req.packageId);
      if (!running) break;
      // Share the download under way; if it was for another location, fall through and fetch ours.
      await running.catch(() => undefined);
    }
    const work = this.fetchOnce(req).finally(() => this.inflight.delete(req.packageId));
    this.inflight.set(req.packageId, work);
    return work;
  }

  private usable(e: CacheEntry | null, req: FetchRequest, done: string): boolean {
    if (!e?.complete || e.url !== req.url || e.fileName !== req.fileName || !existsSync(done)) return false;
    if (req.sha256 && e.sha256 !== req.sha256) return false;
    const size = statSync(done).size;
    return size === e.expectedSize && (req.expectedSize === undefined || size === req.expectedSize);
  }

  private async fetchOnce(req: FetchRequest): Promise<CachedPackage> {
    const dir = this.folderOf(req.packageId);
    await mkdir(dir, { recursive: true });
    const done = path.join(dir, FILE);
    const part = path.join(dir, PART);
    const entry = this.store.entry(req.packageId);
    if (entry && this.usable(entry, req, done)) {
      this.store.addUser(req.packageId, req.userId);
      return { path: done, size: entry.expectedSize ?? 0, sha256: entry.sha256 ?? '', resumedFrom: 0, restartedFromZero: false, reused: true };
    }
    await rm(done, { force: true });
    const resumable = entry && !entry.complete && entry.fileName === req.fileName && entry.partPath === part;
    const checkpoint = resumable ? { url: entry.url, validator: entry.validator, bytesDone: entry.bytesDone, expectedSize: entry.expectedSize } : null;
    const resumeAt = checkpoint && existsSync(part) && checkpoint.url === req.url ? statSync(part).size : 0;
    const result = await downloadResumable({
      url: req.url, partPath: part, checkpoint, expectedSize: req.expectedSize, sha256: req.sha256,
      limiter: this.limiter, signal: req.signal, label: `the package ${req.name ? `'${req.name}' (${req.packageId})` : req.packageId}`,
      ...(this.bounds.maxUndeclaredBytes ? { maxUndeclaredBytes: this.bounds.maxUndeclaredBytes } : {}),
      saveCheckpoint: (cp) => this.store.saveCheckpoint({ packageId: req.packageId, fileName: req.fileName, partPath: part, sha256: req.sha256 ?? null, ...cp }, this.clock.now()),
      onProgress: (bytesDone, total) => req.onProgress?.(bytesDone, total, resumeAt),
    });
    await rename(part, done);
    this.store.markComplete(req.packageId, result.sha256, result.bytes, this.clock.now());
    this.store.addUser(req.packageId, req.userId);
    return { path: done, size: result.bytes, sha256: result.sha256, resumedFrom: result.resumedFrom, restartedFromZero: result.restartedFromZero, reused: false };
  }

  /**
   * The package's complete file, when the cache holds it with this size and SHA-256 (each checked when given;
   * at least one must be): what a download event may use without asking the server where it is.
   */
  verifiedCopy(packageId: string, size: number | null, sha256: string | null): (CacheEntry & { path: string; sha256: string; expectedSize: number }) | null {
    if (size === null && !sha256) return null;
    const e = this.store.entry(packageKey(packageId));
    const done = path.join(this.folderOf(packageId), FILE);
    if (!e?.complete || !e.sha256 || e.expectedSize === null || this.inflight.has(e.packageId)) return null;
    if ((size !== null && e.expectedSize !== size) || (sha256 && e.sha256 !== sha256)) return null;
    if (statSync(done, { throwIfNoEntry: false })?.size !== e.expectedSize) return null;
    return { ...e, path: done, sha256: e.sha256, expectedSize: e.expectedSize };
  }

  /**
   * A verified file from elsewhere (an imported field kit) becomes the package's cache file, by rename on the
   * same disk; `userId` keeps it. An entry already complete with the same SHA-256 is kept and the file dropped.
   */
  async adopt(file: string, e: { packageId: string; fileName: string; url: string; size: number; sha256: string; userId: string }): Promise<void> {
    const key = packageKey(e.packageId);
    const held = this.store.entry(key);
    if (held?.complete && held.sha256 === e.sha256 && this.verifiedCopy(key, e.size, e.sha256)) {
      await rm(file, { force: true });
      this.store.addUser(key, e.userId);
      return;
    }
    const dir = this.folderOf(key);
    await mkdir(dir, { recursive: true });
    await rm(path.join(dir, PART), { force: true });
    await rename(file, path.join(dir, FILE));
    this.store.saveCheckpoint({ packageId: key, fileName: e.fileName, url: e.url, validator: null, bytesDone: e.size, expectedSize: e.size,
      partPath: path.join(dir, PART), sha256: e.sha256 }, this.clock.now());
    this.store.markComplete(key, e.sha256, e.size, this.clock.now());
    this.store.addUser(key, e.userId);
  }

  /** The next occurrence of a "Download and Execute" package must fetch it afresh. */
  async invalidate(packageId: string): Promise<void> {
    const key = packageKey(packageId);
    this.store.delete(key);
    const before = this.clearing.get(key) ?? Promise.resolve();
    const removal = before.then(() => rm(this.folderOf(key), { recursive: true, force: true }));
    // Whatever the removal's outcome, the next fetch may go on (a folder left behind is downloaded over).
    const settled = removal.catch(() => undefined).finally(() => {
      if (this.clearing.get(key) === settled) this.clearing.delete(key);
    });
    this.clearing.set(key, settled);
    await removal;
  }

  /** A target no longer has the package; the files go when no target uses them. */
  async release(packageId: string, userId: string): Promise<void> {
    const key = packageKey(packageId);
    const left = this.store.removeUser(key, userId);
    if (left.length === 0 && !this.inflight.has(key)) await this.invalidate(key);
  }
}
