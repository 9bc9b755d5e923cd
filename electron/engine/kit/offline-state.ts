// What a target's client database says about the field kit (docs/field-kit.md), and the questions the
// scheduler asks of it: may the kit answer this poll, does this device's outbox wait for its first poll,
// and what does a task that needs the server lack from the kit ("needs the server: package X is not in the
// field kit").
import type { TaskRecord } from '../../../shared/model/client.js';
import { notInKitWords } from '../../../shared/model/field-kit.js';
import type { ClientStore } from '../../store/client-store.js';
import type { ClientSession } from '../session.js';
import { downloadNeedsTransfer } from '../download-event.js';
import type { KitAnswer } from './kit-access.js';

/** Keys of the client database's key/value table that concern the field kit. */
export const KIT_KV = {
  /** The profile the device was provisioned from (JSON: device ID, name, when the kit's answer was fetched). */
  source: 'kit_source',
  /** The kit's poll answer it was provisioned from, kept to name what the server's answer changes. */
  poll: 'kit_poll',
  /** When it was provisioned from the kit; set until the server's own answer has been reconciled. */
  provisionedAt: 'kit_provisioned_at',
  /** The kit's poll answer was reconciled into the database (a crash before this applies it again). */
  appliedAt: 'kit_applied_at',
  /** The server answered its first poll: its outbox may deliver (in order, before the reconcile). */
  serverPolledAt: 'kit_server_polled_at',
  /** The profile a technician picked on the device's card, for its provisioning from the kit. */
  choice: 'kit_profile_choice',
  /** The last time the server answered this target's poll. */
  lastPollAt: 'last_poll_at',
} as const;

export interface KitSource {
  profile: string;
  profileName: string;
  fetchedAt: number;
}

/** The profile the device was provisioned from, if it was. */
export function kitSource(store: ClientStore): KitSource | null {
  return store.getJson<KitSource>(KIT_KV.source);
}

/** The server has answered this target's poll at least once (a database from before `last_poll_at` has a timestamp or packages). */
export function hasReachedServer(store: ClientStore): boolean {
  return store.get(KIT_KV.lastPollAt) !== null || store.get('timestamp') !== null ||
    (store.get(KIT_KV.provisionedAt) === null && store.packages().length > 0);
}

/** A device provisioned from the kit whose server answer has not been reconciled yet. */
export function provisionedOffline(store: ClientStore): boolean {
  return store.get(KIT_KV.provisionedAt) !== null;
}

/** A device provisioned from the kit delivers nothing before its first poll has told the server it exists. */
export function outboxWaitsForPoll(store: ClientStore): boolean {
  return provisionedOffline(store) && store.get(KIT_KV.serverPolledAt) === null;
}

/** A docked device that never reached the server and whose kit answer is not applied yet (or was cut off by a crash). */
function awaitsKit(session: ClientSession): boolean {
  const { store } = session;
  return session.target.kind === 'tethered' && store.get(KIT_KV.appliedAt) === null && !hasReachedServer(store);
}

/** The answer a never-polled device is provisioned from: the one it began with (a crash cut it off), else the kit's now. */
export function kitPollFor(session: ClientSession): KitAnswer | null {
  const { store } = session;
  const source = kitSource(store);
  const kept = store.get(KIT_KV.poll);
  if (source && kept !== null) return { profile: source.profile, profileName: source.profileName, fetchedAt: source.fetchedAt, body: Buffer.from(kept, 'utf8') };
  return session.opts.kit?.forNewDevice(session) ?? null;
}

/** This poll may be answered by the kit: a docked device that never reached the server, not yet provisioned. */
export function kitServesPoll(session: ClientSession): boolean {
  return awaitsKit(session) && kitPollFor(session) !== null;
}

/** What the kit lacks for a task that needs the server; undefined when it lacks nothing (or there is no kit). */
export function kitDetail(session: ClientSession, task: TaskRecord): string | undefined {
  const kit = session.opts.kit;
  if (!kit?.inUse()) return undefined;
  switch (task.kind) {
    case 'poll':
      return awaitsKit(session) && !kitPollFor(session) ? 'needs the server: the field kit holds no profile for new devices' : undefined;
    case 'instruction':
      return kit.answer(session, 'instructions', task.packageId) ? undefined : notInKitWords(task.packageId);
    case 'download': {
      const pkg = session.store.package(task.packageId);
      if (!pkg || !downloadNeedsTransfer(pkg, task) || kit.bytes(pkg)) return undefined;
      return notInKitWords(pkg.name ?? pkg.id);
    }
    default:
      return undefined;
  }
}
