// `server settings` option reading. Report blocks are named by --software-inventory / --file-collection
// / --machine-inventory; the --filter, --path and --recursive options that follow a block belong to it
// and pair up in order (the first --filter with the first --path, …).
import { parseDmDuration } from '../shared/protocol/index.js';
import type { FileFilterItem } from '../shared/protocol/types.js';
import type { ParsedArgs } from './cli-args.js';
import { InputError, parseCount, parseYesNo } from './input-error.js';
import type { SettingsChange } from './settings.js';

export const SETTINGS_OPTIONS = {
  data: 'value', device: 'value', 'poll-interval': 'value', 'retry-count': 'value', 'retry-interval': 'value',
  'poll-server': 'value', 'software-inventory': 'value', 'machine-inventory': 'value', 'file-collection': 'value',
  filter: 'value', path: 'value', recursive: 'value', 'report-interval': 'value',
} as const;

export function durationOption(option: string, text: string): number {
  try {
    return parseDmDuration(text);
  } catch (err) {
    throw new InputError(`--${option}: ${err instanceof Error ? err.message : String(err)} (e.g. 0000-00-00 00:05:00)`);
  }
}

function onOff(option: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === 'on') return true;
  if (t === 'off') return false;
  return parseYesNo(`--${option}`, text);
}

type BlockName = 'software-inventory' | 'file-collection' | 'machine-inventory';

interface BlockItems {
  filters: string[];
  paths: string[];
  recursive: boolean[];
}

function toItems(block: string, items: BlockItems): FileFilterItem[] {
  if (items.filters.length !== items.paths.length) {
    throw new InputError(`each --filter needs a --path after --${block} (got ${items.filters.length} filters and ${items.paths.length} paths)`);
  }
  if (items.recursive.length > items.filters.length) {
    throw new InputError(`--${block} has more --recursive options than --filter options`);
  }
  return items.filters.map((Filter, i) => ({
    Filter, Path: items.paths[i] ?? '', Recursive: items.recursive[i] ?? false, ExcludeCompressed: false, ExcludeEncrypted: false,
  }));
}

export function settingsChangeFromArgs(args: ParsedArgs): SettingsChange {
  const change: SettingsChange = {};
  const pi = args.get('poll-interval'); if (pi !== undefined) change.pollIntervalMs = durationOption('poll-interval', pi);
  const ri = args.get('retry-interval'); if (ri !== undefined) change.retryIntervalMs = durationOption('retry-interval', ri);
  const rp = args.get('report-interval'); if (rp !== undefined) change.reportIntervalMs = durationOption('report-interval', rp);
  const rc = args.get('retry-count'); if (rc !== undefined) change.retryCount = parseCount('--retry-count', rc);
  const ps = args.get('poll-server'); if (ps !== undefined) change.pollServer = ps;

  let current: BlockName | undefined;
  const items = new Map<BlockName, BlockItems>();
  for (const { name, value } of args.options) {
    if (name === 'software-inventory' || name === 'file-collection' || name === 'machine-inventory') {
      if (items.has(name) || (name === 'machine-inventory' && change.machineInventory)) throw new InputError(`--${name} is given more than once`);
      current = name;
      const enabled = onOff(name, value);
      if (name === 'machine-inventory') change.machineInventory = { enabled };
      else {
        items.set(name, { filters: [], paths: [], recursive: [] });
        if (name === 'software-inventory') change.softwareInventory = { enabled };
        else change.fileCollection = { enabled };
      }
    } else if (name === 'filter' || name === 'path' || name === 'recursive') {
      const block = current === undefined ? undefined : items.get(current);
      if (!block) {
        throw new InputError(`--${name} must follow --software-inventory or --file-collection (machine inventory takes no filters)`);
      }
      if (name === 'filter') block.filters.push(value);
      else if (name === 'path') block.paths.push(value);
      else block.recursive.push(parseYesNo('--recursive', value));
    }
  }
  for (const [block, list] of items) {
    if (list.filters.length === 0 && list.paths.length === 0 && list.recursive.length === 0) continue;
    const filters = toItems(block, list);
    if (block === 'software-inventory' && change.softwareInventory) change.softwareInventory.filters = filters;
    if (block === 'file-collection' && change.fileCollection) change.fileCollection.filters = filters;
  }
  return change;
}
