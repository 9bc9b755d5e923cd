// What the station knows about one target, read from its client database into the shapes the verdict
// (shared/model/verdict.ts) and the provisioning record take: packages, tasks with their waits, the
// download-event history, and the kept push checkpoints mapped back to their packages.
import type { CheckpointRecord, PackageRecord, TaskRecord } from '../../../shared/model/client.js';
import type { TaskWait } from '../../../shared/model/wait.js';
import type { FailedPhase, PackageEvent, VerdictInput, VerdictTransfer } from '../../../shared/model/verdict.js';
import type { ClientStore } from '../../store/client-store.js';
import type { CacheEntry } from '../../store/cache-store.js';
import { packageKey } from '../../engine/confine.js';

// ---- ADAPTER (until the engine's task waits and history table are on main) -------------------------
// engine-session replaces `TaskRecord.waitingFor` by `TaskRecord.wait` (data) and adds a per-event history
// table read by `ClientStore.history()`. Until both land, the two functions below derive the same shapes
// from what the store has today; once they land, `taskWait` returns `t.wait` and `historyOf` returns
// `store.history()`, and everything under this line goes.
type MaybeWait = TaskRecord & { wait?: TaskWait };
type MaybeHistory = ClientStore & { history?: () => PackageEvent[] };

/** "offline, retrying in 2 min": the end of the session's offline wait, counted from when the words were written. */
function wordsDelay(words: string, at: number): number | null {
  const m = /in (\d+) (s|min|h)\b/.exec(words);
  return m ? at + Number(m[1]) * { s: 1000, min: 60_000, h: 3_600_000 }[m[2] as 's' | 'min' | 'h'] : null;
}

export function taskWait(t: TaskRecord, now: number): TaskWait {
  const given = (t as MaybeWait).wait;
  if (given) return given;
  const w = t.waitingFor;
  if (t.state !== 'queued') return { kind: 'none' };
  if (!w) return t.nextRun > now ? { kind: 'schedule', until: t.nextRun } : { kind: 'none' };
  if (w.startsWith('waiting for dock')) return { kind: 'dock', cradledOnly: w.includes('cradled-only') };
  if (w.startsWith('waiting for acceptance')) return { kind: 'acceptance' };
  if (w.startsWith('waiting for a permitted connection') || w.startsWith('waiting for a connection')) return { kind: 'connection', flags: 0 };
  if (w.startsWith('offline') || w.startsWith('poll failed')) return { kind: 'server', until: t.nextRun > now ? t.nextRun : wordsDelay(w, t.updatedAt) ?? t.nextRun };
  if (w.startsWith('paused')) return { kind: 'technician', reason: 'paused' };
  if (w.startsWith('stopped')) return { kind: 'technician', reason: 'stopped' };
  const retry = /^failed, retrying in .*?\(retry (\d+) of (\d+)\)/.exec(w);
  if (retry) return { kind: 'retry', until: t.nextRun, attempt: Number(retry[1]), of: Number(retry[2]), reason: t.lastError };
  return { kind: 'schedule', until: t.nextRun };
}

