// A full disk must not stop the station. When the data folder's disk fills up (a download's bytes, or the
// client database's own writes: SQLite's "database or disk is full"), the station stops starting work —
// downloads are paused, docked devices stay docked — says so in words ("disk full in DIR: need 4.8 MiB,
// 0 B free"), and looks again every few seconds; once there is room the work resumes from its checkpoints.
// The error is noticed where it surfaces (the loop that runs the sessions) and also before it happens:
// a disk with almost nothing left is treated as full before a write fails halfway.
import { statfsSync } from 'node:fs';
import type { EngineEvent } from '../../shared/model/events.js';
import { DockhandError } from '../../shared/model/errors.js';
import { formatBytes } from '../../shared/model/units.js';

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
  private checkedAt = 0;

  constructor(private readonly o: StorageGuardOptions) {}

  private free(): number {
    try {
      return (this.o.free ?? freeBytes)(this.o.dir);
    } catch {
      return Number.POSITIVE_INFINITY; // a disk we cannot ask about is not known to be full
    }
  }

  private words(): string {
    const need = this.o.need();
    return `disk full in ${this.o.dir}: ${need > 0 ? `need ${formatBytes(need)}, ` : ''}${formatBytes(Math.max(0, this.free()))} free; ` +
      'downloads are paused and resume by themselves when space is freed';
  }

  /** Notes a failure; returns true when it was the disk being full (and the station now waits for room). */
  noteFailure(err: unknown): boolean {
    if (!isDiskFull(err)) return false;
    this.hold();
    return true;
  }

  private hold(): void {
    const first = !this.problem;
    this.problem = this.words();
    if (first) this.o.say('error', this.problem);
  }

  /**
   * Before starting work: while the disk is (nearly) full, waits one recheck period and returns true (the
   * caller skips its turn); returns false when there is room. Looks at the disk at most once a second.
   */
  async holding(signal: AbortSignal, now = Date.now()): Promise<boolean> {
    if (!this.problem && now - this.checkedAt < 1000) return false;
    this.checkedAt = now;
    const free = this.free();
    const room = free >= Math.max(MIN_FREE_BYTES, this.problem ? Math.min(this.o.need(), 64 * 1024 * 1024) : 0);
    if (room) {
      if (this.problem) {
        this.problem = '';
        this.o.say('info', `disk in ${this.o.dir} has room again (${formatBytes(free)} free): downloads resume`);
      }
      return false;
    }
    this.hold();
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

/** The log event a guard's words travel as (the terminal and the UI show it; no database is written). */
export function storageEvent(targetId: string, level: 'warn' | 'error' | 'info', message: string): EngineEvent {
  return { type: 'log', targetId, level, message };
}
