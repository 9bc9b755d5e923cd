// §5 Poll Response (`PollResponse`, server → device): the full list of packages the device should have,
// plus optional client and report settings.
import type { ClientSettings, FileFilterItem, PollResponse, PollResponseSettings, ReportSettings } from './types.js';
import { El, openDocument } from './element.js';
import { trimXml } from './xml-space.js';
import { parsePollServer } from './poll-server.js';
import { parseBoolean, formatBoolean } from './booleans.js';
import { formatDmDuration, parsePositiveDmDuration } from './dmtime.js';
import { formatDecimal, parseUint32 } from './numbers.js';
import { ProtocolError, inContext } from './errors.js';
import { el, need, serialize, textEl, type XNode } from './writer.js';
import type { ParseOptions, XmlNode } from './xml.js';
import { runToEnd, SliceClock, type Stepper } from './work-slices.js';

const DOC = 'PollResponse';
const REPORT_BLOCKS = ['SoftwareInventorySettings', 'FileCollectionSettings', 'MachineInventorySettings'] as const;
const ROOT_CHILDREN = new Set(['Settings', 'ApplicablePackages']);
const SETTINGS_CHILDREN = new Set<string>(['ClientSettings', ...REPORT_BLOCKS]);
const CLIENT_SETTINGS_CHILDREN = new Set(['PollServer', 'PollInterval', 'FailureRetryCount', 'FailureRetryInterval']);
const REPORT_BLOCK_CHILDREN = new Set(['Enabled', 'Interval', 'FileFilterItem']);
const FILTER_ITEM_CHILDREN = new Set(['Filter', 'Path', 'Recursive', 'ExcludeCompressed', 'ExcludeEncrypted']);
const PACKAGE_LIST_CHILDREN = new Set(['Package']);

/**
 * A poll response lists every package of a device; 4 MiB holds some 70,000 of them (1 MiB, the limit of the
 * other control documents, would stop near 18,000). It matches the largest answer the station takes at all.
 */
export const MAX_POLL_RESPONSE_BYTES = 4 * 1024 * 1024;

export function parsePollResponse(xml: string, options?: ParseOptions): PollResponse {
  const reader = pollResponseReader(openDocument(xml, DOC, options, MAX_POLL_RESPONSE_BYTES));
  runToEnd(reader.step);
  return reader.result();
}

export function readPollResponse(root: El): PollResponse {
  const reader = pollResponseReader(root);
  runToEnd(reader.step);
  return reader.result();
}

/**
 * Reads leniently (the reception rule, docs/protocol-decisions.md): a setting or filter item that cannot be
 * read is left out and noted in `ignored`, and everything else applies. Only the package list is treated
 * with care, since the client removes what is not listed: when it is missing or a Package cannot be read,
 * `packageListIncomplete` says why, and the client must then remove nothing. The package list, the one part
 * that may be long, is read in slices (`step`).
 */
