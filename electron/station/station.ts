// Composition root of the station: one client session per managed target — the station itself, plus every
// device that ever docked — sharing one package cache and one rate limiter, and the loops that run them.
// Sessions run side by side, each with its own lanes (engine/session.ts); a semaphore bounds how many
// download events run at once over all targets (the concurrency setting). The station also carries the
// events that concern every session: a dock or undock, a new server, the end of an outage.
import { mkdir, rm } from 'node:fs/promises';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { EngineEvent } from '../../shared/model/events.js';
import { ClientStore } from '../store/client-store.js';
import { ClientSession } from '../engine/session.js';
import { LocalTarget } from '../engine/local-target.js';
import { TetheredTarget } from '../engine/tethered-target.js';
import { systemClock, type Clock } from '../engine/clock.js';
import { RateLimiter } from '../engine/transfer/rate-limiter.js';
import { PackageCache } from '../engine/package-cache.js';
import { CommandJournal, endLeftoverCommands } from '../engine/command-journal.js';
import { Semaphore } from '../engine/semaphore.js';
import { detectBandwidthClass, type BandwidthClass } from '../engine/local/host-identity.js';
import type { DeviceLink } from '../link/device-link.js';
import { checkStationRoot, deviceFolder, deviceIdProblem, kitFolder, legacyDeviceFolderName, protectOwnFolder, shownId } from '../engine/confine.js';
import { DockhandError } from '../../shared/model/errors.js';
import { downloadNeed, retryDownloadsWaitingForRoom, StorageGuard, storageEvent } from './storage-guard.js';
import { useParseWorker } from '../protocol/parse-off-thread.js';
import { KitStore } from '../store/kit-store.js';
import { FieldKit, type ProfileSetting } from '../engine/kit/field-kit.js';
import { KIT_KV } from '../engine/kit/offline-state.js';
import { reprovisionFromKit } from '../engine/kit/offline-poll.js';

export interface StationOptions {
  dataDir: string;
  /** Folder the station's own packages land in; default DATA/root. */
  root?: string;
  /** Management server URL (…/devicemgmt/server.aspx). The CLI starts the demo server when none is given. */
  server: string;
  /** Device ID of the station itself; generated once and kept when absent. */
  id?: string;
  allowCommands?: boolean;
  /** Station programs a server's command line may name by a bare name (`tar`); none by default. */
  allowPrograms?: string[];
  /** Shared download cap in bytes per second; 0 = unlimited. */
  rateLimit?: number;
  /** Largest download of a package without a declared PackageSize (default 512 MiB). */
  maxUndeclaredDownloadBytes?: number;
  /** How the station classifies its own connection for package Flags; `auto` reads the link speed. */
  bandwidth?: 'auto' | BandwidthClass;
  /** How many download events (over all targets) may run at once; 8 by default. */
  concurrency?: number;
  clock?: Clock;
  emit?: (e: EngineEvent) => void;
  commandTimeoutMs?: number;
  /** Field-kit profiles named by the technician (station.json, --profile NAME=DEVICE-ID); see docs/field-kit.md. */
  profiles?: ProfileSetting[];
  /** The profile new devices are provisioned from offline (a name or device ID); default: the first. */
  defaultProfile?: string;
}


export const DEFAULT_CONCURRENCY = 8;
export const localTargetDb = (dataDir: string) => path.join(dataDir, 'targets', 'local', 'client.sqlite');
/** The field kit's index: profiles, the server's kept answers, the package files it holds in the cache. */
export const kitDb = (dataDir: string) => path.join(kitFolder(dataDir), 'kit.sqlite');
/** A device's client database: in a folder named by a hash of its ID (confine.ts), the ID stored inside. */
export const deviceTargetDb = (dataDir: string, deviceId: string) => path.join(deviceFolder(dataDir, deviceId), 'client.sqlite');

/**
 * Earlier versions named a device's folder after its ID made safe (`device-HANDHELD_7`); such folders move
 * to their hashed name at start-up, so a known device keeps its database. The ID is read from the database
 * itself, never from the folder name.
 */
