// §5 Poll Response (`PollResponse`, server → device): the full list of packages the device should have,
// plus optional client and report settings.
import type { ClientSettings, FileFilterItem, PollResponse, PollResponseSettings, ReportSettings } from './types.js';
import { El, openDocument } from './element.js';
import { parseBoolean, formatBoolean } from './booleans.js';
import { formatDmDuration, parsePositiveDmDuration } from './dmtime.js';
import { formatDecimal, parseUint32 } from './numbers.js';
import { ProtocolError, inContext } from './errors.js';
import { el, need, serialize, textEl, type XNode } from './writer.js';
import type { ParseOptions } from './xml.js';

const DOC = 'PollResponse';
const REPORT_BLOCKS = ['SoftwareInventorySettings', 'FileCollectionSettings', 'MachineInventorySettings'] as const;

export function parsePollResponse(xml: string, options?: ParseOptions): PollResponse {
  return readPollResponse(openDocument(xml, DOC, options));
}

export function readPollResponse(root: El): PollResponse {
  const settings: PollResponseSettings = {};
  const s = root.child('Settings');
  const cs = s?.child('ClientSettings');
  if (cs !== undefined) settings.ClientSettings = readClientSettings(cs);
  for (const block of REPORT_BLOCKS) {
    const r = s?.child(block);
    if (r !== undefined) settings[block] = readReportSettings(r);
  }
  // No ApplicablePackages is not the same as an empty one: the device removes every package that is not
  // listed, so a response that forgot the list must not be read as "remove everything".
  const list = root.require('ApplicablePackages');
  const ids: string[] = [];
  for (const pkg of list.all('Package')) {
    const id = pkg.requireAttr('ID');
    if (!ids.includes(id)) ids.push(id);
  }
  return { Settings: settings, ApplicablePackages: ids };
}

function readClientSettings(cs: El): ClientSettings {
  const out: ClientSettings = {};
  const version = cs.attr('version');
  if (version !== undefined && version !== '') out.version = version;
  const server = cs.optionalText('PollServer');
  if (server !== undefined) out.PollServer = server;
  const interval = cs.optional('PollInterval', parsePositiveDmDuration);
  if (interval !== undefined) out.PollInterval = interval;
  const count = cs.optional('FailureRetryCount', parseUint32);
  if (count !== undefined) out.FailureRetryCount = count;
  const retry = cs.optional('FailureRetryInterval', parsePositiveDmDuration);
  if (retry !== undefined) out.FailureRetryInterval = retry;
  return out;
}

function readReportSettings(r: El): ReportSettings {
  // A block without Enabled is enabled (spec A12); attributes such as version="1.0" are accepted and ignored.
  const out: ReportSettings = { Enabled: r.optional('Enabled', parseBoolean) ?? true, FileFilterItems: [] };
  const interval = r.optional('Interval', parsePositiveDmDuration);
  if (interval !== undefined) out.Interval = interval;
  out.FileFilterItems = r.all('FileFilterItem').map(readFileFilterItem);
  return out;
}

function readFileFilterItem(f: El): FileFilterItem {
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
    el('ApplicablePackages', [], ...v.ApplicablePackages.map((id, i) =>
      el('Package', [['ID', need(id, DOC, `/${DOC}/ApplicablePackages/Package[${i + 1}]/@ID`)]]))),
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
