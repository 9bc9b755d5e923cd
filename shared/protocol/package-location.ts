// §9 Package Location Response (`PackageLocation`, server → device): where to fetch the package from.
// Locations come back sorted, lower metric first (spec A13); the engine takes the first usable one.
import type { PackageLocation, PackageLocationEntry } from './types.js';
import { ProtocolError } from './errors.js';
import { El, openDocument } from './element.js';
import { formatDecimal, parseDecimal } from './numbers.js';
import { el, need, serialize, textEl } from './writer.js';
import type { ParseOptions } from './xml.js';

const DOC = 'PackageLocation';

export function parsePackageLocation(xml: string, options?: ParseOptions): PackageLocation {
  return readPackageLocation(openDocument(xml, DOC, options));
}

export function readPackageLocation(root: El): PackageLocation {
  const list = root.require('Locations');
  const locations = list.all('Location');
  if (locations.length === 0) root.fail('no <Location> element: there is nowhere to download the package from', `${root.path}/Locations`);
  // A location the client cannot use is skipped (and noted); the package still downloads from the others.
  // When none is usable, the first one's problem is the answer's problem.
  const entries: PackageLocationEntry[] = [];
  let refused: unknown;
  for (const loc of locations) {
    try {
      entries.push(readLocation(loc));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      refused ??= err;
      loc.ignore(`this location is skipped: ${err.path}: ${err.problem}`);
    }
  }
  if (entries.length === 0) throw refused;
  // Stable sort: ties (and locations without a metric, which go last) keep document order.
  const rank = (e: PackageLocationEntry): number => e.metric ?? Number.POSITIVE_INFINITY;
  const sorted = entries.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i).map((x) => x.e);
  const result: PackageLocation = { PackageID: root.requireText('PackageID'), Locations: sorted };
  if (root.ignored.length > 0) result.ignored = root.ignored;
  return result;
}

function readLocation(loc: El): PackageLocationEntry {
  const entry: PackageLocationEntry = { Subnets: [] };
  // A metric that cannot be read only loses the location its rank: it is tried after the ranked ones.
  const metric = loc.lenient(() => loc.readAttr('metric', parseDecimal));
  if (metric !== undefined) entry.metric = metric;
  const smb = loc.lenient(() => loc.child('SMB')?.requireText('SMBPath'));
  if (smb !== undefined) entry.SMBPath = smb;
  const http = loc.child('HTTP');
  if (http !== undefined) entry.URL = http.requireText('URL');
  if (entry.SMBPath === undefined && entry.URL === undefined) {
    loc.fail('the location has neither <HTTP><URL> nor <SMB><SMBPath>');
  }
  const ds = loc.lenient(() => loc.child('DirectoryService')?.requireText('Name'));
  if (ds !== undefined) entry.DirectoryServiceName = ds;
  entry.Subnets = (loc.lenient(() => loc.child('IPSubnets'))?.all('Subnet') ?? []).map((s) => s.text()).filter((s) => s !== '');
  return entry;
}

export function buildPackageLocation(v: PackageLocation): string {
  v.Locations.forEach((l, i) => {
    // Readers refuse a location with nowhere to download from; so does the builder.
    if (l.SMBPath === undefined && l.URL === undefined) need(undefined, DOC, `/${DOC}/Locations/Location[${i + 1}]/HTTP/URL`);
  });
  return serialize(el(DOC, [],
    textEl('PackageID', need(v.PackageID, DOC, `/${DOC}/PackageID`)),
    el('Locations', [], ...v.Locations.map((l, i) => el('Location',
      [['metric', l.metric === undefined ? undefined : formatDecimal(l.metric, DOC, `/${DOC}/Locations/Location[${i + 1}]/@metric`)]],
      l.SMBPath === undefined ? undefined : el('SMB', [], textEl('SMBPath', need(l.SMBPath, DOC, `/${DOC}/Locations/Location[${i + 1}]/SMB/SMBPath`))),
      l.URL === undefined ? undefined : el('HTTP', [], textEl('URL', need(l.URL, DOC, `/${DOC}/Locations/Location[${i + 1}]/HTTP/URL`))),
      l.DirectoryServiceName === undefined ? undefined : el('DirectoryService', [], textEl('Name', l.DirectoryServiceName)),
      l.Subnets.length === 0 ? undefined : el('IPSubnets', [], ...l.Subnets.map((s) => textEl('Subnet', s))))))),
  { declaration: true, namespace: true });
}
