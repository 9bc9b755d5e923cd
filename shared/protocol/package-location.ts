// §9 Package Location Response (`PackageLocation`, server → device): where to fetch the package from.
// Locations come back sorted, lower metric first (spec A13); the engine takes the first usable one.
import type { PackageLocation, PackageLocationEntry } from './types.js';
import { El, openDocument } from './element.js';
import { formatDecimal, parseDecimal } from './numbers.js';
import { el, need, serialize, textEl } from './writer.js';
import type { ParseOptions } from './xml.js';

const DOC = 'PackageLocation';

export function parsePackageLocation(xml: string, options?: ParseOptions): PackageLocation {
  return readPackageLocation(openDocument(xml, DOC, options));
}

export function readPackageLocation(root: El): PackageLocation {
  const locations = root.require('Locations').all('Location');
  if (locations.length === 0) root.fail('no <Location> element: there is nowhere to download the package from', `${root.path}/Locations`);
  const entries = locations.map(readLocation);
  // Stable sort: ties (and locations without a metric, which go last) keep document order.
  const rank = (e: PackageLocationEntry): number => e.metric ?? Number.POSITIVE_INFINITY;
  const sorted = entries.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i).map((x) => x.e);
  return { PackageID: root.requireText('PackageID'), Locations: sorted };
}

function readLocation(loc: El): PackageLocationEntry {
  const entry: PackageLocationEntry = { Subnets: [] };
  const metric = loc.readAttr('metric', parseDecimal);
  if (metric !== undefined) entry.metric = metric;
  const smb = loc.child('SMB');
  if (smb !== undefined) entry.SMBPath = smb.requireText('SMBPath');
  const http = loc.child('HTTP');
  if (http !== undefined) entry.URL = http.requireText('URL');
  if (entry.SMBPath === undefined && entry.URL === undefined) {
    loc.fail('the location has neither <HTTP><URL> nor <SMB><SMBPath>');
  }
  const ds = loc.child('DirectoryService');
  if (ds !== undefined) entry.DirectoryServiceName = ds.requireText('Name');
  entry.Subnets = (loc.child('IPSubnets')?.all('Subnet') ?? []).map((s) => s.text()).filter((s) => s !== '');
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
