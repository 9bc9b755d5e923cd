// Steps 1–3 of the seed's operation: poll the server, read its answer (the full package list, client
// settings, wanted reports), and reconcile the client database against the list.
import type { TaskRecord } from '../../shared/model/client.js';
import type { PollResponse } from '../../shared/protocol/types.js';
import { buildPollRequest, parsePollResponse } from '../../shared/protocol/index.js';
import { describeError } from '../../shared/model/errors.js';
import type { ClientSession } from './session.js';
import { applyClientSettings, CLIENT_VERSION } from './client-settings.js';
import { applyReportSettings } from './reports.js';

export async function runPoll(session: ClientSession, task: TaskRecord): Promise<void> {
  const { store } = session;
  const s = session.settings();
  const identification = await session.target.identification();
  const body = buildPollRequest({
    ManagementSystem: { Name: 'Dockhand', Version: CLIENT_VERSION },
    Identification: identification,
    Connection: { AuthorizationToken: s.auth, Timestamp: s.timestamp },
  });
  const res = await session.post('Poll', body);
  const response = parsePollResponse(res.body.toString('utf8'));
  const now = session.now();

  // The server keeps the timestamp; the client only echoes it (spec §2.3, A15).
  const stamp = res.headers['x-device-timestamp'];
  if (typeof stamp === 'string') store.set('timestamp', stamp);

  applySettings(session, response);
  await reconcile(session, response.ApplicablePackages);
  const interval = session.settings().pollIntervalMs;
  store.updateTask(task.id, { state: 'queued', attempts: 0, nextRun: now + interval, lastError: '', waitingFor: '' }, now);
  session.log('info', `polled ${session.settings().server}: ${response.ApplicablePackages.length} package(s) listed`);
}

function applySettings(session: ClientSession, response: PollResponse): void {
  const cs = response.Settings.ClientSettings;
  if (cs) {
    try {
      for (const change of applyClientSettings(session.store, cs)) session.log('info', `server setting: ${change}`);
    } catch (err) {
      session.log('warn', `ignored a client setting from the server: ${describeError(err)}`);
    }
  }
  applyReportSettings(session, response.Settings);
}

/**
 * Compare the server's list with the database (spec §6.1, A11): acquire what is missing or failed, remove
 * what is no longer listed. One instruction task per needed package.
 */
export async function reconcile(session: ClientSession, listed: string[]): Promise<void> {
  const { store } = session;
  const now = session.now();
  const wanted = new Set(listed);
  for (const pkg of store.packages()) {
    if (!wanted.has(pkg.id)) await removePackage(session, pkg.id);
  }
  for (const id of wanted) {
    const rec = store.package(id);
    const instruction = store.task('instruction', id);
    if (!rec || rec.state === 'failed') {
      store.insertPackage(id, now);
      store.scheduleTask('instruction', id, now, now);
    } else if (rec.state === 'needs-instructions' && (!instruction || instruction.state !== 'queued')) {
      store.scheduleTask('instruction', id, now, now);
    }
  }
}

/** A package the server no longer lists: its file deleted, the record dropped, the removal logged. */
export async function removePackage(session: ClientSession, id: string): Promise<void> {
  const { store } = session;
  const pkg = store.package(id);
  if (!pkg) return;
  const deleted: string[] = [];
  if (pkg.savedPath) {
    try {
      await session.target.remove(pkg.savedPath);
      deleted.push(pkg.savedPath);
    } catch (err) {
      session.log('warn', `could not delete ${pkg.savedPath} of removed package ${id}: ${describeError(err)}`, id);
    }
  }
  await session.opts.cache.release(id, session.target.id);
  store.deletePackage(id);
  session.log('info', `removed package ${id}${pkg.name ? ` (${pkg.name})` : ''}: the server no longer lists it` +
    (deleted.length ? `; deleted ${deleted.join(', ')}` : ''), id);
}
