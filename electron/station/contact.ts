// How the station's contact with its management server stands, derived from the sessions that talk to
// it (the station itself and every docked device): whether the last attempt failed, when the next one
// is, and how many status messages and reports wait in the outboxes. "Online" is what the last contact
// said, not a guess: a failed poll stays a failure until a poll works again.
import type { Contact } from '../../shared/contract/station-api.js';
import type { ClientSession } from '../engine/session.js';

interface ContactSource {
  session: Pick<ClientSession, 'isOffline'>;
  store: ClientSession['store'];
  /** Sessions of undocked devices cannot contact anyone: their old failures are not news. */
  talks: boolean;
}

/** The server's host and port, as a technician knows it ("dm.example.com:8080"). */
export function serverHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function contactState(sources: ContactSource[], server: string): Contact {
  let failed = false;
  let problem = '';
  let retryAt: number | null = null;
  let waiting = 0;
  let contacted = false;
  for (const { session, store, talks } of sources) {
    const queued = store.outbox(['queued']);
    waiting += queued.length;
    if (!talks) continue;
    const poll = store.task('poll');
    // A poll that worked clears its last error; one that failed keeps it until the next poll works.
    // A poll that ran has moved on from the moment it was created (to its next interval, or a retry).
    if (poll && poll.nextRun > poll.createdAt) contacted = true;
    const pollFailed = poll !== null && poll.lastError !== '';
    const outboxFailed = queued.some((o) => o.lastError !== '');
    // A task that waits for the server ran into it last (a download's location request, a kit-provisioned poll).
    const waitsForServer = (store.waitCounts().server ?? 0) > 0;
    if (!pollFailed && !outboxFailed && !waitsForServer && !session.isOffline()) continue;
    failed = true;
    // The words of what failed: the poll's, a message's, or those of the task the server stopped (a download
    // cut when the server went away is often the first to know, before any poll has failed).
    const tasks = store.tasks();
    problem ||= (pollFailed ? poll.lastError : queued.find((o) => o.lastError)?.lastError) ??
      tasks.find((t) => t.wait.kind === 'server' && t.lastError !== '')?.lastError ?? '';
    for (const t of tasks) {
      const w = t.wait;
      const until = w.kind === 'server' || w.kind === 'retry' ? w.until : t === poll && pollFailed ? t.nextRun : null;
      if (until !== null && (retryAt === null || until < retryAt)) retryAt = until;
    }
    if (pollFailed && (retryAt === null || poll.nextRun < retryAt)) retryAt = poll.nextRun;
  }
  return {
    state: failed ? 'unreachable' : contacted ? 'ok' : 'unknown',
    server: serverHost(server), problem, retryAt: retryAt === null ? null : new Date(retryAt).toISOString(), waiting,
  };
}
