// The administrator subcommands of `dockhand server`. Each reads its options, calls admin.ts and prints
// a short result on stdout; errors are thrown as InputError and turned into exit code 2 by cli.ts.
import { parseDmDuration, parseFlags, formatFlags, formatDmDuration } from '../shared/protocol/index.js';
import type { RecurrenceBehavior } from '../shared/protocol/types.js';
import { parseArgs } from './cli-args.js';
import { InputError, parseYesNo } from './input-error.js';
import * as admin from './admin.js';
import { SETTINGS_OPTIONS, settingsChangeFromArgs } from './cli-settings.js';
import type { LogEntry } from './received-log.js';

type Out = (text: string) => void;

function wrapValue<T>(option: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new InputError(`--${option}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function behaviorOf(text: string): RecurrenceBehavior {
  const t = text.trim().toLowerCase();
  if (t === 'download and execute') return 'Download and Execute';
  if (t === 'execute only') return 'Execute Only';
  throw new InputError(`--behavior must be "Download and Execute" or "Execute Only", not '${text}'`);
}

export async function packageAdd(args: string[], out: Out): Promise<void> {
  const a = parseArgs(args, {
    data: 'value', file: 'value', name: 'value', id: 'value', required: 'value', flags: 'value', start: 'value',
    utc: 'flag', recur: 'value', behavior: 'value', dest: 'value', command: 'value', short: 'value', long: 'value',
    'source-files': 'value',
  });
  const dataDir = a.require('data', 'DIR');
  const o: admin.AddPackageOptions = { file: a.require('file', 'FILE'), name: a.require('name', 'NAME') };
  const id = a.get('id'); if (id !== undefined) o.id = id;
  const required = a.get('required'); if (required !== undefined) o.required = parseYesNo('--required', required);
  const flags = a.get('flags'); if (flags !== undefined) o.flags = wrapValue('flags', () => parseFlags(flags));
  const start = a.get('start'); if (start !== undefined) o.startTime = start;
  if (a.has('utc')) {
    if (start === undefined) throw new InputError('--utc only makes sense with --start');
    o.startUtc = true;
  }
  const recur = a.get('recur');
  const behavior = a.get('behavior');
  if (recur !== undefined) {
    o.recurrence = {
      intervalMs: wrapValue('recur', () => parseDmDuration(recur)),
      behavior: behavior === undefined ? 'Download and Execute' : behaviorOf(behavior),
    };
  } else if (behavior !== undefined) {
    throw new InputError('--behavior only makes sense with --recur');
  }
  const dest = a.get('dest'); if (dest !== undefined) o.localDestination = dest;
  const command = a.get('command'); if (command !== undefined) o.commandLine = command;
  const short = a.get('short'); if (short !== undefined) o.shortDescription = short;
  const long = a.get('long'); if (long !== undefined) o.longDescription = long;
  const sf = a.get('source-files'); if (sf !== undefined) o.sourceFiles = parseYesNo('--source-files', sf);
  const pkg = await admin.addPackage(dataDir, o);
  out(`${pkg.id}\n`);
}

export function packageList(args: string[], out: Out): void {
  const a = parseArgs(args, { data: 'value', json: 'flag' });
  const list = admin.listPackages(a.serverData());
  if (a.has('json')) {
    out(`${JSON.stringify(list, null, 2)}\n`);
    return;
  }
  if (list.length === 0) out('no packages\n');
  for (const p of list) {
    const extras = [
      p.required ? 'required' : 'optional',
      p.flags !== undefined ? `flags ${formatFlags(p.flags)}` : undefined,
      p.recurrence ? `every ${formatDmDuration(p.recurrence.intervalMs)} (${p.recurrence.behavior})` : undefined,
      `assigned to ${p.assignedTo.length ? p.assignedTo.join(', ') : 'nobody'}`,
    ].filter((x) => x !== undefined).join('; ');
    out(`${p.id}  ${p.name}  ${p.fileName} (${p.size} bytes)  ${extras}\n`);
  }
}

export async function packageRemove(args: string[], out: Out): Promise<void> {
  const a = parseArgs(args, { data: 'value', package: 'value' });
  const id = a.require('package', 'ID');
  await admin.removePackage(a.require('data', 'DIR'), id);
  out(`removed ${id}\n`);
}

export function assignCommand(args: string[], out: Out, undo: boolean): void {
  const a = parseArgs(args, { data: 'value', package: 'value', device: 'value' });
  const dataDir = a.require('data', 'DIR');
  const id = a.require('package', 'ID');
  const device = a.require('device', "DEVICE-ID (or '*' for every device)");
  if (undo) {
    const changed = admin.unassignPackage(dataDir, id, device);
    out(changed ? `unassigned ${id} from ${device}\n` : `${id} was not assigned to ${device}; nothing changed\n`);
  } else {
    const changed = admin.assignPackage(dataDir, id, device);
    out(changed ? `assigned ${id} to ${device}\n` : `${id} was already assigned to ${device}\n`);
  }
}

export function settingsCommand(args: string[], out: Out): void {
  const a = parseArgs(args, SETTINGS_OPTIONS);
  const dataDir = a.require('data', 'DIR');
  const device = a.get('device');
  const result = admin.setSettings(dataDir, settingsChangeFromArgs(a), device);
  out(`${JSON.stringify({ scope: device ?? '*', ...result }, null, 2)}\n`);
}

function describeEntry(e: LogEntry): string {
  switch (e.kind) {
    case 'poll': return `poll from ${e.deviceName}; told ${e.applicablePackages.length} package(s)`;
    case 'status': return `status ${e.messageID} for ${e.packageID} at ${e.timestamp || '(no timestamp)'}` +
      e.parameters.map((p) => ` ${p.name}=${p.value}`).join('');
    case 'softwareInventory': return `software inventory with ${e.report.Directories.length} top directory(ies)`;
    case 'machineInventory': return `machine inventory (${e.inventory.type}) with ${e.inventory.Items.length} item(s)`;
    case 'fileCollection': return `file ${e.devicePath} (${e.size} bytes) stored as ${e.storedAs}`;
  }
}

export function logCommand(args: string[], out: Out): void {
  const a = parseArgs(args, { data: 'value', device: 'value', json: 'flag' });
  const device = a.get('device');
  const entries = admin.readLog(a.serverData(), device === undefined ? {} : { deviceId: device });
  if (a.has('json')) {
    out(`${JSON.stringify(entries, null, 2)}\n`);
    return;
  }
  for (const e of entries) out(`${e.receivedAt}  ${e.deviceId}  ${describeEntry(e)}\n`);
}
