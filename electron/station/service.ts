// The station service: the one station API (shared/contract) over a running station. A snapshot, then a
// change stream — collections are recomputed from the live stores when the engine says something changed
// (coalesced, at most every `flushMs`), only the ones that differ are sent, and transfer progress is sent
// as its own event at most a few times per second per transfer (architecture §3.4).
import type { EngineEvent } from '../../shared/model/events.js';
import { nextStepFor } from '../../shared/model/next-steps.js';
import {
  CommandSchema, type Activity, type Change, type Command, type CommandResult, type Device, type CachedPackage,
  type Snapshot, type StationClient, type StationInfo, type StationSettings, type Task, type Transfer,
} from '../../shared/contract/station-api.js';
import type { ClientSession } from '../engine/session.js';
import type { Station } from './station.js';
import { packageKey } from '../engine/confine.js';
import { collectStatus } from './status.js';
import { acceptPackage } from './station-commands.js';
import { taskTransition } from '../engine/transitions.js';

export interface ServiceHooks {
  /** Settings as the runtime keeps them (config file + live values). */
  settings(): StationSettings;
  /** Applies a settings change (config file, live rate limit, docking); returns words for the result. */
  updateSettings(change: Partial<StationSettings>): Promise<string>;
  addSerialPort(path: string): Promise<string>;
  forgetSerialPort(path: string): Promise<string>;
  info(): Omit<StationInfo, 'online'>;
}

interface LiveTransfer {
  bytesDone: number;
  total: number | null;
  resumedFrom: number;
  at: number;
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
const ACTIVITY_KEPT = 500;

export class StationService implements StationClient {
  private readonly listeners = new Set<(c: Change) => void>();
  private readonly live = new Map<string, LiveTransfer>();
  private readonly last = new Map<string, string>();
  private activitySeq = new Map<string, number>();
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly station: Station, private readonly hooks: ServiceHooks, private readonly flushMs = 300) {}

  /** Feed every engine event here (the runtime composes it into the station's emit). */
  onEngineEvent(e: EngineEvent): void {
    if (e.type === 'progress') {
      const key = `${e.targetId}|${e.leg}|${e.packageId}`;
      const now = Date.now();
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
      const t: LiveTransfer = {
        bytesDone: e.bytesDone, total: e.total, resumedFrom: e.resumedFrom, at: now, leg: e.leg, packageId: e.packageId, target: e.targetId,
        bytesPerSecond, windowAt, windowBytes, lastSent: prev?.lastSent ?? 0,
      };
      this.live.set(key, t);
      if (now - t.lastSent >= PROGRESS_EVERY_MS) {
        t.lastSent = now;
        this.emit({ kind: 'progress', transfer: this.liveTransfer(key, t) });
      }
      return;
    }
    if (e.type === 'transfer-end') this.live.delete(`${e.targetId}|${e.leg}|${e.packageId}`);
    this.markDirty();
  }

