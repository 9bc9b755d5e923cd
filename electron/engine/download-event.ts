// A download event and its four phases (spec §10.1, seed step 4):
//
//   1. package location request → the current URL (asked again on every attempt: a new location
//      restarts the transfer from zero, spec §14 "restart from the new server")
//   2. status 11030 "starting package download"
//   3. resumable download into the station's cache, verified (size, SHA-256 when published), saved into
//      LocalDestination → status 11031; or, once the retries are spent, 11032
//   4. the post-install command, when the station's policy allows it → 11035, or 20035 (Dockhand's code,
//      decision A9) with ExitCode and Reason parameters when it fails, is refused or was interrupted — run
//      at most once (command-run.ts): after a crash, a pause or an undock the recorded run is resumed
//
// The task's `phase` column records the last phase whose status message is queued; status messages and the
// phase change are written in one transaction, so a crash never sends a message twice or skips one. A
// recurring package goes back to `queued` at its next occurrence; `Execute Only` recurrences (and packages
// with SourceFiles=No) only run the command and report 11035 (decision in docs/protocol-decisions.md).
import type { PackageRecord, TaskRecord, DownloadPhase } from '../../shared/model/client.js';
import { DockhandError, describeError } from '../../shared/model/errors.js';
import {
  buildPackageLocationRequest, buildStatus, describeFlags, flagsAllow, formatDmTimestamp, parsePackageLocation,
  FLAG_CRADLED, FLAG_HIGH_BANDWIDTH, FLAG_LOW_BANDWIDTH, type ConnectionState,
  STATUS_DOWNLOAD_STARTING, STATUS_DOWNLOAD_SUCCESSFUL, STATUS_DOWNLOAD_UNSUCCESSFUL, STATUS_EXECUTION_FAILED,
  STATUS_EXECUTION_SUCCESSFUL,
} from '../../shared/protocol/index.js';
import type { StatusParameter } from '../../shared/protocol/types.js';
import type { ClientSession } from './session.js';
import { nextOccurrence } from './schedule.js';
import { CommandJournal } from './command-journal.js';
import { runCommandOnce } from './command-run.js';

/** Why a due download event may not run now, in a technician's words; '' when it may. */
export function downloadCondition(pkg: PackageRecord, conn: ConnectionState): string {
  if (pkg.state === 'awaiting-acceptance') return 'waiting for acceptance (optional package)';
  if (pkg.state !== 'scheduled' && pkg.state !== 'installed') return '';
  if (flagsAllow(pkg.flags ?? undefined, conn)) return '';
  const f = pkg.flags ?? 0;
  if ((f & FLAG_CRADLED) && !(f & (FLAG_LOW_BANDWIDTH | FLAG_HIGH_BANDWIDTH))) return 'waiting for dock (cradled-only package)';
  if (conn.bandwidth === 'none' && !conn.cradled) return 'waiting for a connection';
  return `waiting for a permitted connection (${describeFlags(f)})`;
}

const PHASES: DownloadPhase[] = ['located', 'started', 'downloaded', 'executed'];
const reached = (phase: TaskRecord['phase'], p: DownloadPhase) => phase !== '' && PHASES.indexOf(phase) >= PHASES.indexOf(p);

/** Queues one status message and records the phase it completes (and `also`, e.g. a settled command run), atomically. */
function queueStatus(session: ClientSession, task: TaskRecord, messageID: number, phase: DownloadPhase, params: StatusParameter[] = [],
  also?: () => void): void {
  const { store } = session;
  const now = session.now();
  const body = buildStatus({
    StatusMessages: [{ packageID: task.packageId, messageID, timestamp: formatDmTimestamp(new Date(now)), Parameters: params }],
  });
  store.db.transaction(() => {
    store.enqueue({
      action: 'Status', reportType: null, fileName: null, contentType: 'text/xml; charset=utf-8', body: Buffer.from(body, 'utf8'),
      summary: `status ${messageID} for ${task.packageId}`,
    }, now);
    store.updateTask(task.id, { phase }, now);
    also?.();
  }).immediate();
  task.phase = phase;
}

