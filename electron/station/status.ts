// `dockhand station status`: what every target's client database says — tasks with what each waits for,
// transfers with their resume points, packages and the outbox. Reads the databases; works while the
// station runs (WAL) and after it stopped.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ClientStore } from '../store/client-store.js';
import { CacheStore } from '../store/cache-store.js';
import { describeWhen } from '../engine/schedule.js';
import type { TaskRecord } from '../../shared/model/client.js';
import { readConfig, type StationConfig } from './config.js';
import { cacheFolder, packageKey } from '../engine/confine.js';
import { describeWait, type TaskWait } from '../../shared/model/wait.js';
import { kitTime, offlineWords, provisionedOfflineWords, type KitView } from '../../shared/model/field-kit.js';
import { KitStore, type KitFileRecord } from '../store/kit-store.js';
import { KIT_KV, kitSource, provisionedOffline } from '../engine/kit/offline-state.js';
import { defaultProfileOf, effectiveProfiles, kitView } from '../engine/kit/kit-view.js';
import { kitDb } from './station.js';
import { contactState } from './contact.js';
import { lockHolder } from './data-folder.js';
import type { Contact } from '../../shared/contract/station-api.js';

export interface TaskView {
  target: string;
  kind: TaskRecord['kind'];
  package: string;
  packageName: string | null;
  state: TaskRecord['state'];
  nextRun: string;
  /** What it waits for, as data (shared/model/wait.ts) … */
  wait: TaskWait;
  /** … and in words. */
  waitingFor: string;
  attempts: number;
  lastError: string;
}

export interface TransferView {
  target: string;
  package: string;
  packageName: string | null;
  url: string;
  bytesDone: number;
  total: number | null;
  resumePoint: number;
}

export interface DeviceView {
  id: string;
  name: string;
  port: string;
  state: 'docked' | 'undocked';
  currentPackage: string;
  lastDockedAt: string | null;
  undockReason: string;
  /** Provisioned from the field kit while the server could not be reached, not yet reconciled with it. */
  provisionedOffline: boolean;
  /** The field-kit profile it was provisioned from (or a technician picked for it); '' when none. */
  kitProfile: string;
  /** Status messages and reports waiting in its outbox for the server. */
  messagesWaiting: number;
}

/** How the last contact with the server went, as the header says it: "Server unreachable", with the kit's age. */
export interface ServerView extends Contact {
  /** While unreachable: "Offline: field kit from 1 Dec 14:02"; '' otherwise. */
  words: string;
}

export interface StatusView {
  devices: DeviceView[];
  targets: Array<{ id: string; kind: string; server: string; root: string | null; outboxQueued: number }>;
  tasks: TaskView[];
  transfers: TransferView[];
  packages: Array<{ target: string; id: string; name: string | null; state: string; required: boolean | null; savedPath: string | null; runs: number; lastResult: string | null }>;
  outbox: Array<{ target: string; seq: number; summary: string; state: string; attempts: number; lastError: string }>;
  /** The command policy and bounds of DATA/station.json (what `dockhand station` starts with unless told otherwise). */
  settings?: Pick<StationConfig, 'allowCommands' | 'allowPrograms' | 'rateLimit' | 'maxUndeclaredDownloadBytes'> | { error: string };
  server?: ServerView;
  fieldKit?: KitView;
}

/** What a task waits for, in words: its wait (worded in one place, `describeWait`), or its state. */
export function waitingWords(t: TaskRecord, now: number): string {
  if (t.state === 'done') return '';
  if (t.state === 'failed') return `gave up: ${t.lastError}`;
  if (t.state === 'running') return 'running';
  return describeWait(t.wait, now) || (t.nextRun > now ? `scheduled ${describeWhen(t.nextRun)}` : 'due now');
}

export function targetDbs(dataDir: string): Array<{ kind: 'local' | 'tethered'; file: string }> {
  const dir = path.join(dataDir, 'targets');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ kind: name === 'local' ? 'local' as const : 'tethered' as const, file: path.join(dir, name, 'client.sqlite') }))
    .filter((t) => existsSync(t.file));
}

