// A full disk must not stop the station. Two levels:
//   - no room for the pending downloads: the station says so ("disk full in DIR: need 4.8 MiB, 2.6 MiB
//     free"); each download refuses to start without room (the download's own check), everything else
//     goes on, and once room is made the waiting downloads are tried again at once (not at their retry);
//   - the disk is full (almost nothing left, or SQLite's "database or disk is full", or ENOSPC reaching the
//     loop that runs the sessions): all work is held — docked devices stay docked — and looked at again
//     every few seconds; a task the full disk cut off is resumed as after a crash (station.ts).
// Either way the station keeps running and its UI shows the words (StationInfo.storageProblem).
import { statfsSync } from 'node:fs';
import type { EngineEvent } from '../../shared/model/events.js';
import { DockhandError } from '../../shared/model/errors.js';
import { formatBytes } from '../../shared/model/units.js';
import type { ClientSession } from '../engine/session.js';
import type { CacheStore } from '../store/cache-store.js';
import { packageKey } from '../engine/confine.js';

const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
/** Below this, SQLite's journal and the next checkpoint cannot be written safely. */
export const MIN_FREE_BYTES = 256 * 1024;

/** Is this the disk (or the database on it) being full, wherever it was thrown? */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && FULL_CODES.has(code)) return true;
    if (e instanceof DockhandError && FULL_CODES.has(String(e.detail?.errno ?? ''))) return true;
    // The download's own check ("disk full in DIR: … needs X more, Y free") carries what it measured.
    if (e instanceof DockhandError && e.code === 'STORAGE' && typeof e.detail?.free === 'number') return true;
    if (e instanceof Error && /database or disk is full|no space left on device/i.test(e.message)) return true;
  }
  return false;
}

export interface StorageGuardOptions {
  /** The data folder (its disk holds the databases and the package cache). */
  dir: string;
  /** Bytes the pending downloads still need. */
  need: () => number;
  /** Says what happened, without the databases (they may be what is full). */
  say: (level: 'warn' | 'error' | 'info', message: string) => void;
  recheckMs?: number;
  /** Room came back after a problem: the waiting downloads go now. */
  onRoom?: () => void;
  /** For tests: the free bytes of `dir`. */
  free?: (dir: string) => number;
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export class StorageGuard {
  /** What holds the station back, in words; '' while the disk has room. */
  problem = '';
  /** The disk is full: no work starts. */
  private held = false;
  private checkedAt = 0;

  constructor(private readonly o: StorageGuardOptions) {}

  private free(): number {
    try {
      return (this.o.free ?? freeBytes)(this.o.dir);
    } catch {
      return Number.POSITIVE_INFINITY; // a disk we cannot ask about is not known to be full
    }
  }

  private words(free: number, need: number, held: boolean): string {
    return `disk full in ${this.o.dir}: ${need > 0 ? `need ${formatBytes(need)}, ` : ''}${formatBytes(Math.max(0, free))} free; ` +
      (held ? 'the station waits, and goes on by itself when space is freed' : 'downloads wait, and resume by themselves when space is freed');
  }

  /** Notes a failure; returns true when it was the disk being full (and the station now waits for room). */
  noteFailure(err: unknown): boolean {
    if (!isDiskFull(err)) return false;
    this.held = true;
    this.set(this.words(this.free(), this.o.need(), true));
    return true;
  }

  private set(problem: string): void {
    const first = !this.problem;
    this.problem = problem;
    if (first) this.o.say('error', problem);
  }

  /**
   * Before starting work: while the disk is full, waits one recheck period and returns true (the caller
   * skips its turn); otherwise returns false — having said so when the pending downloads do not fit, and
   * having called `onRoom` when room came back. Looks at the disk at most once a second.
   */
  async holding(signal: AbortSignal, now = Date.now()): Promise<boolean> {
    if (!this.held && now - this.checkedAt < 1000) return false;
    this.checkedAt = now;
    const free = this.free();
    const need = this.o.need();
    this.held = free < MIN_FREE_BYTES;
    if (this.held || need > free) {
      this.set(this.words(free, need, this.held));
    } else if (this.problem) {
      this.problem = '';
      this.o.say('info', `disk in ${this.o.dir} has room again (${formatBytes(free)} free): downloads resume`);
      this.o.onRoom?.();
    }
    if (!this.held) return false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.o.recheckMs ?? 5000);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
    return true;
  }
}

/**
 * Bytes the downloads running or due now still have to bring into the cache (each package once); a
 * download that waits for a dock, an acceptance, a technician or its schedule needs no room yet.
 */
export function downloadNeed(sessions: Iterable<ClientSession>, cache: CacheStore): number {
  const need = new Map<string, number>();
  for (const s of sessions) {
    for (const packageId of s.store.downloadsNeedingRoom()) {
      const pkg = s.store.package(packageId);
      if (!pkg || !pkg.sourceFiles || (pkg.downloaded && pkg.behavior === 'Execute Only')) continue;
      const entry = cache.entry(packageKey(packageId));
      if (entry?.complete) continue;
      need.set(packageKey(packageId), Math.max(0, (pkg.packageSize ?? 0) - (entry?.bytesDone ?? 0)));
    }
  }
  return [...need.values()].reduce((a, b) => a + b, 0);
}

/** Room came back on the disk: downloads that waited for it go now, not at the end of their wait. */
export function retryDownloadsWaitingForRoom(sessions: Iterable<ClientSession>): void {
  for (const s of sessions) if (s.store.wakeStorageWaits(s.now()) > 0) s.changed();
}

/** The log event a guard's words travel as (the terminal and the UI show it; no database is written). */
export function storageEvent(targetId: string, level: 'warn' | 'error' | 'info', message: string): EngineEvent {
  return { type: 'log', targetId, level, message };
}
