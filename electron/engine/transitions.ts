// The engine's state machines, written down as tables (architecture §3.5: states are data, transitions
// are readable). The engine moves a task, a download event's phase or a package only through the three
// functions at the end of this file, which look the move up here; a move that is in no table is a bug and
// throws. Read the tables top to bottom:
//
//   TASK_TRANSITIONS    (task kind, state, event) → next state, what it then waits for, when it runs next,
//                       what becomes of its retries, and how the download event's history run ends
//   EVENT_PHASES        a download event's phases and the status message queued with each (spec §10.1)
//   PACKAGE_TRANSITIONS (package state, event) → next package state (spec §16 pending/success/failed)
import type { DownloadPhase, EventOutcome, EventPhase, PackageRecord, PackageState, TaskKind, TaskRecord, TaskState } from '../../shared/model/client.js';
import { NO_WAIT, type TaskWait } from '../../shared/model/wait.js';
import {
  buildStatus, formatDmTimestamp, STATUS_DOWNLOAD_STARTING, STATUS_DOWNLOAD_SUCCESSFUL, STATUS_DOWNLOAD_UNSUCCESSFUL,
  STATUS_EXECUTION_FAILED, STATUS_EXECUTION_SUCCESSFUL,
} from '../../shared/protocol/index.js';
import type { StatusParameter } from '../../shared/protocol/types.js';
import type { ClientSession } from './session.js';
import type { ClientStore } from '../store/client-store.js';
import { reportSettings, type ReportKind } from './client-settings.js';
import { nextOccurrence } from './schedule.js';

// ---- tasks ----------------------------------------------------------------------------------------

export type TaskEvent =
  | 'start' //        due, its conditions hold and its lane is free: it runs
  | 'hold' //         due, but a condition does not hold (dock, connection, acceptance, a technician's pause)
  | 'release' //      an outside event may have lifted its condition: look again when it comes due
  | 'offline' //      due while the server is known to be unreachable: waits for it, spends nothing
  | 'kit answered' // it could not reach the server and the field kit answered in its place (docs/field-kit.md)
  | 'unreachable' //  it ran and the server could not be reached (refused, reset, DNS, unreachable, connect timeout)
  | 'fail' //         it ran and failed for a reason a retry may cure: an untrusted certificate, an HTTP error
  //                  status, a malformed answer, a size or SHA-256 mismatch (spends one of FailureRetryCount)
  | 'no-room' //      it ran and the disk had no room for the download: waits for room, spends nothing
  | 'give-up' //      the retries are spent, or retrying cannot help (a refused path)
  | 'succeed' //      it ran to its end
  | 'pause' //        a technician paused it while it ran (the checkpoint is kept)
  | 'stop' //         the station stopped while it ran
  | 'undock' //       the device left while it ran
  | 'recover' //      found running at start-up: a crash cut it off (applied in SQL, ClientStore.recoverInterruptedTasks)
  | 'cancel' //       a technician cancelled it
  | 'retry-now'; //   a technician asked for it now

/** A task kind as the table needs it: recurrence and report intervals change what "succeed" means. */
type TableKind = TaskKind | 'report' | 'recurring download' | 'one-shot report' | '*';
/**
 * What the task waits for afterwards. `condition`: the one the scheduler found; `server or schedule`: the
 * server when the last attempt could not reach it, else just the schedule.
 */
type WaitAfter = 'none' | 'condition' | 'server' | 'retry' | 'storage' | 'schedule' | 'dock' | 'paused' | 'stopped' | 'server or schedule';
/** When it runs next. */
type RunAt = 'unchanged' | 'now' | 'offline end' | 'retry interval' | 'poll interval' | 'report interval' | 'next occurrence';
/** `spend`: one retry is used; when more than FailureRetryCount are used, the row for `give-up` applies. */
type Attempts = 'keep' | 'spend' | 'reset';

interface TaskRow {
  kind: TableKind;
  from: TaskState;
  on: TaskEvent;
  to: TaskState | 'deleted';
  wait: WaitAfter;
  at: RunAt;
  attempts: Attempts;
  /**
   * How the download event's history run ends with this move (download kinds only). A command that failed
   * still "succeeds" as a task (the event ran to its end) while its run ends failed in `command`: the
   * event says so (TransitionContext.run).
   */
  run?: EventOutcome;
  /** `close event`: queue 11032 with the reason and fail the package; `fail package`: no instructions came. */
  effect?: 'close event' | 'fail package';
}

