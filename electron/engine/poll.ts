// Steps 1–3 of the seed's operation: poll the server, read its answer (the full package list, client
// settings, wanted reports), and reconcile the client database against the list.
import type { TaskRecord } from '../../shared/model/client.js';
import type { PollResponse } from '../../shared/protocol/types.js';
import { buildPollRequest, documentText, htmlPageWords, looksLikeHtml, ProtocolError } from '../../shared/protocol/index.js';
import { parseOffThread } from '../protocol/parse-off-thread.js';
import { describeError } from '../../shared/model/errors.js';
import type { ClientSession } from './session.js';
import { applyClientSettings, CLIENT_VERSION, MANAGEMENT_SYSTEM_NAME } from './client-settings.js';
import { applyReportSettings } from './reports.js';
import { packageIdProblem, packageKey, shownId } from './confine.js';
import { CommandJournal } from './command-journal.js';
import { taskTransition } from './transitions.js';
import { hostOf, type DmResponse } from './dm-http.js';
import { logIgnored, logOnce } from './reception.js';
import { provisionFromKit, serverAnswersAfterKit } from './kit/offline-poll.js';
import { KIT_KV } from './kit/offline-state.js';

export async function runPoll(session: ClientSession, task: TaskRecord): Promise<void> {
  const { store } = session;
  const s = session.settings();
  const identification = await session.target.identification();
  const body = buildPollRequest({
    // Dockhand's own name, never the stock client's: servers tell Dockhand clients from stock ones by it.
    ManagementSystem: { Name: MANAGEMENT_SYSTEM_NAME, Version: CLIENT_VERSION },
    Identification: identification,
    // A real CE 4.21 client writes 0, not an empty element, until the server has given it a token and a
    // timestamp (docs/protocol-decisions.md); the headers stay empty, as the documentation says.
    Connection: { AuthorizationToken: s.auth || '0', Timestamp: s.timestamp || '0' },
  });
  let res: DmResponse;
  try {
    res = await session.post('Poll', body);
  } catch (err) {
    // A device that never reached the server may be provisioned from the field kit instead (docs/field-kit.md).
    if (await provisionFromKit(session, task, err)) return;
    throw err;
  }
  const response = await readPollAnswer(session, res);

  // The server keeps the timestamp; the client only echoes it (spec §2.3, A15).
  const stamp = res.headers['x-device-timestamp'];
  if (typeof stamp === 'string') store.set('timestamp', stamp);
  store.set(KIT_KV.lastPollAt, String(session.now()));
  session.opts.kit?.polled(session, res);

  logIgnored(session, 'PollResponse', response.ignored);
  applySettings(session, response);
  const complete = response.packageListIncomplete === undefined;
  if (!complete) {
    logOnce(session, 'warn', `the package list from ${hostOf(session.settings().server)} is incomplete ` +
      `(${response.packageListIncomplete}): the listed packages are acquired, and no package is removed until a poll lists them all`);
  }
  // Provisioned offline: what it queued reaches the server first, then the server's answer is reconciled.
  const afterKit = await serverAnswersAfterKit(session, response);
  await reconcile(session, response.ApplicablePackages, { removeUnlisted: complete });
  afterKit?.();
  taskTransition(session, task, 'succeed');
  session.log('info', `polled ${session.settings().server}: ${response.ApplicablePackages.length} package(s) listed`);
}

/**
 * The poll answer, whatever its Content-Type: a DM document with or without declaration and namespace. A page
 * that is HTML (a captive portal's login, a proxy's error page) is named as such, in one line, with the server.
 * A long package list is read in the parse worker, so other targets never wait for it.
 */
async function readPollAnswer(session: ClientSession, res: DmResponse): Promise<PollResponse> {
  // The page's start is enough to tell HTML and to describe it (answer-text.ts looks at no more).
  const start = documentText(res.body.subarray(0, 64 * 1024));
  const server = hostOf(session.settings().server);
  if (looksLikeHtml(start)) throw new ProtocolError('PollResponse', '', `the server ${server} answered with ${htmlPageWords(start)}`);
  try {
    return await parseOffThread('PollResponse', res.body);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw new ProtocolError(err.document, err.path, `the server ${server} answered with a poll response Dockhand cannot read: ${err.problem}`, { cause: err });
  }
}