  markDirty(): void {
    if (this.closed) return;
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      if (this.dirty) this.flush();
    }, this.flushMs);
  }

  private liveTransfer(key: string, t: LiveTransfer): Transfer {
    const remaining = t.total !== null ? t.total - t.bytesDone : null;
    return {
      id: key, target: t.target, package: t.packageId, packageName: this.packageName(t.target, t.packageId), leg: t.leg,
      state: 'active', bytesDone: t.bytesDone, total: t.total, resumePoint: t.resumedFrom, bytesPerSecond: Math.round(t.bytesPerSecond),
      etaSeconds: remaining !== null && t.bytesPerSecond > 0 ? Math.round(remaining / t.bytesPerSecond) : null,
    };
  }

  private packageName(target: string, packageId: string): string | null {
    return this.station.sessions.get(target)?.store.package(packageId)?.name ?? null;
  }

  private view() {
    const targets = [...this.station.sessions.values()].map((s) => ({ kind: s.target.kind, store: s.store }));
    return collectStatus(targets, this.station.cache.store, this.station.clock.now());
  }

  private collections(): Omit<Snapshot, 'activity'> {
    const v = this.view();
    const names = new Map(v.devices.map((d) => [d.id, d.name]));
    const sessionOf = (id: string): ClientSession | undefined => this.station.sessions.get(id);
    const devices: Device[] = v.devices.map((d) => {
      const pkgs = v.packages.filter((p) => p.target === d.id && p.lastResult);
      return { ...d, lastResult: pkgs.at(-1)?.lastResult ?? '' };
    });
    const optional = new Set(v.packages.filter((p) => p.required === false).map((p) => `${p.target}|${p.id}`));
    const tasks: Task[] = v.tasks.map((t) => ({
      id: `${t.target}|${t.kind}|${t.package}`, target: t.target, targetName: names.get(t.target) ?? (t.target === this.station.local.target.id ? 'this station' : t.target),
      kind: t.kind, package: t.package, packageName: t.packageName, state: t.state, nextRun: t.nextRun, wait: t.wait, waitingFor: t.waitingFor,
      attempts: t.attempts, lastError: t.lastError, optional: optional.has(`${t.target}|${t.package}`),
    }));
    const paused = (target: string, pkg: string) => sessionOf(target)?.pausedPackages().includes(pkg) ?? false;
    const transfers: Transfer[] = [];
    for (const [key, t] of this.live) transfers.push(this.liveTransfer(key, t));
    for (const x of v.transfers) {
      const leg = x.target === 'station cache' ? 'download' : 'push';
      const pkg = x.package.startsWith('push:') ? x.package.slice(5) : x.package;
      if (transfers.some((l) => l.leg === leg && (l.package === pkg || (leg === 'download' && l.package === x.package)))) continue;
      const owner = leg === 'download' ? [...this.station.sessions.values()].find((s) => s.store.package(x.package))?.target.id ?? '' : x.target;
      transfers.push({
        id: `${x.target}|${leg}|${x.package}`, target: leg === 'download' ? owner : x.target, package: pkg, packageName: x.packageName, leg,
        state: paused(owner, x.package) ? 'paused' : 'waiting', bytesDone: x.bytesDone, total: x.total, resumePoint: x.resumePoint,
        bytesPerSecond: 0, etaSeconds: null,
      });
    }
    const packages: CachedPackage[] = this.station.cache.entries().map((e) => ({
      id: e.packageId, name: v.packages.find((p) => packageKey(p.id) === e.packageId)?.name ?? null, fileName: e.fileName,
      size: e.expectedSize, sha256: e.sha256, complete: e.complete, users: e.users,
    }));
    const online = ![...this.station.sessions.values()].some((s) => s.target.kind === 'local' && s.isOffline());
    return { station: { ...this.hooks.info(), online }, devices, tasks, transfers, packages, settings: this.hooks.settings() };
  }

  /** New log lines of every target since the last call (or the latest `ACTIVITY_KEPT` for a snapshot). */
  private activity(all: boolean): Activity[] {
    const out: Activity[] = [];
    for (const s of this.station.sessions.values()) {
      const since = all ? 0 : (this.activitySeq.get(s.target.id) ?? 0);
      const logs = s.store.logs(ACTIVITY_KEPT).filter((l) => l.seq > since);
      if (logs.length) this.activitySeq.set(s.target.id, Math.max(this.activitySeq.get(s.target.id) ?? 0, logs.at(-1)!.seq));
      for (const l of logs) {
        out.push({
          seq: l.seq, at: new Date(l.at).toISOString(), level: l.level, target: s.target.id, packageId: l.packageId, message: l.message,
          nextStep: l.level === 'info' ? '' : nextStepFor(l.message),
        });
      }
    }
    return out.sort((a, b) => a.at.localeCompare(b.at)).slice(-ACTIVITY_KEPT);
  }

  async getSnapshot(): Promise<Snapshot> {
    const c = this.collections();
    for (const [k, v] of Object.entries(c)) this.last.set(k, JSON.stringify(v));
    return { ...c, activity: this.activity(true) };
  }

  private flush(): void {
    this.dirty = false;
    if (this.closed) return;
    const c = this.collections();
    const send = <K extends keyof typeof c>(kind: K, change: Change) => {
      const json = JSON.stringify(c[kind]);
      if (this.last.get(kind) === json) return;
      this.last.set(kind, json);
      this.emit(change);
    };
    send('station', { kind: 'station', station: c.station });
    send('devices', { kind: 'devices', devices: c.devices });
    send('tasks', { kind: 'tasks', tasks: c.tasks });
    send('transfers', { kind: 'transfers', transfers: c.transfers });
    send('packages', { kind: 'packages', packages: c.packages });
    send('settings', { kind: 'settings', settings: c.settings });
    const entries = this.activity(false);
    if (entries.length) this.emit({ kind: 'activity', entries });
  }

  private emit(change: Change): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // a broken listener (a closed socket) must not stop the others
      }
    }
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async execute(raw: Command): Promise<CommandResult> {
    const parsed = CommandSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, message: `not a valid command: ${parsed.error.issues[0]?.message ?? 'unknown'}` };
    try {
      const message = await this.run(parsed.data);
      this.markDirty();
      this.station.wake();
      return { ok: true, message };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  }

  private session(target: string): ClientSession {
    const s = this.station.sessions.get(target);
    if (!s) throw new Error(`no target ${target} is known to this station`);
    return s;
  }

  private task(target: string, taskId: string) {
    const [, kind, pkg] = taskId.split('|');
    const t = this.session(target).store.tasks().find((x) => x.kind === kind && x.packageId === (pkg ?? ''));
    if (!t) throw new Error(`no such task: ${taskId}`);
    return t;
  }

  private async run(c: Command): Promise<string> {
    switch (c.type) {
      case 'acceptPackage':
        return acceptPackage(this.session(c.target).store, c.packageId, this.station.clock.now());
      case 'retryNow': {
        const t = this.task(c.target, c.taskId);
        if (t.state !== 'queued') throw new Error(`the task is ${t.state}; only a waiting task can be retried now`);
        this.session(c.target).retryNow(t);
        return 'retrying now';
      }
      case 'cancelTask': {
        const s = this.session(c.target);
        const t = this.task(c.target, c.taskId);
        if (t.kind === 'poll') throw new Error('the poll cannot be cancelled: it never expires (spec §4.1)');
        if (t.state !== 'queued' && t.state !== 'running') throw new Error(`the task is ${t.state} already`);
        taskTransition(s, t, 'cancel', { reason: 'cancelled by a technician' });
        s.abortTask(t.packageId);
        return 'cancelled; the package is asked for again at the next poll if the server still lists it';
      }
      case 'pauseTransfer':
        this.session(c.target).pause(c.packageId);
        return 'paused; the checkpoint is kept';
      case 'resumeTransfer':
        this.session(c.target).resume(c.packageId);
        return 'resumed';
      case 'updateSettings':
        return this.hooks.updateSettings(c.settings);
      case 'addSerialPort':
        return this.hooks.addSerialPort(c.path);
      case 'forgetSerialPort':
        return this.hooks.forgetSerialPort(c.path);
      case 'forgetDevice':
        return this.station.forgetDevice(c.id);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
  }
}
