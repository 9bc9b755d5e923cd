// A download event and its four phases (spec §10.1, seed step 4):
//
//   1. package location request → the current URL (asked again on every attempt: a new location
//      restarts the transfer from zero, spec §14 "restart from the new server"); while the server cannot
//      be reached, a package already in the station cache with the same ID, size and hash skips it
//      (docs/field-kit.md)
//   2. status 11030 "starting package download", delivered at once — before the transfer starts
//   3. resumable download into the station's cache, verified (size, SHA-256 when published), saved into
//      LocalDestination (or pushed to the device) → status 11031; or, once the retries are spent, 11032
//   4. the post-install command, when the station's policy allows it → 11035, or 20035 (Dockhand's code,
//      decision A9) with ExitCode and Reason parameters when it fails, is refused or was interrupted — run
//      at most once (command-run.ts): after a crash, a pause or an undock the recorded run is resumed
//
// The phases and their status messages are EVENT_PHASES in transitions.ts: a message and its phase are
// written in one transaction, so a crash never sends a message twice or skips one. Every run of an event
// is a row of the download history (started here, ended by the task's transition). A recurring package
// goes back to `queued` at its next occurrence; `Execute Only` recurrences (and packages with
// SourceFiles=No) only run the command and report 11035 (decision in docs/protocol-decisions.md).
import type { EventPhase, PackageRecord, TaskRecord } from '../../shared/model/client.js';
import { DockhandError, describeError } from '../../shared/model/errors.js';
import { NO_WAIT, type TaskWait } from '../../shared/model/wait.js';
import {
  buildPackageLocationRequest, flagsAllow, FLAG_CRADLED, FLAG_HIGH_BANDWIDTH, FLAG_LOW_BANDWIDTH,
  type ConnectionState,
} from '../../shared/protocol/index.js';
import type { StatusParameter } from '../../shared/protocol/types.js';
import type { ClientSession } from './session.js';
import { advancePhase, packageTransition, taskTransition, type PhaseEvent } from './transitions.js';
import { CommandJournal } from './command-journal.js';
import { runCommandOnce } from './command-run.js';
import { logIgnored } from './reception.js';
import { parseOffThread } from '../protocol/parse-off-thread.js';
import { locationOrCache } from './kit/kit-answers.js';

/** What a due download event waits for before it may run; NO_WAIT when it may run now. */
export function downloadCondition(pkg: PackageRecord, conn: ConnectionState): TaskWait {
  if (pkg.state === 'awaiting-acceptance') return { kind: 'acceptance' };
  if (pkg.state !== 'scheduled' && pkg.state !== 'installed') return NO_WAIT;
  if (flagsAllow(pkg.flags ?? undefined, conn)) return NO_WAIT;
  const f = pkg.flags ?? 0;
  if ((f & FLAG_CRADLED) && !(f & (FLAG_LOW_BANDWIDTH | FLAG_HIGH_BANDWIDTH))) return { kind: 'dock', cradledOnly: true };
  return { kind: 'connection', flags: f };
}

const PHASES = ['started', 'downloaded', 'executed'] as const;
const reached = (phase: TaskRecord['phase'], p: (typeof PHASES)[number]) => phase !== '' && PHASES.indexOf(phase) >= PHASES.indexOf(p);

/** Where the event is now, for the history run (which phase a failure or a stop happened in). */
function enter(session: ClientSession, pkg: PackageRecord, phase: EventPhase): void {
  const run = session.runs.get(pkg.id);
  if (run) run.phase = phase;
}