export function applySettings(session: ClientSession, response: PollResponse): void {
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
 *
 * An ID that is not a safe identifier (confine.ts) is refused and logged once; the rest of the list still
 * applies. IDs that differ only in case are one package: the spelling this target first knew it by is kept.
 */
export async function reconcile(session: ClientSession, listed: string[], opts: { removeUnlisted?: boolean } = {}): Promise<void> {
  const { store } = session;
  const now = session.now();
  const records = store.packages();
  const known = new Map<string, string>();
  for (const r of records) if (!known.has(packageKey(r.id))) known.set(packageKey(r.id), r.id);
  const wanted = new Map<string, string>(); // package key → the ID this target uses for it
  const refused = new Map<string, string>(); // refused ID → why
  for (const id of listed) {
    const problem = packageIdProblem(id);
    if (problem) refused.set(id, problem);
    else if (!wanted.has(packageKey(id))) wanted.set(packageKey(id), known.get(packageKey(id)) ?? id);
  }
  noteRefusedIds(session, refused);
  for (const pkg of records) {
    const kept = wanted.get(packageKey(pkg.id));
    if (kept === pkg.id) continue;
    if (kept !== undefined) {
      // A second spelling of a package this target already has (an earlier Dockhand kept both): its record
      // goes, its files stay, since they are the kept record's files too.
      store.deletePackage(pkg.id);
      session.log('warn', `forgot package ${pkg.id}: it is ${kept} spelled in another case`, kept);
      continue;
    }
    // An incomplete list (one the reader could not fully read) never removes anything.
    if (opts.removeUnlisted !== false) await removePackage(session, pkg.id);
  }
  // A transaction per slice: 10,000 listed packages are 20 commits, not 20,000, and the event loop breathes
  // between slices, so no other target waits behind a long list.
  const ids = [...wanted.values()];
  for (let i = 0; i < ids.length; i += RECONCILE_SLICE) {
    store.transaction(() => {
      for (const id of ids.slice(i, i + RECONCILE_SLICE)) {
        const rec = store.package(id);
        const instruction = store.task('instruction', id);
        if (!rec || rec.state === 'failed') {
          store.insertPackage(id, now);
          store.scheduleTask('instruction', id, now, now);
        } else if (rec.state === 'needs-instructions' && (!instruction || instruction.state !== 'queued')) {
          store.scheduleTask('instruction', id, now, now);
        }
      }
    });
    if (i + RECONCILE_SLICE < ids.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Listed packages reconciled per transaction (each slice takes a few tens of milliseconds). */
const RECONCILE_SLICE = 500;

/** Refused IDs are logged when first seen, not at every poll. */
function noteRefusedIds(session: ClientSession, refused: Map<string, string>): void {
  const before = new Set(session.store.getJson<string[]>('refused_package_ids') ?? []);
  for (const [id, problem] of refused) {
    if (!before.has(id)) session.log('error', `refused the package ID '${shownId(id)}' the server listed: it ${problem}; the other packages are handled`);
  }
  if (refused.size > 0 || before.size > 0) session.store.setJson('refused_package_ids', [...refused.keys()]);
}

/** A package the server no longer lists: its file deleted, the record dropped, the removal logged. */
export async function removePackage(session: ClientSession, id: string): Promise<void> {
  const { store } = session;
  const pkg = store.package(id);
  if (!pkg) return;
  await session.stopTask(id); // its download event may be under way in the other lane
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
  new CommandJournal(store).forget(id);
  store.deletePackage(id);
  session.log('info', `removed package ${id}${pkg.name ? ` (${pkg.name})` : ''}: the server no longer lists it` +
    (deleted.length ? `; deleted ${deleted.join(', ')}` : ''), id);
}
