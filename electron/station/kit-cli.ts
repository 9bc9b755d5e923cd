// `dockhand kit …`: the field kit of a station's data folder (docs/field-kit.md) — what it holds and how old
// it is, a refresh from the server, and kit files to carry it to a station that never reached the server.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { describeError } from '../../shared/model/errors.js';
import { formatBytes } from '../../shared/model/units.js';
import { kitTime, type KitView } from '../../shared/model/field-kit.js';
import { describeDelay } from '../../shared/model/wait.js';
import { KitStore } from '../store/kit-store.js';
import { CacheStore } from '../store/cache-store.js';
import { ClientStore } from '../store/client-store.js';
import { PackageCache } from '../engine/package-cache.js';
import { RateLimiter } from '../engine/transfer/rate-limiter.js';
import { systemClock } from '../engine/clock.js';
import { defaultProfileOf, effectiveProfiles } from '../engine/kit/kit-view.js';
import { claimDataFolder, defaultDataDir } from './data-folder.js';
import { argProblem } from '../../cli/arg-problems.js';
import { didYouMean } from '../../shared/model/did-you-mean.js';
import { parseProfile, readConfig } from './config.js';
import { deviceEndpoint } from './runtime.js';
import { kitDb, localTargetDb, Station } from './station.js';
import { readKitView } from './status.js';
import { exportKit } from './kit-export.js';
import { importKit } from './kit-import.js';
import type { KitFileSummary } from './kit-manifest.js';
import { createReporter } from './progress.js';

const USAGE = {
  status: `usage: dockhand kit status [--data DIR] [--json]

  What the field kit holds, per profile: the poll answer, and per package its instructions, its location
  answer and its file in the station cache (verified), each with when it was fetched.`,
  refresh: `usage: dockhand kit refresh [--data DIR] [--server URL] [--profile NAME=DEVICE-ID]…

  Asks the server again as every profile: a poll, the instructions of every listed package, a location for
  packages whose bytes the cache lacks, and those bytes. --profile names a profile (kept in the kit).
  The station must not be running on DIR (it refreshes by itself after every poll of a profile).`,
  export: `usage: dockhand kit export --file FILE [--data DIR]

  Writes the whole kit to FILE: a tar archive with a manifest first (the size and SHA-256 of every part),
  then the server's answers and the package files. It carries no X-Device-Auth value.`,
  import: `usage: dockhand kit import --file FILE [--data DIR]

  Loads a kit file into the station in DIR (one that never reached the server, say), replacing its kit.
  Every part is checked against the manifest; a truncated or altered file is refused whole, naming the bad
  part, and nothing of it is kept. The station must not be running on DIR.`,
} as const;

const usage = `usage: dockhand kit <status|refresh|export|import> [options]

The field kit holds, per profile (a device identity the server knows), the server's last answers and the
package files, so that docked devices are provisioned when the server cannot be reached (docs/field-kit.md).
'dockhand kit COMMAND --help' explains each command.`;

type Sub = keyof typeof USAGE;
const OPTIONS: Record<Sub, Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>> = {
  status: { data: { type: 'string' }, json: { type: 'boolean' } },
  refresh: { data: { type: 'string' }, server: { type: 'string' }, profile: { type: 'string', multiple: true } },
  export: { data: { type: 'string' }, file: { type: 'string' } },
  import: { data: { type: 'string' }, file: { type: 'string' } },
};

function fail(message: string, code = 2): number {
  process.stderr.write(`dockhand kit: ${message}\n`);
  return code;
}