const row = (kind: TableKind, from: TaskState, on: TaskEvent, to: TaskState | 'deleted', wait: WaitAfter, at: RunAt,
  attempts: Attempts, extra: Pick<TaskRow, 'run' | 'effect'> = {}): TaskRow => ({ kind, from, on, to, wait, at, attempts, ...extra });

// Lookup goes from the most specific kind to '*': 'recurring download' → 'download' → '*';
// 'one-shot report' → 'report' → '*'; the three report kinds → 'report' → '*'.
export const TASK_TRANSITIONS: readonly TaskRow[] = [
  //  kind                   from        event           to          waits for              runs next           retries
  // Any task, picked by the scheduler or moved by the world around it.
  row('*',                   'queued',   'start',        'running',  'none',                'unchanged',        'keep'),
  row('*',                   'queued',   'hold',         'queued',   'condition',           'unchanged',        'keep'),
  row('*',                   'queued',   'release',      'queued',   'none',                'unchanged',        'keep'),
  row('*',                   'queued',   'offline',      'queued',   'server',              'offline end',      'keep'),
  row('*',                   'queued',   'retry-now',    'queued',   'none',                'now',              'keep'),
  row('*',                   'queued',   'cancel',       'failed',   'none',                'unchanged',        'keep'),
  row('*',                   'running',  'cancel',       'failed',   'none',                'unchanged',        'keep', { run: 'interrupted' }),
  row('*',                   'running',  'pause',        'queued',   'paused',              'unchanged',        'keep', { run: 'interrupted' }),
  row('*',                   'running',  'stop',         'queued',   'stopped',             'unchanged',        'keep', { run: 'interrupted' }),
  row('*',                   'running',  'undock',       'queued',   'dock',                'now',              'keep', { run: 'interrupted' }),
  row('*',                   'running',  'recover',      'queued',   'none',                'now',              'keep', { run: 'interrupted' }),
  // Offline is not a failure (the seed: queued until the network is back) — except for the poll, which
  // retries on connection failures too (spec §4.1). A failure a retry may cure spends one.
  row('*',                   'running',  'unreachable',  'queued',   'server',              'retry interval',   'keep', { run: 'interrupted' }),
  row('*',                   'running',  'fail',         'queued',   'retry',               'retry interval',   'spend', { run: 'interrupted' }),
  // A full disk is not the package's fault either: the download waits for room (the station releases it
  // as soon as it sees room, electron/station/storage-guard.ts), keeping its bytes and its retries.
  row('*',                   'running',  'no-room',      'queued',   'storage',             'retry interval',   'keep', { run: 'interrupted' }),

  // The poll never expires (spec §4.1): after its retries it waits for its regular interval, forever.
  row('poll',                'running',  'succeed',      'queued',   'schedule',            'poll interval',    'reset'),
  row('poll',                'running',  'unreachable',  'queued',   'server',              'retry interval',   'spend'),
  row('poll',                'running',  'give-up',      'queued',   'server or schedule',  'poll interval',    'reset'),
  // A device that never reached the server, provisioned from the field kit instead: the poll still owes the
  // server its first contact, so it waits for the server (woken the moment it answers), spending nothing.
  row('poll',                'running',  'kit answered', 'queued',   'server',              'retry interval',   'keep'),

  // An instruction request ends in a scheduled download event (written with it, instruction.ts); given
  // up, its package fails and is asked for again at the next poll (spec A11).
  row('instruction',         'running',  'succeed',      'deleted',  'none',                'unchanged',        'keep'),
  row('instruction',         'running',  'give-up',      'failed',   'none',                'unchanged',        'keep', { effect: 'fail package' }),

  // A download event (spec §10): a one-shot one is kept as done or failed for the status view; a
  // recurring one waits for its next occurrence on the StartTime grid either way (spec §15.2).
  row('download',            'running',  'succeed',      'done',     'none',                'unchanged',        'reset', { run: 'success' }),
  row('download',            'running',  'give-up',      'failed',   'none',                'unchanged',        'keep', { run: 'failed', effect: 'close event' }),
  row('recurring download',  'running',  'succeed',      'queued',   'schedule',            'next occurrence',  'reset', { run: 'success' }),
  row('recurring download',  'running',  'give-up',      'queued',   'schedule',            'next occurrence',  'reset', { run: 'failed', effect: 'close event' }),

  // Reports: every Interval the server asked for, or once after the poll when it gave none (spec §5.2);
  // a report that cannot be built is tried again after a poll interval.
  row('report',              'running',  'succeed',      'queued',   'schedule',            'report interval',  'reset'),
  row('one-shot report',     'running',  'succeed',      'deleted',  'none',                'unchanged',        'keep'),
  row('report',              'running',  'give-up',      'queued',   'schedule',            'poll interval',    'reset'),
];

