// Transfers as the station API shows them: exactly one row per (target, leg, package). A transfer in flight
// is known from its progress events (with its speed over a window of at least a second); a transfer that
// stopped is known from its kept checkpoint — the station cache's partial file for a download, the
// device's checkpoint for a push. A checkpoint is shown only when no live row stands for the same
// transfer, and under the same row id, so a push in flight never gets a second, stale row beside it.
import { existsSync, statSync } from 'node:fs';
import type { EngineEvent } from '../../shared/model/events.js';
import type { Transfer } from '../../shared/contract/station-api.js';
import type { VerdictTransfer } from '../../shared/model/verdict.js';
import type { ClientSession } from '../engine/session.js';
import type { CacheEntry } from '../store/cache-store.js';
import { pushOwner } from './records/facts.js';
import { packageKey } from '../engine/confine.js';

interface Live {
  bytesDone: number;
  total: number | null;
  resumedFrom: number;
  bytesPerSecond: number;
  windowAt: number;
  windowBytes: number;
  lastSent: number;
  leg: 'download' | 'push';
  packageId: string;
  target: string;
}

const PROGRESS_EVERY_MS = 250;
const SPEED_WINDOW_MS = 1000;

export const transferId = (target: string, leg: 'download' | 'push', packageId: string) => `${target}|${leg}|${packageId}`;

export class LiveTransfers {
  private readonly live = new Map<string, Live>();

  constructor(private readonly packageName: (target: string, packageId: string) => string | null) {}

  /** Folds a progress event in; returns the row to send now, or null while the last one is recent. */
  progress(e: Extract<EngineEvent, { type: 'progress' }>, now: number): Transfer | null {
    const key = transferId(e.targetId, e.leg, e.packageId);
    const prev = this.live.get(key);
    // Speed over a window of at least a second: progress events come in bursts a millisecond apart.
    let windowAt = prev?.windowAt ?? now;
    let windowBytes = prev?.windowBytes ?? e.bytesDone;
    let bytesPerSecond = prev?.bytesPerSecond ?? 0;
    const elapsed = now - windowAt;
    const rate = elapsed > 0 ? Math.max(0, (e.bytesDone - windowBytes) / (elapsed / 1000)) : 0;
    if (elapsed >= SPEED_WINDOW_MS) {
      bytesPerSecond = bytesPerSecond ? bytesPerSecond * 0.5 + rate * 0.5 : rate;
      windowAt = now;
      windowBytes = e.bytesDone;
    } else if (!bytesPerSecond && elapsed >= SPEED_WINDOW_MS / 4) {
      bytesPerSecond = rate; // a first estimate before the first full window
    }
    const t: Live = {
      bytesDone: e.bytesDone, total: e.total, resumedFrom: e.resumedFrom, leg: e.leg, packageId: e.packageId, target: e.targetId,
      bytesPerSecond, windowAt, windowBytes, lastSent: prev?.lastSent ?? 0,
    };
    this.live.set(key, t);
    if (now - t.lastSent < PROGRESS_EVERY_MS) return null;
    t.lastSent = now;
    return this.row(key, t);
  }

  end(e: Extract<EngineEvent, { type: 'transfer-end' }>): void {
    this.live.delete(transferId(e.targetId, e.leg, e.packageId));
  }

  private row(key: string, t: Live): Transfer {
    const remaining = t.total !== null ? t.total - t.bytesDone : null;
    return {
      id: key, target: t.target, package: t.packageId, packageName: this.packageName(t.target, t.packageId), leg: t.leg,
      state: 'active', bytesDone: t.bytesDone, total: t.total, resumePoint: t.resumedFrom, bytesPerSecond: Math.round(t.bytesPerSecond),
      etaSeconds: remaining !== null && t.bytesPerSecond > 0 ? Math.round(remaining / t.bytesPerSecond) : null,
    };
  }

  /** Transfers in flight for one target, as the verdict reads them. */
  forTarget(target: string): VerdictTransfer[] {
    return [...this.live.values()].filter((t) => t.target === target)
      .map((t) => ({ packageId: t.packageId, leg: t.leg, bytesDone: t.bytesDone, total: t.total, active: true }));
  }

  /**
   * Every row: the live ones, then the kept checkpoints nobody is moving — the cache's partial downloads
   * (shown for the target that uses them) and each device's push checkpoints (under their package).
   */
  rows(sessions: ClientSession[], cache: CacheEntry[], paused: (target: string, packageId: string) => boolean): Transfer[] {
    const rows = [...this.live].map(([key, t]) => this.row(key, t));
    const taken = new Set(rows.map((r) => r.id));
    const kept = (target: string, leg: 'download' | 'push', packageId: string, bytesDone: number, total: number | null) => {
      const id = transferId(target, leg, packageId);
      if (taken.has(id) || (leg === 'download' && rows.some((r) => r.leg === 'download' && packageKey(r.package) === packageKey(packageId)))) return;
      taken.add(id);
      rows.push({
        id, target, package: packageId, packageName: this.packageName(target, packageId), leg,
        state: paused(target, packageId) ? 'paused' : 'waiting', bytesDone, total, resumePoint: bytesDone, bytesPerSecond: 0, etaSeconds: null,
      });
    };
    for (const e of cache) {
      if (e.complete) continue;
      // The cache keys a package by its ID whatever the case; the row carries the ID the targets know.
      const known = sessions.flatMap((s) => s.store.packages().filter((p) => packageKey(p.id) === e.packageId).map((p) => ({ s, id: p.id })))[0];
      const owner = known?.s.target.id ?? '';
      // The partial file's length is what really arrived (it is written append-only): the resume point.
      const onDisk = existsSync(e.partPath) ? statSync(e.partPath).size : 0;
      kept(owner, 'download', known?.id ?? e.packageId, onDisk, e.expectedSize);
    }
    for (const s of sessions) {
      for (const cp of s.store.checkpoints()) {
        if (!cp.packageId.startsWith('push:')) continue;
        const pkg = pushOwner(s.store, cp.packageId, cache);
        if (pkg) kept(s.target.id, 'push', pkg, cp.bytesDone, cp.expectedSize);
      }
    }
    return rows;
  }
}
