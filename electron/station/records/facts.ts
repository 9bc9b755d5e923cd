// What the station knows about one target, read from its client database into the shapes the verdict
// (shared/model/verdict.ts) and the provisioning record take: packages, tasks with their waits, the
// download-event history, and the kept push checkpoints mapped back to their packages.
import type { CheckpointRecord, DownloadRunRecord, PackageRecord } from '../../../shared/model/client.js';
import type { PackageEvent, VerdictInput, VerdictTransfer } from '../../../shared/model/verdict.js';
import type { ClientStore } from '../../store/client-store.js';
import type { CacheEntry } from '../../store/cache-store.js';
import { packageKey } from '../../engine/confine.js';

const toEvent = (r: DownloadRunRecord): PackageEvent => ({
  packageId: r.packageId, name: r.name, sha256: r.sha256, startedAt: r.startedAt, endedAt: r.endedAt, outcome: r.outcome,
  failedPhase: r.failedPhase, exitCode: r.exitCode, reason: r.reason,
});

/** The target's latest download events (all when no limit), oldest first. */
export function historyOf(store: ClientStore, limit?: number): PackageEvent[] {
  return store.downloadHistory(limit === undefined ? {} : { limit }).map(toEvent);
}

/**
 * What the verdict needs of the history: each package's latest runs (a failure stays until that package
 * succeeds, however many runs of other packages came since), oldest first.
 */
const RUNS_PER_PACKAGE = 20;
function recentRuns(store: ClientStore, packages: PackageRecord[]): PackageEvent[] {
  return packages.flatMap((p) => store.downloadHistory({ packageId: p.id, limit: RUNS_PER_PACKAGE }).map(toEvent))
    .sort((a, b) => a.startedAt - b.startedAt);
}

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
  const tasks = store.tasks().map((t) => ({ kind: t.kind, packageId: t.packageId, state: t.state, phase: t.phase, wait: t.wait, lastError: t.lastError }));
  const live = opts.live ?? [];
  const kept = pushCheckpoints(store.checkpoints(), packages, opts.cache).filter((k) => !live.some((l) => l.packageId === k.packageId && l.leg === k.leg));
  return {
    packages,
    input: {
      now: opts.now, docked: opts.docked, tasks, transfers: [...live, ...kept], history: recentRuns(store, packages),
      packages: packages.map((p) => ({ id: p.id, name: p.name, state: p.state, required: p.required, accepted: p.accepted, createdAt: p.createdAt })),
    },
  };
}