const TASK_INDEX = new Map(TASK_TRANSITIONS.map((r) => [`${r.kind}|${r.from}|${r.on}`, r]));
/** Events some kind moves differently on; for the others only the '*' rows apply (no package lookup needed). */
const KIND_SPECIFIC = new Set(TASK_TRANSITIONS.filter((r) => r.kind !== '*').map((r) => r.on));

function tableKinds(session: ClientSession, task: TaskRecord, on: TaskEvent): TableKind[] {
  if (!KIND_SPECIFIC.has(on)) return ['*'];
  switch (task.kind) {
    case 'download':
      return session.store.package(task.packageId)?.recurrenceMs ? ['recurring download', 'download', '*'] : ['download', '*'];
    case 'software-inventory':
    case 'machine-inventory':
    case 'file-collection':
      return reportSettings(session.store, task.kind as ReportKind)?.Interval ? ['report', '*'] : ['one-shot report', 'report', '*'];
    default:
      return [task.kind, '*'];
  }
}

function lookup(session: ClientSession, task: TaskRecord, on: TaskEvent): TaskRow {
  for (const kind of tableKinds(session, task, on)) {
    const r = TASK_INDEX.get(`${kind}|${task.state}|${on}`);
    if (r) return r;
  }
  throw new Error(`no transition for a ${task.kind} task that is ${task.state} on '${on}' (electron/engine/transitions.ts)`);
}

export interface TransitionContext {
  /** The failure or the reason, in words (kept as the task's last error). */
  reason?: string;
  /** For `hold`: the condition the scheduler found. */
  condition?: TaskWait;
  /** For `unreachable`/`offline`: what the server wait may say besides "cannot be reached". */
  detail?: string;
  /** How the history run ends, when not as the row says (a command that failed; a verified SHA-256). */
  run?: { outcome: EventOutcome; failedPhase?: EventPhase | null; exitCode?: number | null; sha256?: string | null };
}

export interface Moved {
  /** The task afterwards; null when the move deleted it. */
  task: TaskRecord | null;
  /** The event whose row applied: `give-up` when a spent retry was the last one. */
  on: TaskEvent;
}

/**
 * Moves a task by its table row, in one transaction: the task's UPDATE (or DELETE), the row's effect,
 * and the end of the download event's history run.
 */
export function taskTransition(session: ClientSession, task: TaskRecord, on: TaskEvent, ctx: TransitionContext = {}): Moved {
  let r = lookup(session, task, on);
  const { store } = session;
  const now = session.now();
  let attempts = r.attempts === 'spend' ? task.attempts + 1 : r.attempts === 'reset' ? 0 : task.attempts;
  // Settings are read only by the moves that need them (a hold must stay cheap: the scheduler makes many).
  const retryCount = r.attempts === 'spend' || r.wait === 'retry' ? session.settings().retryCount : 0;
  if (r.attempts === 'spend' && attempts > retryCount) {
    r = lookup(session, task, 'give-up');
    attempts = r.attempts === 'reset' ? 0 : attempts;
  }
  const nextRun = runAt(session, task, r.at, now);
  const wait = waitAfter(r.wait, on, nextRun, attempts, retryCount, ctx);
  // A command that failed is a task that succeeded with a reason: the reason stays as its last error.
  const lastError = r.on === 'succeed' ? (ctx.reason ?? '') : (ctx.reason ?? task.lastError);
  const run = session.runs.get(task.packageId);
  let phase = task.phase;
  store.transaction(() => {
    if (r.effect === 'close event') closeEvent(session, task, lastError);
    if (r.effect === 'fail package') packageTransition(store, task.packageId, 'instructions gave up', now, lastError);
    if (run && r.run) {
      const end = ctx.run ?? { outcome: r.run, failedPhase: r.run === 'success' ? null : run.phase };
      store.endRun(run.id, { ...end, reason: end.outcome === 'success' ? '' : lastError }, now);
      session.runs.delete(task.packageId);
    }
    // The next occurrence of a recurring event is a new event: its phases start again.
    phase = r.at === 'next occurrence' ? '' : task.phase;
    if (r.to === 'deleted') store.deleteTask(task.kind, task.packageId);
    else store.updateTask(task.id, { state: r.to, nextRun, attempts, wait, lastError, phase }, now);
  });
  if (r.effect === 'close event') session.kickOutbox();
  return { task: r.to === 'deleted' ? null : { ...task, state: r.to, nextRun, attempts, wait, lastError, phase }, on: r.on };
}