function adoptLegacyDeviceFolders(dataDir: string): void {
  const dir = path.join(dataDir, 'targets');
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name, 'client.sqlite');
    // Hashed names are today's; only other names are opened (each database is otherwise opened once).
    if (!name.startsWith('device-') || /^device-[0-9a-f]{32}$/.test(name) || !existsSync(file)) continue;
    const store = new ClientStore(file);
    const id = store.get('id');
    store.close();
    if (!id || name !== legacyDeviceFolderName(id)) continue;
    const target = deviceFolder(dataDir, id);
    if (path.join(dir, name) !== target && !existsSync(target)) renameSync(path.join(dir, name), target);
  }
}

/** Picks the local target's device ID: the one asked for, else the one kept, else a new GUID. */
function resolveId(store: ClientStore, wanted: string | undefined): string {
  const kept = store.get('id');
  const id = wanted?.trim() || kept || randomUUID().toUpperCase();
  if (id !== kept) store.set('id', id);
  return id;
}

export class Station {
  readonly sessions = new Map<string, ClientSession>();
  readonly devices = new Map<string, TetheredTarget>();
  readonly clock: Clock;
  private readonly semaphore: Semaphore;
  private running: { signal: AbortSignal; loops: Promise<void>[]; added: () => void } | null = null;
  private closed = false;
  private unprotect: () => void = () => undefined;
  /** Ports refused for claiming an ID already docked (`id NUL port`), so the refusal is logged once. */
  private readonly refusedDocks = new Set<string>();
  /** Holds the work back while the data folder's disk is full (and says so), instead of dying. */
  readonly storage: StorageGuard;
  /** Large server documents are parsed in the parse worker while the station runs; it ends at close. */
  private readonly releaseParseWorker = useParseWorker();