function pollResponseReader(root: El): { step: Stepper; result: () => PollResponse } {
  root.ignoreUnknown(ROOT_CHILDREN);
  const settings: PollResponseSettings = {};
  const s = root.lenient(() => root.child('Settings'));
  if (s !== undefined) {
    s.ignoreUnknown(SETTINGS_CHILDREN);
    const cs = s.lenient(() => s.child('ClientSettings'));
    if (cs !== undefined) settings.ClientSettings = readClientSettings(cs);
    for (const block of REPORT_BLOCKS) {
      const r = s.lenient(() => s.child(block));
      const read = r === undefined ? undefined : readReportSettings(r);
      if (read !== undefined) settings[block] = read;
    }
  }
  const result: PollResponse = { Settings: settings, ApplicablePackages: [] };
  const repeated = root.all('ApplicablePackages');
  const lists = repeated.length === 1 ? [root.require('ApplicablePackages')] : repeated;
  const unreadable: string[] = [];
  if (lists.length === 0) {
    root.ignore('missing <ApplicablePackages>: no package is acquired or removed until a poll lists them', `${root.path}/ApplicablePackages`);
    unreadable.push('the answer has no <ApplicablePackages>');
  } else if (lists.length > 1) {
    unreadable.push(`the answer has ${lists.length} <ApplicablePackages> lists`);
  }
  for (const list of lists) list.ignoreUnknown(PACKAGE_LIST_CHILDREN);
  // No ApplicablePackages is not the same as an empty one, and a Package without an ID could be any package:
  // the device removes every package that is not listed, so an unreadable list must never remove anything.
  const seen = new Set<string>();
  const clock = new SliceClock();
  let listIndex = 0;
  let childIndex = 0;
  let n = 0; // Package number within the current list, for paths
  const step: Stepper = (deadline) => {
    for (; listIndex < lists.length; listIndex++, childIndex = 0, n = 0) {
      const list = lists[listIndex] as El;
      const children = list.node.children;
      // Read straight from the nodes, no El each: this list holds every package of a fleet.
      for (; childIndex < children.length; childIndex++) {
        if (clock.due(deadline)) return false;
        const node = children[childIndex] as XmlNode;
        if (node.ns !== '' || node.name !== 'Package') continue;
        n += 1;
        const id = trimXml(node.attrs.get('ID') ?? '');
        if (id !== '') {
          if (!seen.has(id)) result.ApplicablePackages.push(id);
          seen.add(id);
          continue;
        }
        const at = `${list.path}/Package[${n}]`;
        list.ignore(node.attrs.has('ID') ? 'attribute ID is empty' : 'missing required attribute ID', at);
        unreadable.push(`${at} has no ID`);
      }
    }
    return true;
  };
  return {
    step,
    result: () => {
      if (unreadable.length > 0) {
        result.packageListIncomplete = `${unreadable.slice(0, 3).join('; ')}${unreadable.length > 3 ? `; and ${unreadable.length - 3} more` : ''}`;
      }
      if (root.ignored.length > 0) result.ignored = root.ignored;
      return result;
    },
  };
}

function readClientSettings(cs: El): ClientSettings {
  cs.ignoreUnknown(CLIENT_SETTINGS_CHILDREN);
  const out: ClientSettings = {};
  const version = cs.attr('version');
  if (version !== undefined && version !== '') out.version = version;
  // Each setting on its own: one the client cannot read keeps its current value (said in `ignored`).
  const keep = (what: string) => `; the current ${what} is kept`;
  const server = cs.lenient(() => keepCurrent(() => cs.optional('PollServer', (t) => { parsePollServer(t); return t.trim(); }), keep('poll server')));
  if (server !== undefined) out.PollServer = server;
  const interval = cs.lenient(() => keepCurrent(() => cs.optional('PollInterval', parsePositiveDmDuration), keep('poll interval')));
  if (interval !== undefined) out.PollInterval = interval;
  const count = cs.lenient(() => keepCurrent(() => cs.optional('FailureRetryCount', parseUint32), keep('retry count')));
  if (count !== undefined) out.FailureRetryCount = count;
  const retry = cs.lenient(() => keepCurrent(() => cs.optional('FailureRetryInterval', parsePositiveDmDuration), keep('retry interval')));
  if (retry !== undefined) out.FailureRetryInterval = retry;
  return out;
}

/** Adds what the client does instead to a reader's problem. */
function keepCurrent<T>(read: () => T, instead: string): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ProtocolError) throw new ProtocolError(err.document, err.path, `${err.problem}${instead}`, { cause: err });
    throw err;
  }
}

function readReportSettings(r: El): ReportSettings | undefined {
  r.ignoreUnknown(REPORT_BLOCK_CHILDREN);
  // Enabled and Interval decide whether and when a report goes out: a block where either cannot be read is
  // left out whole, which keeps the previous setting (an absent block does, spec §5.2).
  const head = r.lenient(() => keepCurrent(() => ({
    // A block without Enabled is enabled (spec A12); attributes such as version="1.0" are accepted and ignored.
    enabled: r.optional('Enabled', parseBoolean) ?? true,
    interval: r.optional('Interval', parsePositiveDmDuration),
  }), `; the whole <${r.name}> block is skipped and the previous ${r.name} are kept`));
  if (head === undefined) return undefined;
  const out: ReportSettings = { Enabled: head.enabled, FileFilterItems: [] };
  if (head.interval !== undefined) out.Interval = head.interval;
  for (const item of r.all('FileFilterItem')) {
    const f = item.lenient(() => keepCurrent(() => readFileFilterItem(item), '; this filter item is skipped'));
    if (f !== undefined) out.FileFilterItems.push(f);
  }
  return out;
}