/** Where a failure message says the event stopped (the engine's words of today). */
export function phaseOfMessage(message: string): FailedPhase {
  if (/^command |the command |could not run|commands are not allowed/.test(message)) return 'command';
  if (/SHA-256|sha256|hash|bytes but|expected \d+ bytes|announced/i.test(message)) return 'verify';
  if (/only over SMB|at no HTTP location|no instructions|location/i.test(message)) return 'location';
  if (/device .* (is not docked|claims)|push|link/i.test(message)) return 'push';
  if (/LocalDestination|outside the station's folder|climbs up|disk|read-only/i.test(message)) return 'install';
  return 'download';
}

function eventFromPackage(p: PackageRecord, sha256: string | null): PackageEvent | null {
  const r = p.lastResult ?? '';
  const base = { packageId: p.id, name: p.name, sha256, startedAt: p.updatedAt, endedAt: p.updatedAt, exitCode: null, failedPhase: null, reason: '' };
  if (r === 'command exit code 0') return { ...base, outcome: 'success', exitCode: 0 };
  if (r.startsWith('installed')) return { ...base, outcome: 'success' };
  const exited = /^command exited with code (-?\d+)/.exec(r);
  if (exited) return { ...base, outcome: 'failed', failedPhase: 'command', exitCode: Number(exited[1]), reason: `the command exited with code ${exited[1]}` };
  if (r.startsWith('command ')) return { ...base, outcome: 'failed', failedPhase: 'command', reason: r.replace(/^command (refused|failed): /, '') };
  if (p.state === 'failed') {
    const reason = r.replace(/^download failed: /, '');
    return { ...base, outcome: 'failed', failedPhase: phaseOfMessage(reason), reason };
  }
  return null;
}

function historyOf(store: ClientStore, sha256Of: (p: PackageRecord) => string | null, now: number): PackageEvent[] {
  const own = (store as MaybeHistory).history;
  if (typeof own === 'function') return own.call(store);
  const events: PackageEvent[] = [];
  for (const p of store.packages()) {
    const e = eventFromPackage(p, sha256Of(p));
    if (e) events.push(e);
    // A download attempt that failed and waits for its retry is a failed event of its own.
    const t = store.task('download', p.id);
    if (t && t.state === 'queued' && taskWait(t, now).kind === 'retry' && t.lastError) {
      events.push({ ...(e ?? { packageId: p.id, name: p.name, sha256: sha256Of(p), exitCode: null }), startedAt: t.updatedAt,
        endedAt: t.updatedAt, outcome: 'failed', failedPhase: phaseOfMessage(t.lastError), reason: t.lastError, exitCode: null });
    }
  }
  return events.sort((a, b) => (a.endedAt ?? a.startedAt) - (b.endedAt ?? b.startedAt));
}
// ---- end of ADAPTER ---------------------------------------------------------------------------------

export interface TargetFacts {
  packages: PackageRecord[];
  input: VerdictInput;
}

/**
 * A push checkpoint is kept under the device path it writes (`push:\Images\image.bin`) with the file's
 * SHA-256 as its validator: the package is the one whose cached file has that hash.
 */
function pushCheckpoints(checkpoints: CheckpointRecord[], packages: PackageRecord[], cache: CacheEntry[]): VerdictTransfer[] {
  const out: VerdictTransfer[] = [];
  for (const cp of checkpoints) {
    if (!cp.packageId.startsWith('push:')) continue;
    const owner = packages.find((p) => cache.some((e) => e.packageId === packageKey(p.id) && e.sha256 !== null && e.sha256 === cp.validator)) ??
      packages.find((p) => p.sha256 !== null && p.sha256 === cp.validator);
    if (owner) out.push({ packageId: owner.id, leg: 'push', bytesDone: cp.bytesDone, total: cp.expectedSize, active: false });
  }
  return out;
}

/** Maps a push checkpoint's key to its package ID, or null when no package of this target owns it. */
export function pushOwner(store: ClientStore, checkpointKey: string, cache: CacheEntry[]): string | null {
  const cp = store.checkpoint(checkpointKey);
  return cp ? (pushCheckpoints([cp], store.packages(), cache)[0]?.packageId ?? null) : null;
}

/** The facts of one target: its live transfers (from the running station) come in `live`. */
export function readTargetFacts(store: ClientStore, opts: { docked: boolean; cache: CacheEntry[]; live?: VerdictTransfer[]; now: number }): TargetFacts {
  const packages = store.packages();
  // The cache keys a package by its ID whatever the case (confine.ts packageKey).
  const sha256Of = (p: PackageRecord) => opts.cache.find((e) => e.packageId === packageKey(p.id))?.sha256 ?? p.sha256;
  const tasks = store.tasks().map((t) => ({ kind: t.kind, packageId: t.packageId, state: t.state, phase: t.phase, wait: taskWait(t, opts.now), lastError: t.lastError }));
  const live = opts.live ?? [];
  const kept = pushCheckpoints(store.checkpoints(), packages, opts.cache).filter((k) => !live.some((l) => l.packageId === k.packageId && l.leg === k.leg));
  return {
    packages,
    input: {
      now: opts.now, docked: opts.docked, tasks, transfers: [...live, ...kept], history: historyOf(store, sha256Of, opts.now),
      packages: packages.map((p) => ({ id: p.id, name: p.name, state: p.state, required: p.required, accepted: p.accepted, createdAt: p.createdAt })),
    },
  };
}