/**
 * The same move for many queued tasks at once, for the moves that only change what a task waits for and
 * when it runs (`hold`, `offline`, `release`): one UPDATE per distinct change, not one per task.
 */
export function taskTransitionAll(session: ClientSession, moves: ReadonlyArray<{ task: TaskRecord; on: TaskEvent; ctx?: TransitionContext }>): void {
  const now = session.now();
  const groups = new Map<string, { fields: { nextRun?: number; wait: TaskWait }; ids: number[] }>();
  for (const { task, on, ctx = {} } of moves) {
    const r = lookup(session, task, on);
    if (r.from !== 'queued' || r.to !== 'queued' || r.attempts !== 'keep' || r.effect || r.run) {
      throw new Error(`'${on}' is not a move that can be made for many tasks at once (electron/engine/transitions.ts)`);
    }
    const nextRun = runAt(session, task, r.at, now);
    const fields = { wait: waitAfter(r.wait, on, nextRun, task.attempts, 0, ctx), ...(nextRun !== task.nextRun ? { nextRun } : {}) };
    const key = JSON.stringify(fields);
    const group = groups.get(key) ?? { fields, ids: [] };
    group.ids.push(task.id);
    groups.set(key, group);
  }
  session.store.transaction(() => {
    for (const { fields, ids } of groups.values()) session.store.updateTasks(ids, fields, now);
  });
}

function runAt(session: ClientSession, task: TaskRecord, at: RunAt, now: number): number {
  const s = session.settings();
  switch (at) {
    case 'unchanged': return task.nextRun;
    case 'now': return now;
    case 'offline end': return Math.max(now, session.offlineUntil);
    case 'retry interval': return now + s.retryIntervalMs;
    case 'poll interval': return now + s.pollIntervalMs;
    case 'report interval': return now + (reportSettings(session.store, task.kind as ReportKind)?.Interval ?? s.pollIntervalMs);
    case 'next occurrence': {
      const pkg = session.store.package(task.packageId);
      return pkg?.recurrenceMs ? nextOccurrence(pkg.startAt ?? now, pkg.recurrenceMs, now) : now;
    }
  }
}

function waitAfter(w: WaitAfter, on: TaskEvent, until: number, attempt: number, of: number, ctx: TransitionContext): TaskWait {
  const server: TaskWait = { kind: 'server', until, ...(ctx.detail ? { detail: ctx.detail } : {}) };
  switch (w) {
    case 'none': return NO_WAIT;
    case 'server or schedule': return on === 'unreachable' ? server : { kind: 'schedule', until };
    case 'condition': return ctx.condition ?? NO_WAIT;
    case 'server': return server;
    case 'retry': return { kind: 'retry', until, attempt, of, reason: ctx.reason ?? '' };
    case 'storage': return { kind: 'storage', until, detail: ctx.reason ?? '' };
    case 'schedule': return { kind: 'schedule', until };
    case 'dock': return { kind: 'dock' };
    case 'paused': return { kind: 'technician', reason: 'paused' };
    case 'stopped': return { kind: 'technician', reason: 'stopped' };
  }
}

// ---- a download event's phases --------------------------------------------------------------------

export type PhaseEvent = 'transfer starts' | 'transferred' | 'gave up' | 'command succeeded' | 'command failed';

interface PhaseRow {
  from: ReadonlyArray<DownloadPhase | ''>;
  on: PhaseEvent;
  to: DownloadPhase;
  status: number;
}

// The phase and its status message are written in one transaction: a crash never sends a message twice
// or skips one. '' = nothing queued yet; a package without a transfer (SourceFiles=No, an Execute Only
// recurrence) goes from '' straight to the command's message.
export const EVENT_PHASES: readonly PhaseRow[] = [
  //  phase before            event                phase after    status message queued with it
  { from: [''], on: 'transfer starts', to: 'started', status: STATUS_DOWNLOAD_STARTING }, //   11030
  { from: ['started'], on: 'transferred', to: 'downloaded', status: STATUS_DOWNLOAD_SUCCESSFUL }, // 11031
  { from: ['', 'started'], on: 'gave up', to: 'executed', status: STATUS_DOWNLOAD_UNSUCCESSFUL }, // 11032 + Reason
  { from: ['downloaded', ''], on: 'command succeeded', to: 'executed', status: STATUS_EXECUTION_SUCCESSFUL }, // 11035
  { from: ['downloaded', ''], on: 'command failed', to: 'executed', status: STATUS_EXECUTION_FAILED }, // 20035 + ExitCode, Reason
];

