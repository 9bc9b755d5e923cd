// The poll of a docked device while the server cannot be reached, and its first real poll afterwards
// (docs/field-kit.md, issue 9 items 3–4):
//
//   offline   a device that has never reached the server is provisioned from the field kit: the kept poll
//             answer of its profile (the one a technician picked, else the default) is applied as if the
//             server had sent it — settings, reports, the package list — and the poll waits for the server.
//             Its messages queue in its outbox, each stamped with the time its event happened.
//   back      its first poll reaches the server (which so learns the device exists); then its outbox is
//             delivered, in order, once; then the server's answer is reconciled as usual — what the kit gave
//             and the server does not list is removed, installed packages stay — and where the server's
//             answer differs from the kit's, the server wins and the device's activity says what changed.
import type { PollResponse } from '../../../shared/protocol/types.js';
import { documentText } from '../../../shared/protocol/index.js';
import type { TaskRecord } from '../../../shared/model/client.js';
import { kitTime } from '../../../shared/model/field-kit.js';
import { DockhandError, describeError } from '../../../shared/model/errors.js';
import { parseOffThread } from '../../protocol/parse-off-thread.js';
import type { ClientSession } from '../session.js';
import { applySettings, reconcile } from '../poll.js';
import { packageKey } from '../confine.js';
import { packageTransition, taskTransition } from '../transitions.js';
import { hostOf } from '../dm-http.js';
import { describeDelay } from '../../../shared/model/wait.js';
import { KIT_KV, kitPollFor, kitServesPoll, kitSource, provisionedOffline, type KitSource } from './offline-state.js';

/**
 * The poll could not reach the server (`err`): a device that never reached it is provisioned from the kit.
 * Returns false when the kit does not answer for it (the failure then takes its usual course).
 */
export async function provisionFromKit(session: ClientSession, task: TaskRecord, err: unknown): Promise<boolean> {
  if (!(err instanceof DockhandError) || err.code !== 'NETWORK' || !kitServesPoll(session)) return false;
  const answer = kitPollFor(session)!;
  const response = await parseOffThread('PollResponse', answer.body);
  const { store } = session;
  const source: KitSource = { profile: answer.profile, profileName: answer.profileName, fetchedAt: answer.fetchedAt };
  // Persist first: a crash from here on applies the very same answer again at the next start.
  store.transaction(() => {
    store.setJson(KIT_KV.source, source);
    store.set(KIT_KV.poll, documentText(answer.body));
    if (store.get(KIT_KV.provisionedAt) === null) store.set(KIT_KV.provisionedAt, String(session.now()));
  });
  applySettings(session, response);
  await reconcile(session, response.ApplicablePackages);
  store.set(KIT_KV.appliedAt, String(session.now()));
  session.waitsForServer = true;
  taskTransition(session, task, 'kit answered', {
    reason: describeError(err),
    detail: `provisioned from the field kit (profile ${answer.profileName}); its first poll goes to the server when it answers`,
  });
  session.log('warn', `the server cannot be reached: provisioned from the field kit of profile ${answer.profileName} ` +
    `(its answer of ${kitTime(new Date(answer.fetchedAt).toISOString())}): ${response.ApplicablePackages.length} package(s); ` +
    'its messages wait for the server, which is polled first when it answers');
  return true;
}

/**
 * A technician picked another profile on the card of a device provisioned offline, before any of its
 * download events started: the device is provisioned again from that profile's answer.
 */
export async function reprovisionFromKit(session: ClientSession): Promise<string> {
  const { store } = session;
  const source = kitSource(store);
  if (!provisionedOffline(store) || !source || store.get(KIT_KV.serverPolledAt) !== null) {
    return 'the profile is kept for the device; it is used if the device is provisioned from the field kit';
  }
  if (store.downloadHistory({ limit: 1 }).length > 0 || store.outbox(['queued', 'sent']).some((o) => o.action === 'Status')) {
    throw new Error(`device ${session.target.id} already started installing from profile ${source.profileName}; ` +
      'a profile is picked before the first package starts (when the server answers, its own list applies)');
  }
  const answer = session.opts.kit?.forNewDevice(session);
  if (!answer) throw new Error('the field kit holds no poll answer for that profile');
  const response = await parseOffThread('PollResponse', answer.body);
  store.transaction(() => {
    store.setJson(KIT_KV.source, { profile: answer.profile, profileName: answer.profileName, fetchedAt: answer.fetchedAt } satisfies KitSource);
    store.set(KIT_KV.poll, documentText(answer.body));
  });
  applySettings(session, response);
  await reconcile(session, response.ApplicablePackages);
  session.log('info', `provisioned again from the field kit of profile ${answer.profileName} (a technician's choice): ` +
    `${response.ApplicablePackages.length} package(s)`);
  return `provisioning ${session.target.id} from profile ${answer.profileName}`;
}

