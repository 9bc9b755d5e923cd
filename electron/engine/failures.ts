// Failures sorted by what they mean (issue 7 item 6, spec §15.2 and the seed's offline rule), and the
// task transition each one takes (transitions.ts):
//
//   cannot reach the server   NETWORK: refused, reset, DNS, unreachable, connect timeout, a cut mid-body
//                             → `unreachable`: waits for the server without spending a retry (the poll,
//                             which retries on connection failures by spec §4.1, spends one)
//   the server answered wrong TLS (untrusted, expired or wrong-host certificate), HTTP_STATUS, PROTOCOL (a
//                             malformed answer), SIZE_MISMATCH, HASH_MISMATCH, anything else
//                             → `fail`: spends one of FailureRetryCount retries, then gives up (a download
//                             event ends with 11032 naming the cause)
//   no room on the disk       STORAGE marked transient (ENOSPC, a quota, the download's own free-space check)
//                             → `no-room`: waits for room without spending a retry
//   retrying cannot help      PATH_REFUSED → `give-up` at once
//   the task was stopped      CANCELLED: a technician's pause, or the station stopping → `pause` / `stop`
//   the device left           LINK while the device is no longer docked → `undock`: waits for the next dock
import type { TaskRecord } from '../../shared/model/client.js';
import { DockhandError, describeError } from '../../shared/model/errors.js';
import type { ClientSession } from './session.js';
import { taskTransition, type TaskEvent } from './transitions.js';

function eventFor(session: ClientSession, task: TaskRecord, err: unknown): TaskEvent {
  const code = err instanceof DockhandError ? err.code : null;
  switch (code) {
    case 'CANCELLED':
      return !session.signal.aborted && session.pausedPackages().includes(task.packageId) ? 'pause' : 'stop';
    case 'LINK':
      return session.connected() ? 'fail' : 'undock';
    case 'NETWORK':
      return 'unreachable';
    case 'PATH_REFUSED':
      return 'give-up';
    case 'STORAGE':
      return (err as DockhandError).transient ? 'no-room' : 'fail';
    default:
      return 'fail';
  }
}

/** What a server wait says besides "cannot be reached": the host and what happened, when the error knows. */
function serverDetail(err: unknown): string | undefined {
  const d = err instanceof DockhandError ? err.detail : undefined;
  const where = typeof d?.where === 'string' ? d.where : '';
  const why = typeof d?.why === 'string' ? d.why : '';
  return where && why ? `${where}: ${why}` : undefined;
}

const label = (task: TaskRecord) => `${task.kind}${task.packageId ? ` ${task.packageId}` : ''}`;

/** Records a failed run of `task`: the transition its failure means, and a log line a technician can act on. */
export function handleFailure(session: ClientSession, task: TaskRecord, err: unknown): void {
  const current = session.store.taskById(task.id);
  // Cancelled by a technician or removed with its package while it ran: that move was already made.
  if (!current || current.state !== 'running') return;
  const message = describeError(err);
  const on = eventFor(session, current, err);
  if (on === 'unreachable') {
    session.waitsForServer = true;
    if (err instanceof DockhandError) session.markOffline(err);
  }
  // Where it failed, and what the field kit lacks to stand in for the server meanwhile.
  const detail = [serverDetail(err), on === 'unreachable' ? session.offlineDetail(current) : undefined].filter(Boolean).join('; ') || undefined;
  const moved = taskTransition(session, current, on, { reason: message, ...(detail ? { detail } : {}) });
  const now = session.now();
  switch (moved.on) {
    case 'stop':
    case 'pause':
      return;
    case 'undock':
      session.log('warn', `${label(task)} paused: ${message}`, task.packageId);
      return;
    case 'unreachable':
      session.problems.push({ at: now, message });
      return;
    case 'no-room':
      session.log('warn', `${label(task)} waits for disk space: ${message}`, task.packageId);
      return;
    case 'fail':
      session.log('error', `${label(task)}: ${message}`, task.packageId);
      return;
    default:
      break;
  }
  const s = session.settings();
  switch (task.kind) {
    case 'poll':
      session.log('error', `poll failed, giving up until the next poll interval: ${message}`);
      return;
    case 'instruction':
      session.log('error', `no instructions for package ${task.packageId} after ${s.retryCount + 1} attempts: ${message}; ` +
        'it is asked for again at the next poll', task.packageId);
      return;
    case 'download':
      session.log('error', `download of ${session.store.package(task.packageId)?.name ?? task.packageId} failed: ${message}`, task.packageId);
      return;
    default:
      session.log('error', `${task.kind} report failed: ${message}`);
  }
}
