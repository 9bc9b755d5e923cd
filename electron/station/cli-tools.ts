// The station's subcommands that work on its data folder, running or not: `status` (devices with their
// verdicts, tasks, transfers, packages, outbox), `accept` (an optional package) and `record` (the
// provisioning record as CSV or PDF). Each refuses a folder that holds no station instead of making one.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Device } from '../../shared/contract/station-api.js';
import { describeError } from '../../shared/model/errors.js';
import { placeOf } from '../../shared/model/place.js';
import { argProblem } from '../../cli/arg-problems.js';
import { ClientStore } from '../store/client-store.js';
import { CacheStore } from '../store/cache-store.js';
import { readStatus, formatStatus, targetDbs } from './status.js';
import { localTargetDb } from './station.js';
import { acceptPackage } from './station-commands.js';
import { defaultDataDir, lockHolder, requireStationData } from './data-folder.js';
import { slotLabels } from './slots.js';
import { deviceView } from './records/device-view.js';
import { buildRecord, parseSince, type ProvisioningRecord } from './records/record.js';
import { recordCsv } from './records/record-csv.js';
import { recordPdf } from './records/record-pdf.js';

export const TOOL_USAGE = {
  status: `usage: dockhand station status [--data DIR] [--json]

  What the station in DIR knows: each device with its verdict (done, failed and why, working, waiting for
  what, undocked mid-transfer), tasks and what each waits for, transfers with their resume points,
  packages, and the messages waiting to be sent. Works while the station runs.`,
  accept: `usage: dockhand station accept --package ID [--data DIR]

  Accepts an optional (Required: No) package for the station itself.`,
  record: `usage: dockhand station record [--data DIR] [--device ID]… [--since YYYY-MM-DD|today] (--csv FILE | --pdf FILE)

  The provisioning record: for each device its identity, slot, and every download event with the
  package's SHA-256, start and end, result and command exit code, with this station's ID and host.
  Without --device, every device (with events since --since, when given). --csv writes a spreadsheet,
  --pdf a printable page per device (with a batch summary first for several).`,
};

function fail(message: string, usage?: string): number {
  process.stderr.write(`dockhand station: ${message}\n${usage ? `${usage}\n` : ''}`);
  return 2;
}

type Spec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;

function parse(args: string[], options: Spec, usage: string): { values: Record<string, string | boolean | string[] | undefined> } | number {
  try {
    const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: { ...options, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    return { values };
  } catch (err) {
    return fail(argProblem(err, [...Object.keys(options), 'help']), usage);
  }
}

/** The devices of a data folder, read as the running station's service would show them. */
export function readDevices(dataDir: string, now = Date.now()): { stationId: string; devices: Device[] } {
  const local = new ClientStore(localTargetDb(dataDir));
  const cacheDb = path.join(dataDir, 'cache', 'cache.sqlite');
  const cache = new CacheStore(cacheDb);
  // A station holding the folder now keeps its devices' docked flags current; otherwise none is docked.
  const live = lockHolder(dataDir) !== null;
  try {
    const slots = slotLabels(local);
    const entries = cache.entries();
    const devices = targetDbs(dataDir).filter((t) => t.kind === 'tethered').map(({ file }) => {
      const store = new ClientStore(file);
      try {
        return deviceView(store, { cache: entries, slots, now, docked: live && store.get('docked') === '1', historyLimit: Infinity });
      } finally {
        store.close();
      }
    });
    return { stationId: local.get('id') ?? '?', devices };
  } finally {
    local.close();
    cache.close();
  }
}

export async function statusCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { data: { type: 'string' }, json: { type: 'boolean' } }, TOOL_USAGE.status);
  if (typeof parsed === 'number') return parsed;
  const dataDir = path.resolve(String(parsed.values.data ?? defaultDataDir()));
  try {
    requireStationData(dataDir);
  } catch (err) {
    return fail(describeError(err));
  }
  const view = readStatus(dataDir);
  const { devices } = readDevices(dataDir);
  if (parsed.values.json) {
    process.stdout.write(`${JSON.stringify({ ...view, board: devices }, null, 2)}\n`);
    return 0;
  }
  const lines = devices.map((d) => `${placeOf(d)} ${d.name} (${d.id}): ${d.verdict.words}${d.verdict.nextStep ? `\n    next: ${d.verdict.nextStep}` : ''}`);
  process.stdout.write(`${lines.length ? `${lines.join('\n')}\n\n` : ''}${formatStatus(view)}\n`);
  return 0;
}

export async function acceptCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { data: { type: 'string' }, package: { type: 'string' } }, TOOL_USAGE.accept);
  if (typeof parsed === 'number') return parsed;
  if (!parsed.values.package) return fail('accept needs --package ID', TOOL_USAGE.accept);
  const dataDir = path.resolve(String(parsed.values.data ?? defaultDataDir()));
  try {
    requireStationData(dataDir);
  } catch (err) {
    return fail(describeError(err));
  }
  const store = new ClientStore(localTargetDb(dataDir));
  try {
    process.stdout.write(`${acceptPackage(store, String(parsed.values.package), Date.now())}\n`);
  } catch (err) {
    return fail(describeError(err));
  } finally {
    store.close();
  }
  return 0;
}

export async function recordCommand(args: string[]): Promise<number> {
  const parsed = parse(args, {
    data: { type: 'string' }, device: { type: 'string', multiple: true }, since: { type: 'string' }, csv: { type: 'string' }, pdf: { type: 'string' },
  }, TOOL_USAGE.record);
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values;
  if (!v.csv && !v.pdf) return fail('record needs --csv FILE or --pdf FILE (or both)', TOOL_USAGE.record);
  const dataDir = path.resolve(String(v.data ?? defaultDataDir()));
  let rec: ProvisioningRecord;
  try {
    requireStationData(dataDir);
    const now = Date.now();
    const since = typeof v.since === 'string' ? parseSince(v.since, now) : null;
    const { stationId, devices } = readDevices(dataDir, now);
    rec = buildRecord(devices, { id: stationId, host: os.hostname() }, { devices: (v.device as string[] | undefined) ?? [], since, now });
  } catch (err) {
    return fail(describeError(err));
  }
  if (rec.devices.length === 0) return fail(v.since ? `no device has download events since ${String(v.since)}` : `no device has docked at the station in ${dataDir} yet`);
  try {
    if (typeof v.csv === 'string') writeFileSync(v.csv, recordCsv(rec));
    if (typeof v.pdf === 'string') writeFileSync(v.pdf, await recordPdf(rec));
  } catch (err) {
    process.stderr.write(`dockhand station: cannot write the record: ${describeError(err)}\n`);
    return 1;
  }
  const files = [v.csv, v.pdf].filter((f): f is string => typeof f === 'string').join(' and ');
  process.stdout.write(`record of ${rec.devices.length} device${rec.devices.length === 1 ? '' : 's'} written to ${files}\n`);
  return 0;
}
