// The station service: the one station API (shared/contract) over a running station. A snapshot, then a
// change stream — collections are recomputed from the live stores when the engine says something changed
// (coalesced, at most every `flushMs`), only the ones that differ are sent, and transfer progress is sent
// as its own event at most a few times per second per transfer (architecture §3.4).
import os from 'node:os';
import type { EngineEvent } from '../../shared/model/events.js';
import { nextStepFor } from '../../shared/model/next-steps.js';
import {
  CommandSchema, type Activity, type Change, type Command, type CommandResult, type Device, type CachedPackage,
  type Snapshot, type StationClient, type StationInfo, type StationSettings, type Task,
} from '../../shared/contract/station-api.js';
import type { ClientSession } from '../engine/session.js';
import type { Station } from './station.js';
import { packageKey } from '../engine/confine.js';
import { collectStatus } from './status.js';
import { acceptPackage } from './station-commands.js';
import { taskTransition } from '../engine/transitions.js';
import { LiveTransfers } from './live-transfers.js';
import { contactState } from './contact.js';
import { renameSlot, slotLabels } from './slots.js';
import { deviceView } from './records/device-view.js';
import { exportRecord } from './records/export.js';

export interface ServiceHooks {
  /** Settings as the runtime keeps them (config file + live values). */
  settings(): StationSettings;
  /** Applies a settings change (config file, live rate limit, docking); returns words for the result. */
  updateSettings(change: Partial<StationSettings>): Promise<string>;
  addSerialPort(path: string): Promise<string>;
  forgetSerialPort(path: string): Promise<string>;
  info(): Omit<StationInfo, 'online' | 'contact' | 'storageProblem' | 'host' | 'fieldKit'>;
}

const ACTIVITY_KEPT = 500;


export class StationService implements StationClient {
  private readonly listeners = new Set<(c: Change) => void>();
  private readonly live = new LiveTransfers((target, packageId) => this.packageName(target, packageId));
  private readonly last = new Map<string, string>();
  private activitySeq = new Map<string, number>();
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly station: Station, private readonly hooks: ServiceHooks, private readonly flushMs = 300) {}

  /** Feed every engine event here (the runtime composes it into the station's emit). */
  onEngineEvent(e: EngineEvent): void {
    if (e.type === 'progress') {
      const row = this.live.progress(e, Date.now());
      if (row) this.emit({ kind: 'progress', transfer: row });
      return;
    }
    if (e.type === 'transfer-end') this.live.end(e);
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

  private packageName(target: string, packageId: string): string | null {
    return this.station.sessions.get(target)?.store.package(packageId)?.name ?? null;
  }

  private view() {
    const targets = [...this.station.sessions.values()].map((s) => ({ kind: s.target.kind, store: s.store }));
    return collectStatus(targets, this.station.cache.store, this.station.clock.now(), this.station.kit.summary());
  }

  private collections(): Omit<Snapshot, 'activity'> {
    const v = this.view();
    const now = this.station.clock.now();
    const sessions = [...this.station.sessions.values()];
    const cache = this.station.cache.entries();
    const slots = slotLabels(this.station.local.store);
    const kitProfiles = new Map(this.station.kit.profiles().map((p) => [p.deviceId, p.name]));
    const devices: Device[] = sessions.filter((s) => s.target.kind === 'tethered').map((s) => deviceView(s.store, {
      cache, slots, now, live: this.live.forTarget(s.target.id), docked: this.station.devices.get(s.target.id)?.docked ?? false, kitProfiles,
    }));
    const names = new Map(devices.map((d) => [d.id, d.name]));
    const sessionOf = (id: string): ClientSession | undefined => this.station.sessions.get(id);
    const optional = new Set(v.packages.filter((p) => p.required === false).map((p) => `${p.target}|${p.id}`));
    const tasks: Task[] = v.tasks.map((t) => ({
      id: `${t.target}|${t.kind}|${t.package}`, target: t.target, targetName: names.get(t.target) ?? (t.target === this.station.local.target.id ? 'this station' : t.target),
      kind: t.kind, package: t.package, packageName: t.packageName, state: t.state, nextRun: t.nextRun, wait: t.wait, waitingFor: t.waitingFor,
      attempts: t.attempts, lastError: t.lastError, optional: optional.has(`${t.target}|${t.package}`),
    }));
    const paused = (target: string, pkg: string) => sessionOf(target)?.pausedPackages().includes(pkg) ?? false;
    const transfers = this.live.rows(sessions, cache, paused);
    const packages: CachedPackage[] = cache.map((e) => ({
      id: e.packageId, name: v.packages.find((p) => packageKey(p.id) === e.packageId)?.name ?? null, fileName: e.fileName,
      size: e.expectedSize, sha256: e.sha256, complete: e.complete, users: e.users,
    }));
    // The header speaks of the station's server: the station's own session and the docked devices that
    // poll it (a device the server moved elsewhere with PollServer says so on its own tile).
    const server = this.station.local.store.get('server');
    const talking = sessions.map((s) => ({
      session: s, store: s.store,
      talks: s.target.kind === 'local' || ((this.station.devices.get(s.target.id)?.docked ?? false) && s.store.get('server') === server),
    }));
    const contact = contactState(talking, this.hooks.settings().server);
    return {
      station: {
        ...this.hooks.info(), online: contact.state !== 'unreachable', contact, storageProblem: this.station.storage.problem, host: os.hostname(),
        fieldKit: this.station.kit.summary(),
      },
      devices, tasks, transfers, packages, settings: this.hooks.settings(),
    };
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
    // ISO-8601 UTC times order as plain strings; localeCompare would load ICU's collation data (about 14 ms,
    // paid at the end of every `station --once` run that prints its device lines)
    return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).slice(-ACTIVITY_KEPT);
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
      if (parsed.data.type === 'exportRecord') return await this.exportRecord(parsed.data);
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
      case 'renameSlot':
        return renameSlot(this.station.local.store, c.port, c.label);
      case 'exportRecord':
        throw new Error('exportRecord answers with a file'); // handled by execute
      case 'useKitProfile':
        return this.station.useKitProfile(c.target, c.profile);
      case 'refreshKit': {
        const n = this.station.kit.profiles().length;
        if (n === 0) throw new Error('the field kit has no profiles yet: dock a device while the server can be reached, or name profiles in Settings');
        void this.station.kit.refresh().finally(() => this.markDirty());
        return `refreshing the field kit: ${n} profile(s); the activity says when each is done`;
      }
    }
  }

  /** The provisioning record of a selection, as a file in the command's result (every event, not only the latest). */
  private async exportRecord(c: Extract<Command, { type: 'exportRecord' }>): Promise<CommandResult> {
    const now = this.station.clock.now();
    const cache = this.station.cache.entries();
    const slots = slotLabels(this.station.local.store);
    const devices = [...this.station.sessions.values()].filter((s) => s.target.kind === 'tethered').map((s) => deviceView(s.store, {
      cache, slots, now, live: this.live.forTarget(s.target.id), docked: this.station.devices.get(s.target.id)?.docked ?? false, historyLimit: Infinity,
    }));
    return exportRecord(devices, { id: this.station.local.target.id, host: os.hostname() }, c, now);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
  }
}