  private constructor(
    readonly opts: StationOptions & { root: string },
    readonly local: ClientSession,
    readonly cache: PackageCache,
    readonly limiter: RateLimiter,
    private readonly bandwidth: () => BandwidthClass,
    readonly kit: FieldKit,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.semaphore = new Semaphore(Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY));
    this.sessions.set(local.target.id, local);
    this.storage = new StorageGuard({
      dir: opts.dataDir, need: () => downloadNeed(this.sessions.values(), cache.store),
      say: (level, message) => opts.emit?.(storageEvent(local.target.id, level, message)),
      onRoom: () => {
        retryDownloadsWaitingForRoom(this.sessions.values());
        this.wake();
      },
    });
  }

  get root(): string {
    return this.opts.root;
  }

  static async open(opts: StationOptions): Promise<Station> {
    const root = path.resolve(opts.root ?? path.join(opts.dataDir, 'root'));
    checkStationRoot(opts.dataDir, root);
    await mkdir(root, { recursive: true });
    // From here on no path a server or device chooses can name anything in the data folder (station.json,
    // the databases, the cache index), whatever root it is mapped under.
    const unprotect = protectOwnFolder(opts.dataDir);
    adoptLegacyDeviceFolders(opts.dataDir);
    const cacheDir = path.join(opts.dataDir, 'cache');
    await mkdir(cacheDir, { recursive: true });
    const store = new ClientStore(localTargetDb(opts.dataDir));
    const clock = opts.clock ?? systemClock;
    // Before any session runs: a command an earlier run of the station left behind is ended, never doubled.
    await endLeftoverCommands(new CommandJournal(store), (m) => store.log('warn', m, '', clock.now()));
    const id = resolveId(store, opts.id);
    store.set('root', root);
    const bandwidthSetting = opts.bandwidth ?? 'auto';
    let detected: BandwidthClass | null = null;
    const bandwidth = (): BandwidthClass => {
      if (bandwidthSetting !== 'auto') return bandwidthSetting;
      detected ??= detectBandwidthClass();
      return detected;
    };
    const limiter = new RateLimiter(opts.rateLimit ?? 0);
    const cache = new PackageCache(cacheDir, limiter, clock, { ...(opts.maxUndeclaredDownloadBytes ? { maxUndeclaredBytes: opts.maxUndeclaredDownloadBytes } : {}) });
    const target = new LocalTarget({
      id, root, bandwidth, hostPrograms: opts.allowPrograms ?? [], ...(opts.commandTimeoutMs ? { commandTimeoutMs: opts.commandTimeoutMs } : {}),
    });
    let station: Station | null = null;
    const kit = new FieldKit({
      store: new KitStore(kitDb(opts.dataDir)), cache, clock,
      configured: () => station!.opts.profiles ?? [], defaultProfile: () => station!.opts.defaultProfile,
      server: () => station!.opts.server, pollIntervalMs: () => station!.local.settings().pollIntervalMs,
      sessions: () => station!.sessions.values(),
      log: (level, message) => station!.local.log(level, message),
      onContact: (server) => station!.contact(server),
      onChange: () => opts.emit?.({ type: 'changed', targetId: id }),
    });
    const session = new ClientSession({
      store, target, clock, cache, allowCommands: opts.allowCommands ?? false, ...(opts.emit ? { emit: opts.emit } : {}),
      downloadSlot: () => station!.semaphore.acquire(), onContact: (server) => station!.contact(server), kit,
    });
    station = new Station({ ...opts, root }, session, cache, limiter, bandwidth, kit);
    station.unprotect = unprotect;
    station.adoptServer(session, opts.server);
    session.start();
    station.loadKnownDevices();
    return station;
  }

  /**
   * A server given on the command line or in Settings replaces the one a session kept (even one a
   * PollServer moved it to); the session then polls it at once. A PollServer move is kept across restarts
   * as long as the configured server stays the same.
   */
  private adoptServer(session: ClientSession, server: string): boolean {
    const { store } = session;
    if (store.get('configured_server') === server) return false;
    store.set('configured_server', server);
    store.set('server', server);
    session.pollNow();
    return true;
  }

  /** The management server changes for every target — the station's and every known device's. */
  setServer(server: string): void {
    this.opts.server = server;
    for (const s of this.sessions.values()) {
      if (this.adoptServer(s, server)) s.log('info', `the management server is now ${server}; polling it now`);
    }
  }

  /** Every target polls now (`station --once`): undocked devices' polls wait for their dock. */
  pollNow(): void {
    for (const s of this.sessions.values()) s.pollNow();
  }

  /**
   * A session heard from `server`. If any target could not reach it before, the outage is over for every
   * target of that server: what waited only for it runs now, instead of each sitting out its own retry.
   */
  private contact(server: string): void {
    const origin = originOf(server);
    for (const s of this.sessions.values()) {
      if ((s.offlineUntil !== 0 || s.waitsForServer) && originOf(s.settings().server) === origin) s.serverBack();
    }
  }

  /**
   * A technician picks the field-kit profile a device is provisioned from (its card): kept for it, and a
   * device provisioned offline whose first package has not started yet is provisioned again from it.
   */
  async useKitProfile(deviceId: string, profile: string): Promise<string> {
    const session = this.sessions.get(deviceId);
    if (!session || session.target.kind !== 'tethered') throw new Error(`no device ${deviceId} is known to this station`);
    const chosen = this.kit.profile(profile);
    if (!chosen) throw new Error(`no field-kit profile '${profile}'; the profiles are: ${this.kit.profiles().map((p) => p.name).join(', ') || 'none'}`);
    if (!this.kit.store.part(chosen.deviceId, 'poll')) throw new Error(`the field kit holds no answer for profile ${chosen.name} yet; refresh it while the server can be reached`);
    session.store.set(KIT_KV.choice, chosen.deviceId);
    const done = await reprovisionFromKit(session);
    session.changed();
    return done;
  }

  /** A device docked or left, or the station's connection changed: conditions of that kind may hold now. */
  private connectionChanged(session: ClientSession): void {
    session.release(['dock', 'connection']);
  }

  /**
   * A device docked (its port opened and the hello succeeded): it becomes a target with its own identity and
   * client database, and its session runs — its cradled-only packages now qualify.
   */
  dock(link: DeviceLink): TetheredTarget {
    const id = link.hello.id;
    const problem = deviceIdProblem(id);
    if (problem) {
      void link.close('the station refused the device: its ID cannot be used');
      throw new DockhandError('LINK', `refused the device on ${link.port}: its ID '${shownId(String(id))}' ${problem}; give the device a usable ID (dockhand agent --id)`);
    }
    const docked = this.devices.get(id);
    if (docked?.docked && docked.port !== link.port) {
      // Two devices with one identity would share a session and its packages: the first keeps it.
      const message = `refused the device on ${link.port}: it claims the ID ${id}, which the device on ${docked.port} already uses; ` +
        'give one of them another ID (dockhand agent --id); the device already docked keeps its session';
      // Into the docked device's activity once per port, however often the newcomer's port is tried again.
      const key = `${id}\u0000${link.port}`;
      if (!this.refusedDocks.has(key)) this.sessions.get(id)?.log('warn', message);
      this.refusedDocks.add(key);
      void link.close(`the station refused the device: the ID ${id} is already docked on ${docked.port}`);
      throw new DockhandError('LINK', message);
    }
    for (const key of [...this.refusedDocks]) if (key.startsWith(`${id}\u0000`)) this.refusedDocks.delete(key);
    const target = this.deviceTarget(id, link.hello.name);
    target.attach(link);
    const session = this.sessions.get(id)!;
    session.log('info', `device ${link.hello.name} (${id}) docked on ${link.port}`);
    link.onClose((reason) => this.undock(id, link, reason));
    this.connectionChanged(session);
    return target;
  }

  /** The target and session of a device, made (or reopened from its client database) on first need. */
  private deviceTarget(id: string, name: string, opened?: ClientStore): TetheredTarget {
    const known = this.devices.get(id);
    if (known) return known;
    const store = opened ?? new ClientStore(deviceTargetDb(this.opts.dataDir, id));
    store.set('id', id);
    let session: ClientSession | null = null;
    const target = new TetheredTarget({
      id, store, clock: this.clock, bandwidth: this.bandwidth, log: (line) => session?.log('info', line),
      ...(this.opts.commandTimeoutMs ? { commandTimeoutMs: this.opts.commandTimeoutMs } : {}),
      onPush: (packageId, file, bytesDone, total, resumedFrom) => this.opts.emit?.({
        type: 'progress', leg: 'push', targetId: id, packageId, name: `${file} → ${name}`, bytesDone, total, resumedFrom,
      }),
    });
    // Devices run their own command lines: running them is what the device is managed for.
    session = new ClientSession({
      store, target, clock: this.clock, cache: this.cache, allowCommands: true, ...(this.opts.emit ? { emit: this.opts.emit } : {}),
      downloadSlot: () => this.semaphore.acquire(), onContact: (server) => this.contact(server), kit: this.kit,
    });
    this.devices.set(id, target);
    this.sessions.set(id, session);
    // A device polls the station's configured server; one the server moved it to (PollServer) stays its own.
    this.adoptServer(session, this.local.store.get('configured_server') ?? this.opts.server);
    session.start();
    if (this.running) {
      this.running.loops.push(this.loop(session, this.running.signal));
      this.running.added();
    }
    return target;
  }

  /** Devices that docked in earlier runs: their queued messages are delivered, their work waits for dock. */
  private loadKnownDevices(): void {
    const dir = path.join(this.opts.dataDir, 'targets');
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name, 'client.sqlite');
      if (!name.startsWith('device-') || !existsSync(file)) continue;
      const store = new ClientStore(file);
      const id = store.get('id');
      if (!id) {
        store.close();
        continue;
      }
      store.set('docked', '0');
      store.set('current_package', '');
      this.deviceTarget(id, store.getJson<{ name?: string }>('hello')?.name ?? id, store);
    }
  }

  private undock(id: string, link: DeviceLink, reason: string): void {
    if (this.closed) return;
    const target = this.devices.get(id);
    const session = this.sessions.get(id);
    if (!target || !session) return;
    if (!target.detach(reason, link)) return; // a newer link replaced this one
    session.log('info', `device ${link.hello.name} (${id}) undocked: ${reason}`);
    this.connectionChanged(session);
  }

  /**
   * Runs every session's due work, side by side, until nothing more is due now — in any session: one
   * session's work can make another's due (the end of an outage), and devices that dock meanwhile join.
   */
  async runUntilIdle(): Promise<void> {
    for (;;) {
      await Promise.all([...this.sessions.values()].map((s) => s.lanes.runUntilIdle()));
      // A field-kit refresh under way may end an outage (it reached the server) or fill the cache.
      if (this.kit.busy()) {
        await this.kit.idle();
        continue;
      }
      const now = this.clock.now();
      const due = [...this.sessions.values()].some((s) => {
        const at = s.lanes.nextWake();
        return !s.signal.aborted && at !== null && at <= now;
      });
      if (!due) return;
    }
  }

  /**
   * One session's loop: start what is due, then sleep until something changes for it (work ended, an
   * outside event) or its next task comes due — looking again at least every `recheckMs`, because another
   * process (`station accept`) may change its database.
   */
  private async loop(session: ClientSession, signal: AbortSignal, recheckMs = 2000): Promise<void> {
    let cutByFullDisk = false;
    while (!signal.aborted && !session.signal.aborted) {
      // A full disk holds all work (the guard says so) instead of failing every write.
      if (await this.storage.holding(signal)) {
        cutByFullDisk = true;
        continue;
      }
      // A task the full disk cut off could not record its end: once its lane is free it resumes as after a crash.
      if (cutByFullDisk && !session.lanes.busy()) {
        session.store.recoverInterruptedTasks(this.clock.now());
        cutByFullDisk = false;
      }
      let delay = recheckMs;
      try {
        session.lanes.startDue();
        const wake = session.lanes.nextWake();
        delay = Math.max(0, Math.min(recheckMs, wake === null ? recheckMs : wake - this.clock.now()));
      } catch (err) {
        if (this.storage.noteFailure(err)) {
          cutByFullDisk = true;
          continue;
        }
        session.internalError(err); // and look again after `recheckMs`
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          off();
          resolve();
        };
        const timer = setTimeout(done, delay);
        signal.addEventListener('abort', done, { once: true });
        const off = session.onChange(done);
      });
    }
    await session.lanes.idle();
  }

  /** Runs every session until `signal` aborts; sessions of devices that dock later join in. */
  async run(signal: AbortSignal): Promise<void> {
    // Stopping stops the work in progress too: a download keeps its checkpoint, a command is ended and
    // recorded as interrupted (never left running on its own, never run again).
    signal.addEventListener('abort', () => {
      for (const s of this.sessions.values()) s.stop();
    }, { once: true });
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    let added: Promise<void> = new Promise<void>(() => undefined);
    let wakeAdded = (): void => undefined;
    const arm = () => { added = new Promise<void>((resolve) => { wakeAdded = resolve; }); };
    arm();
    const running = { signal, loops: [...this.sessions.values()].map((s) => this.loop(s, signal)), added: () => wakeAdded() };
    this.running = running;
    // Every loop may end before the signal does (each session stopped on its own, e.g. by Ctrl-C): then
    // wait for the signal or a device's new session — never spin on loops that are already over, which
    // would starve the event loop and with it the shutdown that is under way.
    while (!signal.aborted) {
      const count = running.loops.length;
      await Promise.race([Promise.all(running.loops), aborted]);
      if (!signal.aborted && running.loops.length === count) {
        await Promise.race([aborted, added]);
        arm();
      }
    }
    await Promise.all(running.loops);
    this.running = null;
  }

  /** Something outside changed (a package was accepted, a transfer resumed): every session looks again. */
  wake(): void {
    for (const s of this.sessions.values()) s.changed();
  }

  /** Forgets an undocked device: its session stops and its client database is deleted. */
  async forgetDevice(id: string): Promise<string> {
    const target = this.devices.get(id);
    const session = this.sessions.get(id);
    if (!target || !session) throw new Error(`no device ${id} is known to this station`);
    if (target.docked) throw new Error(`device ${id} is docked; undock it before forgetting it`);
    session.stop();
    await session.lanes.idle();
    this.sessions.delete(id);
    this.devices.delete(id);
    session.store.close();
    await rm(path.dirname(deviceTargetDb(this.opts.dataDir, id)), { recursive: true, force: true });
    return `forgot device ${id}`;
  }

  problems(): string[] {
    return [...this.sessions.values()].flatMap((s) => s.problems.map((p) => `${s.target.kind === 'tethered' ? `device ${s.target.id}: ` : ''}${p.message}`));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.kit.close();
    for (const s of this.sessions.values()) {
      s.stop();
      s.store.close();
    }
    this.kit.store.close();
    this.cache.close();
    this.unprotect();
    this.releaseParseWorker();
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
