// One client session per managed target: its identity toward the server, the conditions its work waits
// for (docked, the connection, paused packages, the server being reachable), the events that change them,
// and its lanes of work (lanes.ts: the control lane, the download lane, and the outbox's one flusher, side
// by side, so the session keeps its rhythm while a download runs).
//
// A task whose condition does not hold is held (its wait recorded) and not read again until an event
// releases it: a dock or undock, an accept, a resume, a change of connection, the end of an outage.
import type { ClientStore } from '../store/client-store.js';
import type { EventPhase, TaskRecord } from '../../shared/model/client.js';
import type { EngineEvent } from '../../shared/model/events.js';
import { DockhandError } from '../../shared/model/errors.js';
import { describeDelay, HELD_WAIT_KINDS, NO_WAIT, type TaskWait, type TaskWaitKind } from '../../shared/model/wait.js';
import { buildDeviceHeaders, type DeviceAction, type ReportType } from '../../shared/protocol/index.js';
import type { Clock } from './clock.js';
import type { Target } from './target.js';
import type { PackageCache } from './package-cache.js';
import { postToServer, type DmResponse } from './dm-http.js';
import { CLIENT_VERSION, readSettings, type Settings } from './client-settings.js';
import { Outbox } from './outbox.js';
import { taskTransition } from './transitions.js';
import { downloadCondition, downloadNeedsTransfer } from './download-event.js';
import { Lanes } from './lanes.js';
import type { FieldKitAccess } from './kit/kit-access.js';
import { kitDetail, kitServesPoll, outboxWaitsForPoll } from './kit/offline-state.js';

export interface SessionOptions {
  store: ClientStore;
  target: Target;
  clock: Clock;
  /** The station's package cache, shared by every target. */
  cache: PackageCache;
  allowCommands: boolean;
  emit?: (e: EngineEvent) => void;
  /** Upper bound for one command run. */
  commandTimeoutMs?: number;
  /** A place for one download event in the station's bound; resolves with its release. None: unbounded. */
  downloadSlot?: () => Promise<() => void>;
  /** Called after every answer from `server`, so the station can end an outage for every target at once. */
  onContact?: (server: string) => void;
  /** The station's field kit: what stands in for the server while it cannot be reached (docs/field-kit.md). */
  kit?: FieldKitAccess;
}

/** A failure worth reporting at the end of `station --once`. */
export interface SessionProblem {
  at: number;
  message: string;
}

export class ClientSession {
  readonly store: ClientStore;
  readonly target: Target;
  readonly clock: Clock;
  readonly outbox: Outbox;
  readonly problems: SessionProblem[] = [];
  /** Until when the server is known to be unreachable; 0 when it is not known to be. */
  offlineUntil = 0;
  /** Some task waits for the server (set with such a wait, cleared when the server answers again). */
  waitsForServer = false;
  /** The open history run of each download event under way, and the phase it is in. */
  readonly runs = new Map<string, { id: number; phase: EventPhase }>();
  private readonly abort = new AbortController();
  /** The control and download lanes (lanes.ts): what runs now, and what starts next. */
  readonly lanes: Lanes;
  private readonly waiters = new Set<() => void>();