/**
 * The server answered the first poll of a device provisioned offline. Before its answer is reconciled, the
 * device's outbox is delivered (in order; the server now knows the device), and instructions the kit gave
 * for packages not started yet are asked for again. Returns what to do after the reconcile: write what the
 * server's answer changed into the device's activity, and end the offline provisioning. Null when the
 * device was not provisioned offline.
 */
export async function serverAnswersAfterKit(session: ClientSession, response: PollResponse): Promise<(() => void) | null> {
  const { store } = session;
  const source = kitSource(store);
  if (!provisionedOffline(store) || !source) return null;
  store.set(KIT_KV.serverPolledAt, String(session.now()));
  const queued = store.outbox(['queued']).length;
  await session.outbox.flush();
  const left = store.outbox(['queued']).length;
  if (left > 0 && session.isOffline()) {
    throw new DockhandError('NETWORK', `the server ${hostOf(session.settings().server)} stopped answering while the station ` +
      `delivered what this device queued offline (${left} message(s) wait); it polls again in ${describeDelay(session.settings().retryIntervalMs)}`,
    { transient: true });
  }
  const kitAnswer = await readKept(store.get(KIT_KV.poll));
  const kitListed = new Map((kitAnswer?.ApplicablePackages ?? []).map((id) => [packageKey(id), id]));
  const serverListed = new Set(response.ApplicablePackages.map(packageKey));
  const replaced = askAgainForKitInstructions(session, serverListed);
  return () => {
    const onlyServer = response.ApplicablePackages.filter((id) => !kitListed.has(packageKey(id)));
    const onlyKit = [...kitListed.values()].filter((id) => !serverListed.has(packageKey(id)));
    const changes = [
      ...(onlyServer.length ? [`the server lists ${onlyServer.join(', ')}, which the field kit did not (asked for now)`] : []),
      ...(onlyKit.length ? [`the server does not list ${onlyKit.join(', ')} for this device, which the field kit did ` +
        `(${response.packageListIncomplete === undefined ? 'removed' : 'kept until a poll lists every package'})`] : []),
      ...(replaced.length ? [`instructions the field kit gave for ${replaced.join(', ')} are asked for again`] : []),
      ...settingsChanges(kitAnswer, response),
    ];
    session.log(changes.length ? 'warn' : 'info', `the server answered after provisioning from the field kit (profile ${source.profileName}): ` +
      `delivered ${queued - left} queued message(s) in order; ` +
      (changes.length ? `the server's answer differs from the field kit's and wins: ${changes.join('; ')}` : 'its answer matches the field kit\'s'));
    store.transaction(() => {
      for (const key of [KIT_KV.provisionedAt, KIT_KV.serverPolledAt, KIT_KV.poll, KIT_KV.appliedAt]) store.unset(key);
    });
  };
}

/** The kit's poll answer the device was provisioned from, read again (null when it cannot be). */
async function readKept(body: string | null): Promise<PollResponse | null> {
  if (body === null) return null;
  try {
    return await parseOffThread('PollResponse', Buffer.from(body, 'utf8'));
  } catch {
    return null;
  }
}

/** Packages whose instructions came from the kit and whose event has not started: asked for again. */
function askAgainForKitInstructions(session: ClientSession, serverListed: Set<string>): string[] {
  const { store } = session;
  const now = session.now();
  const replaced: string[] = [];
  for (const pkg of store.packages()) {
    if (!pkg.instructionsFrom || (pkg.state !== 'scheduled' && pkg.state !== 'awaiting-acceptance') || !serverListed.has(packageKey(pkg.id))) continue;
    const event = store.task('download', pkg.id);
    if (event && (event.state === 'running' || event.phase !== '')) continue;
    store.transaction(() => {
      store.deleteTask('download', pkg.id);
      packageTransition(store, pkg.id, 'server replaces kit', now, 'instructions asked for again: the server answers now');
    });
    replaced.push(pkg.name ?? pkg.id);
  }
  return replaced;
}

/** Client settings the server's answer sets differently from the kit's answer. */
function settingsChanges(kit: PollResponse | null, response: PollResponse): string[] {
  const a = kit?.Settings.ClientSettings ?? {};
  const b = response.Settings.ClientSettings ?? {};
  const names: Array<[keyof typeof b, string]> = [
    ['PollServer', 'poll server'], ['PollInterval', 'poll interval'], ['FailureRetryCount', 'retry count'], ['FailureRetryInterval', 'retry interval'],
  ];
  const shown = (k: keyof typeof b, v: unknown) => (v === undefined ? 'nothing'
    : k === 'PollInterval' || k === 'FailureRetryInterval' ? describeDelay(Number(v)) : String(v));
  return names.filter(([k]) => a[k] !== b[k] && b[k] !== undefined)
    .map(([k, words]) => `${words} ${shown(k, b[k])} (the field kit said ${shown(k, a[k])})`);
}