async function locate(session: ClientSession, pkg: PackageRecord): Promise<string> {
  const req = buildPackageLocationRequest({
    PackageID: pkg.id,
    ClientLocation: { IPAddresses: await session.target.ipAddresses() },
  });
  const res = await session.post('LocationRequest', req);
  const location = await parseOffThread('PackageLocation', res.body);
  logIgnored(session, 'PackageLocation', location.ignored, pkg.id);
  const http = location.Locations.find((l) => l.URL && /^https?:\/\//i.test(l.URL));
  if (!http?.URL) {
    const smb = location.Locations.find((l) => l.SMBPath)?.SMBPath;
    throw new DockhandError('PROTOCOL', `the server offers package ${pkg.id} ${smb ? `only over SMB (${smb})` : 'at no HTTP location'}; ` +
      'the station downloads over HTTP(S) only — add an HTTP location on the server');
  }
  return http.URL;
}

/** The package's file name: the last segment of its URL, as the server added it. */
export function fileNameFromUrl(url: string): string {
  const segment = new URL(url).pathname.split('/').filter(Boolean).pop() ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Phase 3: the bytes into the station's cache (shared, resumable, verified), then into LocalDestination. */
async function fetchAndSave(session: ClientSession, task: TaskRecord, pkg: PackageRecord, url: string, fileName: string): Promise<string> {
  const { store } = session;
  const ended = (ok: boolean, leg: 'download' | 'push') => session.emit({ type: 'transfer-end', leg, targetId: session.target.id, packageId: pkg.id, ok });
  enter(session, pkg, 'download');
  const cached = await session.opts.cache.fetch({
    packageId: pkg.id, url, fileName, userId: session.target.id, signal: session.signalFor(pkg.id), ...(pkg.name ? { name: pkg.name } : {}),
    ...(pkg.packageSize !== null ? { expectedSize: pkg.packageSize } : {}), ...(pkg.sha256 ? { sha256: pkg.sha256 } : {}),
    onProgress: (bytesDone, total, resumedFrom) => session.emit({
      type: 'progress', leg: 'download', targetId: session.target.id, packageId: pkg.id, name: pkg.name ?? pkg.id, bytesDone, total, resumedFrom,
    }),
  }).catch((err: unknown) => {
    ended(false, 'download');
    if (err instanceof DockhandError && (err.code === 'SIZE_MISMATCH' || err.code === 'HASH_MISMATCH')) enter(session, pkg, 'verify');
    throw err;
  });
  session.opts.kit?.fetched(pkg);
  if (!cached.reused) {
    ended(true, 'download');
    session.log('info', `downloaded ${pkg.name} (${cached.size} bytes, sha256 ${cached.sha256.slice(0, 12)}…)` +
      (cached.resumedFrom > 0 ? `, resumed from byte ${cached.resumedFrom}` : '') +
      (cached.restartedFromZero ? ', restarted from zero' : ''), pkg.id);
  }
  const pushes = session.target.kind === 'tethered';
  enter(session, pkg, pushes ? 'push' : 'install');
  const saved = await session.target.install({ ...cached, packageId: pkg.id }, pkg.localDestination ?? '\\', fileName, session.signalFor(pkg.id))
    .catch((err: unknown) => {
      if (pushes) ended(false, 'push');
      throw err;
    });
  if (pushes) ended(true, 'push');
  store.updatePackage(pkg.id, { downloaded: true, savedPath: saved, fileName }, session.now());
  advancePhase(session, task, 'transferred');
  return cached.sha256;
}

/** How the command ended: its status message, and what the task, the package and the history run keep. */
interface Executed {
  phase: PhaseEvent;
  params: StatusParameter[];
  /** Closes the command's journal record, in the transaction that queues its status message. */
  settle?: () => void;
  /** The package's last result, in words. */
  result: string;
  ok: boolean;
  exitCode: number | null;
}

/** Phase 4: the post-install command, if any, within the station's command policy. */
async function execute(session: ClientSession, pkg: PackageRecord): Promise<Executed> {
  enter(session, pkg, 'command');
  if (!pkg.commandLine) return { phase: 'command succeeded', params: [], result: 'installed (no command line)', ok: true, exitCode: null };
  if (!session.opts.allowCommands) {
    const reason = 'commands are not allowed on this station (start it with --allow-commands)';
    session.log('warn', `did not run '${pkg.commandLine}' for ${pkg.name}: ${reason}`, pkg.id);
    return { phase: 'command failed', params: [{ name: 'Reason', value: reason }], result: `command refused: ${reason}`, ok: false, exitCode: null };
  }
  const journal = new CommandJournal(session.store);
  try {
    const result = await runCommandOnce(session, pkg, pkg.commandLine);
    const settle = () => journal.settle(result.run.runId);
    if ('interrupted' in result) {
      session.log('error', `'${pkg.commandLine}' for ${pkg.name} was interrupted: ${result.interrupted}`, pkg.id);
      return {
        phase: 'command failed', params: [{ name: 'ExitCode', value: '' }, { name: 'Reason', value: `interrupted: ${result.interrupted}` }],
        settle, result: `command interrupted: ${result.interrupted}`, ok: false, exitCode: null,
      };
    }
    const out = result.outcome;
    const tail = out.output.length > 2000 ? `…${out.output.slice(-2000)}` : out.output;
    if (out.exitCode === 0) {
      session.log('info', `ran '${pkg.commandLine}': exit code 0${tail ? `; output: ${tail.trim()}` : ''}`, pkg.id);
      return { phase: 'command succeeded', params: [{ name: 'ExitCode', value: '0' }], settle, result: 'command exit code 0', ok: true, exitCode: 0 };
    }
    const what = out.exitCode === null ? `was stopped by ${out.signal ?? 'a signal'}` : `exited with code ${out.exitCode}`;
    session.log('error', `'${pkg.commandLine}' for ${pkg.name} ${what}${tail ? `; output: ${tail.trim()}` : ''}`, pkg.id);
    return {
      phase: 'command failed', params: [{ name: 'ExitCode', value: String(out.exitCode ?? -1) }, { name: 'Reason', value: `the command ${what}` }],
      settle, result: `command ${what}`, ok: false, exitCode: out.exitCode,
    };
  } catch (err) {
    if (err instanceof DockhandError && err.code === 'CANCELLED') throw err;
    // Undocked mid-command: the run stays open and the device is asked how it ended at the next dock.
    if (err instanceof DockhandError && err.code === 'LINK' && !session.connected()) throw err;
    const reason = describeError(err);
    const run = journal.pending(pkg.id);
    session.log('error', `could not run '${pkg.commandLine}' for ${pkg.name}: ${reason}`, pkg.id);
    return {
      phase: 'command failed', params: [{ name: 'Reason', value: reason }], settle: () => run && journal.settle(run.runId),
      result: `command failed: ${reason}`, ok: false, exitCode: null,
    };
  }
}

/** Does this event still have phases 1–3 (location, 11030, transfer) ahead of it? */
export function downloadNeedsTransfer(pkg: PackageRecord, task: TaskRecord): boolean {
  const needsDownload = pkg.sourceFiles && !(pkg.behavior === 'Execute Only' && pkg.downloaded);
  return needsDownload && !reached(task.phase, 'downloaded');
}

export async function runDownloadEvent(session: ClientSession, task: TaskRecord): Promise<void> {
  const pkg = session.store.package(task.packageId);
  if (!pkg) {
    session.store.deleteTask('download', task.packageId);
    return;
  }
  const runId = session.store.startRun(pkg.id, pkg.name, pkg.sha256, session.now());
  session.runs.set(pkg.id, { id: runId, phase: 'location' });
  let sha256: string | null = null;
  if (downloadNeedsTransfer(pkg, task)) {
    // While the server cannot be reached, a package in the station cache (same ID, size and hash) needs no location.
    const { url, cached } = await locationOrCache(session, pkg, () => locate(session, pkg));
    const fileName = cached?.fileName ?? fileNameFromUrl(url);
    if (!reached(task.phase, 'started')) {
      advancePhase(session, task, 'transfer starts');
      // 11030 "indicates the beginning of the download event" (the seed): it reaches the server first.
      await session.outbox.flush();
    }
    await session.target.checkDestination(pkg.localDestination ?? '\\', fileName);
    sha256 = await fetchAndSave(session, task, pkg, url, fileName);
  }
  // The closing message was queued with the task's end in one transaction (finish): a task still at
  // `executed` can only come from a database written by an earlier version; it just ends.
  const done: Executed | null = reached(task.phase, 'executed') ? null : await execute(session, pkg);
  finish(session, task, pkg, done, sha256);
}

/**
 * The event's end, in one transaction: the command's status message (11035 or 20035), the package's
 * result, the task's next state, and the history run's outcome. Then the message goes out.
 */
function finish(session: ClientSession, task: TaskRecord, pkg: PackageRecord, done: Executed | null, sha256: string | null): void {
  const now = session.now();
  const ok = done?.ok ?? true;
  const result = done?.result ?? pkg.lastResult ?? 'done';
  session.store.transaction(() => {
    if (done) {
      advancePhase(session, task, done.phase, done.params);
      done.settle?.();
    }
    packageTransition(session.store, pkg.id, ok ? 'event succeeded' : 'command failed', now, result, { runs: pkg.runs + 1 });
    taskTransition(session, task, 'succeed', {
      ...(ok ? {} : { reason: result }),
      run: ok ? { outcome: 'success', exitCode: done?.exitCode ?? null, sha256 }
        : { outcome: 'failed', failedPhase: 'command', exitCode: done?.exitCode ?? null, sha256 },
    });
  });
  session.kickOutbox();
  // "Download and Execute": the next occurrence downloads afresh; the saved file stays until then.
  if (pkg.recurrenceMs && pkg.behavior !== 'Execute Only') {
    session.opts.cache.invalidate(pkg.id).catch((err: unknown) =>
      session.log('warn', `could not clear the cached copy of ${pkg.name ?? pkg.id} before its next occurrence: ${describeError(err)}`, pkg.id));
  }
  if (!ok) session.problems.push({ at: now, message: `${pkg.name ?? pkg.id}: ${result}` });
}