  constructor(readonly opts: SessionOptions) {
    this.store = opts.store;
    this.target = opts.target;
    this.clock = opts.clock;
    this.outbox = new Outbox(this);
    this.lanes = new Lanes(this);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  now(): number {
    return this.clock.now();
  }

  settings(): Settings {
    return readSettings(this.store);
  }

  emit(e: EngineEvent): void {
    this.opts.emit?.(e);
  }

  log(level: 'info' | 'warn' | 'error', message: string, packageId = ''): void {
    this.store.log(level, message, packageId, this.now());
    this.emit({ type: 'log', targetId: this.target.id, level, message, ...(packageId ? { packageId } : {}) });
    if (level === 'error') this.problems.push({ at: this.now(), message });
  }

  /**
   * Start-up: resume what a crash cut off, try what waited for the server at once, look at every held
   * task again (the device may be docked now, the package accepted), and make sure the poll exists.
   */
  start(): void {
    const now = this.now();
    const resumed = this.store.recoverInterruptedTasks(now);
    if (resumed > 0) this.log('warn', `resumed ${resumed} task(s) interrupted by a stop or crash`);
    this.store.wakeServerWaits(now);
    this.store.releaseHeld(HELD_WAIT_KINDS, now);
    if (!this.store.task('poll')) this.store.scheduleTask('poll', '', now, now);
  }

  stop(): void {
    this.abort.abort();
    this.changed();
  }

  // ---- the server -------------------------------------------------------------------------------

  /** Sends one document to the management server with the standard X-Device-* headers (spec §2.3). */
  async post(action: DeviceAction, body: string | Uint8Array, extra: { reportType?: ReportType; fullyQualifiedFilename?: string; contentType?: string } = {}): Promise<DmResponse> {
    const s = this.settings();
    if (!s.server) {
      const err = new DockhandError('NETWORK', 'no management server is configured for this station; start it with --server URL');
      this.markOffline(err); // like any unreachable server: wait a retry interval, do not spin
      throw err;
    }
    const headers = buildDeviceHeaders({
      uuid: this.target.id, auth: s.auth, timestamp: s.timestamp, clientVersion: CLIENT_VERSION, action,
      ...(extra.reportType ? { reportType: extra.reportType } : {}),
      ...(extra.fullyQualifiedFilename ? { fullyQualifiedFilename: extra.fullyQualifiedFilename } : {}),
    });
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    try {
      const res = await postToServer(s.server, headers, bytes, extra.contentType ?? 'text/xml; charset=utf-8', { signal: this.signal });
      // The server may hand out a new authentication value on any answer (spec §2.3 X-Device-Auth).
      const auth = res.headers['x-device-auth'];
      if (typeof auth === 'string' && auth !== '' && auth !== s.auth) this.store.set('auth', auth);
      this.contact(s.server);
      return res;
    } catch (err) {
      if (err instanceof DockhandError && err.code === 'NETWORK') this.markOffline(err);
      // An answer that refuses is still an answer: the server can be reached.
      else if (err instanceof DockhandError && err.code === 'HTTP_STATUS') this.contact(s.server);
      throw err;
    }
  }

  private contact(server: string): void {
    if (this.opts.onContact) this.opts.onContact(server);
    else if (this.offlineUntil !== 0 || this.waitsForServer) this.serverBack();
  }

  markOffline(err: DockhandError): void {
    const s = this.settings();
    if (this.offlineUntil <= this.now()) this.log('warn', `${err.message} (retrying in ${describeDelay(s.retryIntervalMs)})`);
    this.offlineUntil = this.now() + s.retryIntervalMs;
  }

  isOffline(): boolean {
    return this.offlineUntil > this.now();
  }

  /** The server answered again: the outage is over, and every task that waited only for it is due now. */
  serverBack(): void {
    this.offlineUntil = 0;
    this.waitsForServer = false;
    if (this.store.wakeServerWaits(this.now()) > 0) this.changed();
  }

  // ---- conditions and a technician's hand --------------------------------------------------------

  /** What a due task waits for before it may run; NO_WAIT when it may run now. */
  conditionFor(task: TaskRecord): TaskWait {
    if (!this.connected()) return { kind: 'dock' };
    if (task.kind !== 'download') return NO_WAIT;
    if (this.pausedPackages().includes(task.packageId)) return { kind: 'technician', reason: 'paused' };
    const pkg = this.store.package(task.packageId);
    return pkg ? downloadCondition(pkg, this.target.connection()) : NO_WAIT;
  }

  /** A tethered device that is not docked has no connection at all; the station itself always has one. */
  connected(): boolean {
    const c = this.target.connection();
    return c.cradled || c.bandwidth !== 'none';
  }

  /**
   * Work that cannot start without the server. An "Execute Only" recurrence, a SourceFiles=No package and
   * the building of reports need no connection: they run offline and their messages wait in the outbox.
   */
  needsNetwork(task: TaskRecord): boolean {
    const kit = this.opts.kit;
    switch (task.kind) {
      case 'poll':
        return !kitServesPoll(this);
      case 'instruction':
        return !kit?.answer(this, 'instructions', task.packageId);
      case 'download': {
        // A package whose bytes are in the station cache (same ID, size and hash) needs no location request.
        const pkg = this.store.package(task.packageId);
        return pkg ? downloadNeedsTransfer(pkg, task) && !kit?.bytes(pkg) : false;
      }
      case 'software-inventory':
      case 'machine-inventory':
      case 'file-collection':
        return false;
    }
  }

  /** What a task that needs the server says while it waits for it, beyond "cannot be reached" (the field kit's gap). */
  offlineDetail(task: TaskRecord): string | undefined {
    return kitDetail(this, task);
  }

  /** A device provisioned from the field kit delivers nothing before its first poll has told the server it exists. */
  outboxWaitsForPoll(): boolean {
    return outboxWaitsForPoll(this.store);
  }

  /** An outside event may have lifted these conditions (for one package, or all): look again. */
  release(kinds: readonly TaskWaitKind[], packageId?: string): void {
    if (this.store.releaseHeld(kinds, this.now(), packageId) > 0) {
      this.changed();
      this.emit({ type: 'changed', targetId: this.target.id });
    }
  }

  /** Packages whose transfers a technician paused; kept in the client database across restarts. */
  pausedPackages(): string[] {
    return this.store.getJson<string[]>('paused') ?? [];
  }

  /** Pauses a package's transfer: a running one stops at once (its checkpoint kept), a waiting one stays. */
  pause(packageId: string): void {
    const paused = new Set(this.pausedPackages());
    paused.add(packageId);
    this.store.setJson('paused', [...paused]);
    this.abortTask(packageId);
  }

  resume(packageId: string): void {
    this.store.setJson('paused', this.pausedPackages().filter((p) => p !== packageId));
    this.release(['technician'], packageId);
  }

  /** Stops the package's download event in progress, if any (a pause, a cancel). */
  abortTask(packageId: string): void {
    this.lanes.abort(packageId);
  }

  /** Stops the package's download event in progress and waits until it has stopped. */
  stopTask(packageId: string): Promise<void> {
    return this.lanes.stop(packageId);
  }

  /** The signal of one package's download event (pause, cancel), or the session's. */
  signalFor(packageId: string): AbortSignal {
    return this.lanes.signalFor(packageId) ?? this.signal;
  }

  /** Makes a waiting task due now, and forgets an outage and a refusal: "retry now". */
  retryNow(task: TaskRecord): void {
    this.offlineUntil = 0;
    this.store.set('outbox_retry_at', '0');
    taskTransition(this, task, 'retry-now');
    this.changed();
  }

  /** The poll runs at once (start of `--once`, a new server), whatever its schedule said. */
  pollNow(): void {
    this.offlineUntil = 0;
    const poll = this.store.task('poll');
    if (poll?.state === 'queued') taskTransition(this, poll, 'retry-now');
    this.changed();
  }

  // ---- its lanes and the loop around them ------------------------------------------------------------

  /** Delivers the outbox now (one flusher; see outbox.ts), without waiting for it. */
  kickOutbox(): void {
    if (!this.signal.aborted) this.outbox.flush().catch((err: unknown) => this.internalError(err));
  }

  /** Something may be due now (a lane ended, a message was delivered, an outside event): wake the loop. */
  changed(): void {
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
  }

  /** Calls `fn` once, at the next `changed()`; returns a function that forgets it. */
  onChange(fn: () => void): () => void {
    this.waiters.add(fn);
    return () => this.waiters.delete(fn);
  }

  /** Resolves at the next `changed()`. */
  whenChanged(): Promise<void> {
    return new Promise((resolve) => this.onChange(resolve));
  }

  /** A bug, not an expected failure: logged with its stack, and the session goes on with its other work. */
  internalError(err: unknown): void {
    try {
      this.log('error', `internal error, continuing: ${(err as Error)?.stack ?? String(err)}`);
    } catch {
      // the database itself failed (closed, full); there is nowhere left to write it
    }
  }
}
