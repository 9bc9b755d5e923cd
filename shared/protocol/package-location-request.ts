// §8 Package Location Request (`PackageLocationRequest`, device → server), sent when a download event is due.
import type { ClientIPAddress, PackageLocationRequest } from './types.js';
import { El, openDocument } from './element.js';
import { el, need, serialize, textEl } from './writer.js';
import type { ParseOptions } from './xml.js';

const DOC = 'PackageLocationRequest';

export function parsePackageLocationRequest(xml: string, options?: ParseOptions): PackageLocationRequest {
  return readPackageLocationRequest(openDocument(xml, DOC, options));
}

export function readPackageLocationRequest(root: El): PackageLocationRequest {
  // The server needs only the package ID; the client location merely helps it pick a nearby server, so a
  // missing ClientLocation reads as "no hints" rather than failing the download.
  const loc = root.child('ClientLocation');
  const out: PackageLocationRequest = { PackageID: root.requireText('PackageID'), ClientLocation: { IPAddresses: [] } };
  const ds = loc?.child('DirectoryService');
  if (ds !== undefined) out.ClientLocation.DirectoryService = { Name: ds.requireText('Name') };
  const list = loc?.child('IPAddresses');
  out.ClientLocation.IPAddresses = (list?.all('IPAddress') ?? []).map((ip): ClientIPAddress =>
    ({ address: ip.requireAttr('address'), subnet: ip.attr('subnet') ?? '' }));
  return out;
}

export function buildPackageLocationRequest(v: PackageLocationRequest): string {
  const loc = v.ClientLocation;
  return serialize(el(DOC, [],
    textEl('PackageID', need(v.PackageID, DOC, `/${DOC}/PackageID`)),
    el('ClientLocation', [],
      loc.DirectoryService === undefined ? undefined : el('DirectoryService', [], textEl('Name', need(loc.DirectoryService.Name, DOC, `/${DOC}/ClientLocation/DirectoryService/Name`))),
      loc.IPAddresses.length === 0 ? undefined : el('IPAddresses', [],
        ...loc.IPAddresses.map((ip, i) => el('IPAddress', [
          ['address', need(ip.address, DOC, `/${DOC}/ClientLocation/IPAddresses/IPAddress[${i + 1}]/@address`)], ['subnet', ip.subnet]]))))),
  { declaration: true, namespace: true });
}