export async function kitCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${usage}\n`);
    return sub ? 0 : 2;
  }
  if (!(sub in USAGE)) {
    const near = didYouMean(sub, Object.keys(USAGE));
    return fail(`unknown kit command '${sub}'${near ? `; did you mean 'dockhand kit ${near}'?` : ''}\n${usage}`);
  }
  const name = sub as Sub;
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({ args: rest, strict: true, allowPositionals: false, options: { ...OPTIONS[name], help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    return fail(`${argProblem(err, [...Object.keys(OPTIONS[name]), 'help'])}\n${USAGE[name]}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE[name]}\n`);
    return 0;
  }
  const dataDir = path.resolve(String(values.data ?? defaultDataDir()));
  const file = typeof values.file === 'string' ? values.file : undefined;
  try {
    switch (name) {
      case 'status': return status(dataDir, values.json === true);
      case 'refresh': return await withFolder(dataDir, () => refresh(dataDir, values.server as string | undefined, (values.profile as string[] | undefined) ?? []));
      case 'export': return file ? await exportCommand(dataDir, file) : fail(`export needs --file FILE\n${USAGE.export}`);
      case 'import': return file ? await withFolder(dataDir, () => importCommand(dataDir, file)) : fail(`import needs --file FILE\n${USAGE.import}`);
    }
  } catch (err) {
    return fail(describeError(err));
  }
}

/** Refresh and import write the kit and the cache: they take the data folder's lock, as a station does. */
async function withFolder(dataDir: string, run: () => Promise<number>): Promise<number> {
  const release = claimDataFolder(dataDir);
  try {
    return await run();
  } finally {
    release();
  }
}

function readView(dataDir: string): KitView | undefined {
  const cacheDb = path.join(dataDir, 'cache', 'cache.sqlite');
  const cache = existsSync(cacheDb) ? new CacheStore(cacheDb) : null;
  try {
    return readKitView(dataDir, cache);
  } finally {
    cache?.close();
  }
}

function status(dataDir: string, json: boolean): number {
  const view = readView(dataDir) ?? { asOf: null, defaultProfile: null, profiles: [] };
  process.stdout.write(json ? `${JSON.stringify(view, null, 2)}\n` : `${formatKit(view, Date.now())}\n`);
  return 0;
}

/** The kit in lines: per profile its poll answer's age, and per package what is held and how old. */
export function formatKit(v: KitView, now: number): string {
  if (v.profiles.length === 0) {
    return 'the field kit is empty: it fills while the station reaches the server (every docked device is a profile), ' +
      'or name profiles with --profile NAME=DEVICE-ID; dockhand kit import --file FILE loads one';
  }
  const age = (at: string | null) => (at ? `${kitTime(at)} (${describeDelay(now - Date.parse(at))} ago)` : 'missing');
  const lines = [`field kit from ${v.asOf ? kitTime(v.asOf) : '(no answer for the default profile)'}; default profile: ${v.defaultProfile ?? 'none'}`];
  for (const p of v.profiles) {
    lines.push('', `profile ${p.name} (${p.deviceId})${p.isDefault ? ', default' : ''}, ${p.origin}: poll answer ${age(p.polledAt)}; ` +
      `${p.packages.length} package(s)${p.refreshedAt ? `; last complete refresh ${kitTime(p.refreshedAt)}` : ''}`);
    for (const k of p.packages) {
      const file = k.noFiles ? 'no files to download' : k.fileReady ? `file ${formatBytes(k.size ?? 0)} ${age(k.fileAt)}, verified` : 'file missing';
      lines.push(`  ${(k.name ?? k.id).padEnd(28)} instructions ${age(k.instructionsAt)}; location ${age(k.locationAt)}; ${file}`);
    }
  }
  return lines.join('\n');
}

async function refresh(dataDir: string, server: string | undefined, profileArgs: string[]): Promise<number> {
  const config = readConfig(dataDir);
  const given = profileArgs.map(parseProfile);
  const url = server ?? config.server;
  if (!url) return fail('no server to refresh from: give --server URL (or set server in station.json)');
  const profiles = [...config.profiles.filter((p) => !given.some((g) => g.name === p.name)), ...given];
  const report = createReporter(process.stdout);
  const station = await Station.open({
    dataDir, server: deviceEndpoint(url), profiles, ...(config.defaultProfile ? { defaultProfile: config.defaultProfile } : {}),
    rateLimit: config.rateLimit, maxUndeclaredDownloadBytes: config.maxUndeclaredDownloadBytes, emit: report,
  });
  try {
    const names = station.kit.profiles();
    if (names.length === 0) return fail('the field kit has no profiles yet: dock a device while the server can be reached, or name one with --profile NAME=DEVICE-ID');
    const started = station.clock.now();
    await station.kit.refresh();
    const view = station.kit.view();
    const stale = view.profiles.filter((p) => !p.refreshedAt || Date.parse(p.refreshedAt) < started);
    process.stdout.write(`${formatKit(view, station.clock.now())}\n`);
    if (stale.length) return fail(`${stale.map((p) => p.name).join(', ')} could not be refreshed (see above); the kit keeps what it held`, 1);
    return 0;
  } finally {
    station.close();
  }
}

/** The data folder's kit index and cache, for export and import (the station itself need not run). */
function openKit(dataDir: string): { store: KitStore; cache: PackageCache; close(): void } {
  const store = new KitStore(kitDb(dataDir));
  const cache = new PackageCache(path.join(dataDir, 'cache'), new RateLimiter(0), systemClock);
  return { store, cache, close: () => { store.close(); cache.close(); } };
}

function summary(verb: string, s: KitFileSummary): string {
  return `${verb} ${s.file}: ${s.profiles.length} profile(s) (${s.profiles.join(', ')}), ${s.answers} server answer(s), ` +
    `${s.files} package file(s), ${formatBytes(s.bytes)}` +
    (s.missing.length ? `; not in the station cache, so not in the file: ${s.missing.join(', ')} (dockhand kit refresh fetches them)` : '');
}

async function exportCommand(dataDir: string, file: string): Promise<number> {
  if (!existsSync(kitDb(dataDir))) return fail(`${dataDir} holds no field kit yet`);
  const config = readConfig(dataDir);
  const kit = openKit(dataDir);
  try {
    const profiles = effectiveProfiles(kit.store, config.profiles);
    const local = existsSync(localTargetDb(dataDir)) ? new ClientStore(localTargetDb(dataDir), { readonly: true }) : null;
    const station = local?.get('id') ?? '';
    local?.close();
    const s = await exportKit({
      dataDir, store: kit.store, cache: kit.cache, profiles, defaultProfile: defaultProfileOf(kit.store, profiles, config.defaultProfile),
      station, now: Date.now(),
    }, file);
    process.stdout.write(`${summary('wrote', s)}\n`);
    return 0;
  } finally {
    kit.close();
  }
}

async function importCommand(dataDir: string, file: string): Promise<number> {
  const kit = openKit(dataDir);
  try {
    const s = await importKit({ dataDir, store: kit.store, cache: kit.cache }, file);
    process.stdout.write(`${summary('imported', s)}\n`);
    return 0;
  } finally {
    kit.close();
  }
}
