// One client session per managed target: the scheduler over the target's persistent tasks.
//
// Each tick: deliver the outbox in order, then run the one due task whose conditions hold. Tasks are
// rows in the client database, written before their side effects; a task found `running` at start-up
// was cut off by a crash and resumes from its recorded phase.
//
// Failures are sorted (spec §15.2 + the seed's offline rule): a NETWORK failure means the server cannot
// be reached — the task waits ("offline, retrying in 3 min") without spending its retries, so nothing is
// dropped while offline; any other failure spends one of `FailureRetryCount` retries, spaced by
// `FailureRetryInterval`, and then the task gives up as its kind prescribes.
import type { ClientStore } from '../store/client-store.js';
import type { TaskRecord } from '../../shared/model/client.js';
import type { EngineEvent } from '../../shared/model/events.js';
import { DockhandError, describeError } from '../../shared/model/errors.js';
import { buildDeviceHeaders, type DeviceAction, type ReportType } from '../../shared/protocol/index.js';
import type { Clock } from './clock.js';
import type { Target } from './target.js';
import type { PackageCache } from './package-cache.js';
import { postToServer, type DmResponse } from './dm-http.js';
import { CLIENT_VERSION, readSettings, type Settings } from './client-settings.js';
import { afterFailure, describeDelay } from './schedule.js';
import { flushOutbox } from './outbox.js';
import { runPoll } from './poll.js';
import { runInstruction } from './instruction.js';
import { downloadCondition, downloadNeedsTransfer, giveUpDownload, runDownloadEvent } from './download-event.js';
import { runReport } from './reports.js';

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
  private offlineUntil = 0;
  private readonly abort = new AbortController();
  private readonly taskAborts = new Map<string, AbortController>();
  readonly problems: SessionProblem[] = [];

  constructor(readonly opts: SessionOptions) {
    this.store = opts.store;
    this.target = opts.target;
    this.clock = opts.clock;
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

  /** Start-up: resume what a crash cut off, retry network waits at once, make sure the poll exists. */
  start(): void {
    const now = this.now();
    const resumed = this.store.recoverInterruptedTasks(now);
    if (resumed > 0) this.log('warn', `resumed ${resumed} task(s) interrupted by a stop or crash`);
    this.store.wakeNetworkWaits(now);
    if (!this.store.task('poll')) this.store.scheduleTask('poll', '', now, now);
  }

  stop(): void {
    this.abort.abort();
  }

  /** Sends one document to the management server with the standard X-Device-* headers (spec §2.3). */
  async post(action: DeviceAction, body: string | Uint8Array, extra: { reportType?: ReportType; fullyQualifiedFilename?: string; contentType?: string } = {}): Promise<DmResponse> {
    const s = this.settings();
    if (!s.server) throw new DockhandError('NETWORK', 'no management server is configured for this station; start it with --server URL');
    const headers = buildDeviceHeaders({
      uuid: this.target.id, auth: s.auth, timestamp: s.timestamp, clientVersion: CLIENT_VERSION, action,
      ...(extra.reportType ? { reportType: extra.reportType } : {}),
      ...(extra.fullyQualifiedFilename ? { fullyQualifiedFilename: extra.fullyQualifiedFilename } : {}),
    });
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    try {
      const res = await postToServer(s.server, headers, bytes, extra.contentType ?? 'text/xml; charset=utf-8', { signal: this.signal });
      this.offlineUntil = 0;
      // The server may hand out a new authentication value on any answer (spec §2.3 X-Device-Auth).
      const auth = res.headers['x-device-auth'];
      if (typeof auth === 'string' && auth !== '' && auth !== s.auth) this.store.set('auth', auth);
      return res;
    } catch (err) {
      if (err instanceof DockhandError && err.code === 'NETWORK') this.markOffline(err);
      throw err;
    }
  }

  markOffline(err: DockhandError): void {
    const s = this.settings();
    if (this.offlineUntil <= this.now()) this.log('warn', `${err.message} (retrying in ${describeDelay(s.retryIntervalMs)})`);
    this.offlineUntil = this.now() + s.retryIntervalMs;
  }

  isOffline(): boolean {
    return this.offlineUntil > this.now();
  }

  /** Is this download event allowed to run now? Returns the reason when it is not. */
  conditionFor(task: TaskRecord): string {
    if (!this.connected()) return 'waiting for dock';
    if (task.kind !== 'download') return '';
    if (this.pausedPackages().includes(task.packageId)) return 'paused by a technician';
    const pkg = this.store.package(task.packageId);
    return pkg ? downloadCondition(pkg, this.target.connection()) : '';
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

  /** Stops the package's task in progress, if any (a cancel). */
  abortTask(packageId: string): void {
    this.taskAborts.get(packageId)?.abort();
  }

  resume(packageId: string): void {
    this.store.setJson('paused', this.pausedPackages().filter((p) => p !== packageId));
  }

  /** Cancels one task's work in progress (pause, cancel), leaving the others running. */
  signalFor(packageId: string): AbortSignal {
    return this.taskAborts.get(packageId)?.signal ?? this.signal;
  }

  /** Makes a waiting task due now, and forgets an offline wait: "retry now". */
  retryNow(task: TaskRecord): void {
    this.offlineUntil = 0;
    this.store.set('outbox_retry_at', '0');
    this.store.updateTask(task.id, { nextRun: this.now(), waitingFor: '' }, this.now());
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
    switch (task.kind) {
      case 'poll':
      case 'instruction':
        return true;
      case 'download': {
        const pkg = this.store.package(task.packageId);
        return pkg ? downloadNeedsTransfer(pkg, task) : false;
      }
      case 'software-inventory':
      case 'machine-inventory':
      case 'file-collection':
        return false;
    }
  }

  /** The next time something may become due (a task's next run, or the end of an offline wait). */
  nextWake(): number | null {
    let next: number | null = null;
    for (const t of this.store.tasks()) {
      if (t.state !== 'queued') continue;
      if (this.conditionFor(t)) continue; // waits for a condition; an outside change (dock, accept) wakes us
      const at = this.needsNetwork(t) ? Math.max(t.nextRun, this.offlineUntil) : t.nextRun;
      next = next === null ? at : Math.min(next, at);
    }
    if (this.store.nextOutbox()) {
      const at = Math.max(this.offlineUntil, this.outboxRetryAt());
      next = next === null ? at : Math.min(next, at);
    }
    return next;
  }

  outboxRetryAt(): number {
    return Number(this.store.get('outbox_retry_at') ?? 0);
  }

  /** Runs this session's due work until nothing more is due now. */
  async runUntilIdle(maxSteps = 10_000): Promise<void> {
    for (let step = 0; step < maxSteps; step += 1) {
      if (!(await this.tick())) return;
    }
    throw new Error(`target ${this.target.id} did ${maxSteps} steps without becoming idle; a task is probably looping`);
  }

  /** Runs at most one task; returns true when it did any work (so the caller ticks again at once). */
  async tick(): Promise<boolean> {
    const now = this.now();
    let worked = false;
    if (!this.isOffline() && this.outboxRetryAt() <= now && this.store.nextOutbox()) {
      worked = (await flushOutbox(this)) || worked;
    }
    for (const task of this.store.tasks()) {
      if (task.state !== 'queued' || task.nextRun > now) continue;
      const reason = this.conditionFor(task);
      if (reason) {
        if (task.waitingFor !== reason) this.store.updateTask(task.id, { waitingFor: reason }, now);
        continue;
      }
      if (this.isOffline() && this.needsNetwork(task)) {
        const waiting = `offline, retrying in ${describeDelay(this.offlineUntil - now)}`;
        if (task.waitingFor !== waiting) this.store.updateTask(task.id, { waitingFor: waiting }, now);
        continue;
      }
      await this.run(task);
      return true;
    }
    return worked;
  }

  private async run(task: TaskRecord): Promise<void> {
    const now = this.now();
    const abort = new AbortController();
    const onStop = () => abort.abort();
    this.signal.addEventListener('abort', onStop, { once: true });
    if (task.packageId) this.taskAborts.set(task.packageId, abort);
    this.store.updateTask(task.id, { state: 'running', waitingFor: '', lastError: '' }, now);
    if (task.kind === 'download') this.store.set('current_package', this.store.package(task.packageId)?.name ?? task.packageId);
    try {
      switch (task.kind) {
        case 'poll': await runPoll(this, task); break;
        case 'instruction': await runInstruction(this, task); break;
        case 'download': await runDownloadEvent(this, task); break;
        case 'software-inventory':
        case 'machine-inventory':
        case 'file-collection': await runReport(this, task); break;
      }
    } catch (err) {
      this.failed(task, err);
    }
    if (task.kind === 'download') this.store.set('current_package', '');
    this.signal.removeEventListener('abort', onStop);
    if (this.taskAborts.get(task.packageId) === abort) this.taskAborts.delete(task.packageId);
    this.emit({ type: 'changed', targetId: this.target.id });
  }

  /** Records a failed attempt; decides between waiting (offline), retrying and giving up. */
  failed(task: TaskRecord, err: unknown): void {
    const now = this.now();
    const s = this.settings();
    const message = describeError(err);
    const current = this.store.task(task.kind, task.packageId);
    if (!current) return; // the task was removed meanwhile (package no longer listed)
    if (err instanceof DockhandError && err.code === 'CANCELLED') {
      // Paused by a technician, or the station is stopping: the checkpoint is kept, nothing is spent.
      const waitingFor = this.signal.aborted ? 'stopped; resumes at next start' : this.conditionFor(current) || 'stopped';
      if (current.state === 'running') this.store.updateTask(current.id, { state: 'queued', waitingFor }, now);
      return;
    }
    if (err instanceof DockhandError && err.code === 'LINK' && !this.connected()) {
      // Undocked mid-task: nothing is lost (the device keeps what it received); it resumes at the next dock.
      this.store.updateTask(current.id, { state: 'queued', nextRun: now, lastError: message, waitingFor: 'waiting for dock' }, now);
      this.log('warn', `${task.kind}${task.packageId ? ` ${task.packageId}` : ''} paused: ${message}`, task.packageId);
      return;
    }
    const network = err instanceof DockhandError && err.code === 'NETWORK';
    if (network && task.kind !== 'poll') {
      // Offline: nothing is dropped and no retry is spent (the seed: queued until the network is back).
      this.store.updateTask(current.id, {
        state: 'queued', nextRun: now + s.retryIntervalMs, lastError: message,
        waitingFor: `offline, retrying in ${describeDelay(s.retryIntervalMs)}`,
      }, now);
      this.problems.push({ at: now, message });
      return;
    }
    if (err instanceof DockhandError && err.code === 'PATH_REFUSED') {
      this.giveUp(current, message); // retrying cannot make a hostile path safe
      return;
    }
    const attempts = current.attempts + 1;
    const decision = afterFailure(attempts, s, now);
    if (!decision.giveUp) {
      this.store.updateTask(current.id, {
        state: 'queued', attempts, nextRun: decision.nextRun, lastError: message,
        waitingFor: `${network ? 'offline' : 'failed'}, retrying in ${describeDelay(s.retryIntervalMs)} (retry ${attempts} of ${s.retryCount})`,
      }, now);
      this.log(network ? 'warn' : 'error', `${task.kind}${task.packageId ? ` ${task.packageId}` : ''}: ${message}`, task.packageId);
      if (network) this.problems.push({ at: now, message });
      return;
    }
    this.giveUp(current, message);
  }

  private giveUp(task: TaskRecord, message: string): void {
    const now = this.now();
    const s = this.settings();
    switch (task.kind) {
      case 'poll':
        // The poll task never expires (spec §4.1): after the retries it waits for its regular interval.
        this.store.updateTask(task.id, {
          state: 'queued', attempts: 0, nextRun: now + s.pollIntervalMs, lastError: message,
          waitingFor: `poll failed ${s.retryCount + 1} times; next poll in ${describeDelay(s.pollIntervalMs)}`,
        }, now);
        this.log('error', `poll failed, giving up until the next poll interval: ${message}`);
        return;
      case 'instruction':
        this.store.updateTask(task.id, { state: 'failed', lastError: message, waitingFor: '' }, now);
        this.store.updatePackage(task.packageId, { state: 'failed', lastResult: message }, now);
        this.log('error', `no instructions for package ${task.packageId} after ${s.retryCount + 1} attempts: ${message}; ` +
          'it is asked for again at the next poll', task.packageId);
        return;
      case 'download':
        giveUpDownload(this, task, message);
        return;
      case 'software-inventory':
      case 'machine-inventory':
      case 'file-collection':
        this.store.updateTask(task.id, { state: 'queued', attempts: 0, lastError: message, nextRun: now + s.pollIntervalMs, waitingFor: '' }, now);
        this.log('error', `${task.kind} report failed: ${message}`);
        return;
    }
  }
}