async function locate(session: ClientSession, pkg: PackageRecord): Promise<string> {
  const req = buildPackageLocationRequest({
    PackageID: pkg.id,
    ClientLocation: { IPAddresses: await session.target.ipAddresses() },
  });
  const res = await session.post('LocationRequest', req);
  const location = parsePackageLocation(res.body.toString('utf8'));
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
async function fetchAndSave(session: ClientSession, task: TaskRecord, pkg: PackageRecord, url: string, fileName: string): Promise<void> {
  const { store } = session;
  const ended = (ok: boolean, leg: 'download' | 'push') => session.emit({ type: 'transfer-end', leg, targetId: session.target.id, packageId: pkg.id, ok });
  const cached = await session.opts.cache.fetch({
    packageId: pkg.id, url, fileName, userId: session.target.id, signal: session.signalFor(pkg.id), ...(pkg.name ? { name: pkg.name } : {}),
    ...(pkg.packageSize !== null ? { expectedSize: pkg.packageSize } : {}), ...(pkg.sha256 ? { sha256: pkg.sha256 } : {}),
    onProgress: (bytesDone, total, resumedFrom) => session.emit({
      type: 'progress', leg: 'download', targetId: session.target.id, packageId: pkg.id, name: pkg.name ?? pkg.id, bytesDone, total, resumedFrom,
    }),
  }).catch((err: unknown) => {
    ended(false, 'download');
    throw err;
  });
  if (!cached.reused) {
    ended(true, 'download');
    session.log('info', `downloaded ${pkg.name} (${cached.size} bytes, sha256 ${cached.sha256.slice(0, 12)}…)` +
      (cached.resumedFrom > 0 ? `, resumed from byte ${cached.resumedFrom}` : '') +
      (cached.restartedFromZero ? ', restarted from zero' : ''), pkg.id);
  }
  const pushes = session.target.kind === 'tethered';
  const saved = await session.target.install({ ...cached, packageId: pkg.id }, pkg.localDestination ?? '\\', fileName, session.signalFor(pkg.id))
    .catch((err: unknown) => {
      if (pushes) ended(false, 'push');
      throw err;
    });
  if (pushes) ended(true, 'push');
  store.updatePackage(pkg.id, { downloaded: true, savedPath: saved, fileName }, session.now());
  queueStatus(session, task, STATUS_DOWNLOAD_SUCCESSFUL, 'downloaded');
}

/** Phase 4: the post-install command, if any, within the station's command policy. */
async function execute(session: ClientSession, task: TaskRecord, pkg: PackageRecord): Promise<string> {
  if (!pkg.commandLine) {
    queueStatus(session, task, STATUS_EXECUTION_SUCCESSFUL, 'executed');
    return 'installed (no command line)';
  }
  if (!session.opts.allowCommands) {
    const reason = 'commands are not allowed on this station (start it with --allow-commands)';
    queueStatus(session, task, STATUS_EXECUTION_FAILED, 'executed', [{ name: 'Reason', value: reason }]);
    session.log('warn', `did not run '${pkg.commandLine}' for ${pkg.name}: ${reason}`, pkg.id);
    return `command refused: ${reason}`;
  }
  const journal = new CommandJournal(session.store);
  try {
    const result = await runCommandOnce(session, pkg, pkg.commandLine);
    const settle = () => journal.settle(result.run.runId);
    if ('interrupted' in result) {
      queueStatus(session, task, STATUS_EXECUTION_FAILED, 'executed', [
        { name: 'ExitCode', value: '' }, { name: 'Reason', value: `interrupted: ${result.interrupted}` },
      ], settle);
      session.log('error', `'${pkg.commandLine}' for ${pkg.name} was interrupted: ${result.interrupted}`, pkg.id);
      return `command interrupted: ${result.interrupted}`;
    }
    const out = result.outcome;
    const tail = out.output.length > 2000 ? `…${out.output.slice(-2000)}` : out.output;
    if (out.exitCode === 0) {
      queueStatus(session, task, STATUS_EXECUTION_SUCCESSFUL, 'executed', [{ name: 'ExitCode', value: '0' }], settle);
      session.log('info', `ran '${pkg.commandLine}': exit code 0${tail ? `; output: ${tail.trim()}` : ''}`, pkg.id);
      return 'command exit code 0';
    }
    const what = out.exitCode === null ? `was stopped by ${out.signal ?? 'a signal'}` : `exited with code ${out.exitCode}`;
    queueStatus(session, task, STATUS_EXECUTION_FAILED, 'executed', [
      { name: 'ExitCode', value: String(out.exitCode ?? -1) }, { name: 'Reason', value: `the command ${what}` },
    ], settle);
    session.log('error', `'${pkg.commandLine}' for ${pkg.name} ${what}${tail ? `; output: ${tail.trim()}` : ''}`, pkg.id);
    return `command ${what}`;
  } catch (err) {
    if (err instanceof DockhandError && err.code === 'CANCELLED') throw err;
    // Undocked mid-command: the run stays open and the device is asked how it ended at the next dock.
    if (err instanceof DockhandError && err.code === 'LINK' && !session.connected()) throw err;
    const reason = describeError(err);
    const run = journal.pending(pkg.id);
    queueStatus(session, task, STATUS_EXECUTION_FAILED, 'executed', [{ name: 'Reason', value: reason }], () => run && journal.settle(run.runId));
    session.log('error', `could not run '${pkg.commandLine}' for ${pkg.name}: ${reason}`, pkg.id);
    return `command failed: ${reason}`;
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
  if (downloadNeedsTransfer(pkg, task)) {
    const url = await locate(session, pkg);
    const fileName = fileNameFromUrl(url);
    if (!reached(task.phase, 'started')) queueStatus(session, task, STATUS_DOWNLOAD_STARTING, 'started');
    await session.target.checkDestination(pkg.localDestination ?? '\\', fileName);
    await fetchAndSave(session, task, pkg, url, fileName);
  }
  const result = reached(task.phase, 'executed') ? (pkg.lastResult ?? 'done') : await execute(session, task, pkg);
  finish(session, task, pkg, result);
}

function finish(session: ClientSession, task: TaskRecord, pkg: PackageRecord, result: string): void {
  const { store } = session;
  const now = session.now();
  const failed = !result.startsWith('command exit code 0') && !result.startsWith('installed');
  store.updatePackage(pkg.id, { state: 'installed', runs: pkg.runs + 1, lastResult: result }, now);
  if (pkg.recurrenceMs) {
    const next = nextOccurrence(pkg.startAt ?? now, pkg.recurrenceMs, now);
    store.updateTask(task.id, { state: 'queued', nextRun: next, phase: '', attempts: 0, lastError: failed ? result : '', waitingFor: '' }, now);
    // "Download and Execute": the next occurrence downloads afresh; the saved file stays until then.
    if (pkg.behavior !== 'Execute Only') void session.opts.cache.invalidate(pkg.id);
  } else {
    store.updateTask(task.id, { state: 'done', lastError: failed ? result : '', waitingFor: '' }, now);
  }
  if (failed) session.problems.push({ at: now, message: `${pkg.name ?? pkg.id}: ${result}` });
}

/** The retries of a download are spent (or the failure cannot be retried): report 11032 and move on. */
export function giveUpDownload(session: ClientSession, task: TaskRecord, message: string): void {
  const { store } = session;
  const pkg = store.package(task.packageId);
  queueStatus(session, task, STATUS_DOWNLOAD_UNSUCCESSFUL, 'executed', [{ name: 'Reason', value: message }]);
  const now = session.now();
  if (pkg?.recurrenceMs) {
    const next = nextOccurrence(pkg.startAt ?? now, pkg.recurrenceMs, now);
    store.updateTask(task.id, { state: 'queued', nextRun: next, phase: '', attempts: 0, lastError: message, waitingFor: '' }, now);
  } else {
    store.updateTask(task.id, { state: 'failed', lastError: message, waitingFor: '' }, now);
  }
  store.updatePackage(task.packageId, { state: 'failed', lastResult: `download failed: ${message}` }, now);
  session.log('error', `download of ${pkg?.name ?? task.packageId} failed: ${message}`, task.packageId);
}