/** Builds the status view from open stores: files opened by `readStatus`, or a running station's own. */
export function collectStatus(targets: Array<{ kind: 'local' | 'tethered'; store: ClientStore }>, cache: CacheStore | null, now: number,
  kit?: { profiles: Array<{ deviceId: string; name: string }> }): StatusView {
  const view: StatusView = { devices: [], targets: [], tasks: [], transfers: [], packages: [], outbox: [] };
  const profileNames = new Map((kit?.profiles ?? []).map((p) => [p.deviceId, p.name]));
  const packageNames = new Map<string, string | null>();
  for (const { kind, store } of targets) {
    const id = store.get('id') ?? '?';
    const packages = store.packages();
    const names = new Map(packages.map((p) => [p.id, p.name]));
    for (const [k, v] of names) packageNames.set(packageKey(k), v); // the cache keys packages whatever their case
    const queued = store.outbox(['queued']);
    view.targets.push({ id, kind, server: store.get('server') ?? '', root: store.get('root'), outboxQueued: queued.length });
    if (kind === 'tethered') {
      const hello = store.getJson<{ name?: string }>('hello');
      const docked = store.get('last_docked_at');
      view.devices.push({
        id, name: hello?.name ?? id, port: store.get('port') ?? '', state: store.get('docked') === '1' ? 'docked' : 'undocked',
        currentPackage: store.get('current_package') ?? '', lastDockedAt: docked ? new Date(Number(docked)).toISOString() : null,
        undockReason: store.get('undock_reason') ?? '', provisionedOffline: provisionedOffline(store),
        kitProfile: kitSource(store)?.profileName ?? profileNames.get(store.get(KIT_KV.choice) ?? '') ?? '', messagesWaiting: queued.length,
      });
    }
    for (const t of store.tasks()) {
      view.tasks.push({
        target: id, kind: t.kind, package: t.packageId, packageName: names.get(t.packageId) ?? null, state: t.state,
        nextRun: new Date(t.nextRun).toISOString(), wait: t.wait, waitingFor: waitingWords(t, now), attempts: t.attempts, lastError: t.lastError,
      });
    }
    for (const cp of store.checkpoints()) {
      // A tethered device's own leg: how much of the file the device holds.
      view.transfers.push({
        target: id, package: cp.packageId, packageName: names.get(cp.packageId) ?? null, url: cp.url,
        bytesDone: cp.bytesDone, total: cp.expectedSize, resumePoint: cp.bytesDone,
      });
    }
    for (const p of packages) {
      view.packages.push({ target: id, id: p.id, name: p.name, state: p.state, required: p.required, savedPath: p.savedPath, runs: p.runs, lastResult: p.lastResult });
    }
    for (const o of store.outbox(['queued', 'rejected'])) {
      view.outbox.push({ target: id, seq: o.seq, summary: o.summary, state: o.state, attempts: o.attempts, lastError: o.lastError });
    }
  }
  for (const e of cache?.entries() ?? []) {
    if (e.complete) continue;
    // The partial file's length is what really arrived (written append-only): the resume point.
    const onDisk = existsSync(e.partPath) ? statSync(e.partPath).size : 0;
    view.transfers.push({
      target: 'station cache', package: e.packageId, packageName: packageNames.get(packageKey(e.packageId)) ?? null, url: e.url,
      bytesDone: onDisk, total: e.expectedSize, resumePoint: onDisk,
    });
  }
  return view;
}

/** The status of a station's data folder, running or not (the databases are opened for the call). */
export function readStatus(dataDir: string, now = Date.now()): StatusView {
  const stores = targetDbs(dataDir).map(({ kind, file }) => ({ kind, store: new ClientStore(file) }));
  const cacheDb = path.join(dataDir, 'cache', 'cache.sqlite');
  const cache = existsSync(cacheDb) ? new CacheStore(cacheDb) : null;
  try {
    const kit = readKitView(dataDir, cache);
    return { ...collectStatus(stores, cache, now, kit), settings: stationSettings(dataDir), server: storedContact(dataDir, stores, kit), fieldKit: kit };
  } finally {
    for (const { store } of stores) store.close();
    cache?.close();
  }
}

/**
 * The contact as the running station's header shows it (contact.ts), read from the databases: the station's
 * own target and the devices docked now (none, when no station holds the folder), with the kit's age.
 */
function storedContact(dataDir: string, stores: Array<{ kind: 'local' | 'tethered'; store: ClientStore }>, kit: KitView | undefined): ServerView {
  const live = lockHolder(dataDir) !== null;
  const server = stores.find((s) => s.kind === 'local')?.store.get('server') ?? '';
  const contact = contactState(stores.map(({ kind, store }) => ({
    session: { isOffline: () => false }, store,
    talks: kind === 'local' || (live && store.get('docked') === '1' && store.get('server') === server),
  })), server);
  return { ...contact, words: serverWords(contact, kit) };
}

/** The header's words for the contact: while it failed, the field kit's age. */
export function serverWords(contact: Contact, kit: Pick<KitView, 'asOf'> | undefined): string {
  return contact.state === 'unreachable' ? offlineWords(kit?.asOf ?? null) : '';
}