function readFileFilterItem(f: El): FileFilterItem {
  f.ignoreUnknown(FILTER_ITEM_CHILDREN);
  // An item without a Filter or a Path selects nothing a technician could name: it is skipped, never guessed
  // (a guessed "every file under \" would upload a whole device in a file collection).
  return {
    Filter: f.requireText('Filter'),
    Path: f.requireText('Path'),
    Recursive: f.optional('Recursive', parseBoolean) ?? false,
    ExcludeCompressed: f.optional('ExcludeCompressed', parseBoolean) ?? false,
    ExcludeEncrypted: f.optional('ExcludeEncrypted', parseBoolean) ?? false,
  };
}

export function buildPollResponse(v: PollResponse): string {
  const s = v.Settings ?? {};
  const cs = s.ClientSettings;
  const blocks = REPORT_BLOCKS.map((name) => reportBlock(name, s[name]));
  const hasSettings = cs !== undefined || blocks.some((b) => b !== undefined);
  return serialize(el(DOC, [],
    hasSettings ? el('Settings', [],
      cs === undefined ? undefined : el('ClientSettings', [['version', cs.version]],
        textEl('PollServer', cs.PollServer),
        textEl('PollInterval', duration(cs.PollInterval, 'Settings/ClientSettings/PollInterval')),
        textEl('FailureRetryCount', cs.FailureRetryCount === undefined ? undefined
          : formatDecimal(cs.FailureRetryCount, DOC, `/${DOC}/Settings/ClientSettings/FailureRetryCount`, 0xffffffff)),
        textEl('FailureRetryInterval', duration(cs.FailureRetryInterval, 'Settings/ClientSettings/FailureRetryInterval'))),
      ...blocks) : undefined,
    { name: 'ApplicablePackages', more: { count: v.ApplicablePackages.length, make: (i) =>
      el('Package', [['ID', need(v.ApplicablePackages[i] as string, DOC, `/${DOC}/ApplicablePackages/Package[${i + 1}]/@ID`)]]) } },
  ), { declaration: true, namespace: true });
}

function reportBlock(name: string, r: ReportSettings | undefined): XNode | undefined {
  if (r === undefined) return undefined;
  // Enabled is always written, in every block, so a client never has to guess (spec A12).
  return el(name, [],
    textEl('Enabled', formatBoolean(r.Enabled)),
    textEl('Interval', duration(r.Interval, `Settings/${name}/Interval`)),
    ...r.FileFilterItems.map((f) => el('FileFilterItem', [],
      textEl('Filter', need(f.Filter, DOC, `/${DOC}/Settings/${name}/FileFilterItem/Filter`)),
      textEl('Path', need(f.Path, DOC, `/${DOC}/Settings/${name}/FileFilterItem/Path`)),
      textEl('Recursive', formatBoolean(f.Recursive)),
      textEl('ExcludeCompressed', formatBoolean(f.ExcludeCompressed)),
      textEl('ExcludeEncrypted', formatBoolean(f.ExcludeEncrypted)))));
}

function duration(ms: number | undefined, at: string): string | undefined {
  if (ms === undefined) return undefined;
  // A zero interval would make a client poll or report in a tight loop; readers refuse it too.
  if (!(ms >= 1000)) throw new ProtocolError(DOC, `/${DOC}/${at}`, `${String(ms)} ms is not a positive duration of at least one second`);
  return inContext(DOC, `/${DOC}/${at}`, () => formatDmDuration(ms));
}