/** Queues the phase's status message and records the phase, atomically; returns the message's number. */
export function advancePhase(session: ClientSession, task: TaskRecord, on: PhaseEvent, params: StatusParameter[] = []): number {
  const r = EVENT_PHASES.find((p) => p.on === on && p.from.includes(task.phase));
  if (!r) throw new Error(`no phase change for a download event at '${task.phase}' on '${on}' (electron/engine/transitions.ts)`);
  const { store } = session;
  const now = session.now();
  const body = buildStatus({
    StatusMessages: [{ packageID: task.packageId, messageID: r.status, timestamp: formatDmTimestamp(new Date(now)), Parameters: params }],
  });
  store.transaction(() => {
    store.enqueue({
      action: 'Status', reportType: null, fileName: null, contentType: 'text/xml; charset=utf-8', body: Buffer.from(body, 'utf8'),
      summary: `status ${r.status} for ${task.packageId}`,
    }, now);
    store.updateTask(task.id, { phase: r.to }, now);
  });
  task.phase = r.to;
  // Persist first, then act: inside a larger transaction the caller sends it once that has committed.
  if (!store.db.inTransaction) session.kickOutbox();
  return r.status;
}

/** The event ends unsuccessfully: 11032 with the reason (when its end was not reported yet), package failed. */
function closeEvent(session: ClientSession, task: TaskRecord, reason: string): void {
  if (task.phase === '' || task.phase === 'started') advancePhase(session, task, 'gave up', [{ name: 'Reason', value: reason }]);
  packageTransition(session.store, task.packageId, 'download gave up', session.now(), `download failed: ${reason}`);
}

// ---- packages -------------------------------------------------------------------------------------

export type PackageEvent =
  | 'required instructions' | 'optional instructions' | 'accepted optional instructions' | 'accept'
  | 'event succeeded' | 'command failed' | 'download gave up' | 'instructions gave up' | 'server replaces kit';

// Listing and unlisting are reconcile's (poll.ts): a listed package with no record, or a failed one, is
// `needs-instructions` again (spec A11); an unlisted one is removed with its file.
export const PACKAGE_TRANSITIONS: ReadonlyArray<{ from: readonly PackageState[]; on: PackageEvent; to: PackageState | 'unchanged' }> = [
  //  package state before                                      event                            after
  { from: ['needs-instructions'], on: 'required instructions', to: 'scheduled' },
  { from: ['needs-instructions'], on: 'optional instructions', to: 'awaiting-acceptance' },
  { from: ['needs-instructions'], on: 'accepted optional instructions', to: 'scheduled' },
  { from: ['awaiting-acceptance'], on: 'accept', to: 'scheduled' },
  // Accepted early (before its instructions came) or again: remembered in `accepted`, nothing else moves.
  { from: ['needs-instructions', 'scheduled', 'installed', 'failed'], on: 'accept', to: 'unchanged' },
  { from: ['scheduled', 'installed'], on: 'event succeeded', to: 'installed' },
  // The download succeeded (spec §16 PACKAGE_DL_SUCCESS); the failed command is in the history and in
  // 20035, and the package is not asked for again.
  { from: ['scheduled', 'installed'], on: 'command failed', to: 'installed' },
  { from: ['scheduled', 'installed', 'failed'], on: 'download gave up', to: 'failed' },
  { from: ['needs-instructions'], on: 'instructions gave up', to: 'failed' },
  // Instructions the field kit gave while the server could not be reached are asked for again once it
  // answers, for packages whose event has not started: the server's answer wins (docs/field-kit.md).
  { from: ['scheduled', 'awaiting-acceptance'], on: 'server replaces kit', to: 'needs-instructions' },
];

/** Moves a package by its table row; `result` (words) becomes its last result when given. */
export function packageTransition(store: ClientStore, packageId: string, on: PackageEvent, now: number, result?: string,
  fields: Partial<Pick<PackageRecord, 'accepted' | 'runs' | 'downloaded'>> = {}): PackageRecord | null {
  const pkg = store.package(packageId);
  if (!pkg) return null;
  const r = PACKAGE_TRANSITIONS.find((p) => p.on === on && p.from.includes(pkg.state));
  if (!r) throw new Error(`no transition for a package that is ${pkg.state} on '${on}' (electron/engine/transitions.ts)`);
  const state = r.to === 'unchanged' ? pkg.state : r.to;
  store.updatePackage(packageId, { ...fields, state, ...(result !== undefined ? { lastResult: result } : {}) }, now);
  return { ...pkg, ...fields, state, lastResult: result ?? pkg.lastResult };
}