/** The field kit of a data folder, read from its index without a running station. */
export function readKitView(dataDir: string, cache: CacheStore | null): KitView | undefined {
  const file = kitDb(dataDir);
  if (!existsSync(file)) return undefined;
  const store = new KitStore(file);
  try {
    let configured: StationConfig['profiles'] = [];
    let chosen: string | undefined;
    try {
      ({ profiles: configured, defaultProfile: chosen } = readConfig(dataDir));
    } catch {
      // a broken station.json is reported under settings; the kit's own profiles are shown meanwhile
    }
    const profiles = effectiveProfiles(store, configured);
    const ready = (f: KitFileRecord) => {
      const e = cache?.entry(packageKey(f.packageId));
      const onDisk = statSync(path.join(cacheFolder(path.join(dataDir, 'cache'), f.packageId), 'file'), { throwIfNoEntry: false })?.size;
      return Boolean(e?.complete && e.sha256 === f.sha256 && onDisk === f.size);
    };
    return kitView(store, profiles, defaultProfileOf(store, profiles, chosen), ready);
  } finally {
    store.close();
  }
}

function stationSettings(dataDir: string): NonNullable<StatusView['settings']> {
  try {
    const { allowCommands, allowPrograms, rateLimit, maxUndeclaredDownloadBytes } = readConfig(dataDir);
    return { allowCommands, allowPrograms, rateLimit, maxUndeclaredDownloadBytes };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function formatSettings(s: NonNullable<StatusView['settings']>): string {
  if ('error' in s) return `settings: ${s.error}`;
  const programs = s.allowPrograms.length ? s.allowPrograms.join(', ') : 'none';
  return `settings: commands ${s.allowCommands ? 'allowed' : 'not allowed'}; station programs commands may use: ${programs}; ` +
    `rate limit ${s.rateLimit ? `${s.rateLimit} bytes/s` : 'none'}; downloads without a declared size stop at ${s.maxUndeclaredDownloadBytes} bytes`;
}

export function formatStatus(v: StatusView): string {
  const lines: string[] = [];
  if (v.settings) lines.push(formatSettings(v.settings));
  if (v.server?.state === 'unreachable') lines.push(`Server unreachable${v.server.problem ? ` (${v.server.problem})` : ''}; ${v.server.words}`);
  if (v.fieldKit?.profiles.length) {
    lines.push(`field kit from ${v.fieldKit.asOf ? kitTime(v.fieldKit.asOf) : '(no answer for the default profile)'}: ` +
      `${v.fieldKit.profiles.length} profile(s), default ${v.fieldKit.defaultProfile ?? 'none'} (dockhand kit status shows every part)`);
  }
  for (const d of v.devices) {
    lines.push(`device ${d.name} (${d.id}) ${d.state}${d.port ? ` on ${d.port}` : ''}${d.currentPackage ? `, installing ${d.currentPackage}` : ''}` +
      `${d.provisionedOffline ? `; ${provisionedOfflineWords(d.messagesWaiting)} (field kit profile ${d.kitProfile})` : ''}`);
  }
  for (const t of v.targets) lines.push(`target ${t.id} (${t.kind}) server ${t.server}; ${t.outboxQueued} message(s) waiting to be sent`);
  lines.push('', 'tasks:');
  for (const t of v.tasks) {
    lines.push(`  ${t.kind.padEnd(18)} ${(t.packageName ?? t.package).padEnd(28)} ${t.state.padEnd(7)} ${t.waitingFor}`);
  }
  if (v.transfers.length) {
    lines.push('', 'transfers:');
    for (const x of v.transfers) lines.push(`  ${(x.packageName ?? x.package).padEnd(28)} ${x.bytesDone}/${x.total ?? '?'} bytes, resumes at ${x.resumePoint}`);
  }
  const name = (id: string) => v.devices.find((d) => d.id === id)?.name ?? (v.targets.find((t) => t.id === id)?.kind === 'local' ? 'this station' : id);
  lines.push('', 'packages:');
  if (v.packages.length === 0) lines.push('  none yet');
  for (const p of v.packages) {
    lines.push(`  ${(p.name ?? p.id).padEnd(28)} ${name(p.target).padEnd(18)} ${p.state.padEnd(19)} ${p.lastResult ?? ''}`.trimEnd());
  }
  const queued = v.outbox.filter((o) => o.state === 'queued');
  lines.push('', `outbox: ${queued.length} message(s) waiting to be sent${v.outbox.length > queued.length ? `, ${v.outbox.length - queued.length} set aside (refused by the server)` : ''}`);
  for (const o of v.outbox) {
    lines.push(`  ${name(o.target).padEnd(18)} ${o.summary}${o.state === 'rejected' ? ' (set aside)' : ''}${o.lastError ? `: ${o.lastError}` : ''}`);
  }
  return lines.join('\n');
}
