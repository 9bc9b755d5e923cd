// §4 Poll Request (`DevicePoll`, device → server). Real clients order the Identification children
// differently from the documentation and omit optional ones, so reading is order-insensitive. Writing follows
// the real CE 4.21 client, where the spec is silent (§4.3 "Ordering"): ID, DeviceName, UserName, [Domain],
// Platform, Processor, NetworkAdapter, CodePage, SystemDefaultLCID — a server written against a real device
// (one that reads with a stream parser, say) sees the order it knows.
import type { DevicePoll, NetworkAdapter } from './types.js';
import { El, openDocument } from './element.js';
import { formatDecimal, parseUint32 } from './numbers.js';
import { el, need, serialize, textEl } from './writer.js';
import type { ParseOptions } from './xml.js';

const DOC = 'DevicePoll';

export function parsePollRequest(xml: string, options?: ParseOptions): DevicePoll {
  return readPollRequest(openDocument(xml, DOC, options));
}

export function readPollRequest(root: El): DevicePoll {
  const ms = root.require('ManagementSystem');
  const id = root.require('Identification');
  const adapter = id.child('NetworkAdapter');
  // Connection is listed as required, but it only carries optional values: a missing one is read as empty.
  const connection = root.child('Connection');
  const poll: DevicePoll = {
    ManagementSystem: { Name: ms.requireText('Name'), Version: ms.requireText('Version') },
    Identification: {
      ID: id.requireText('ID'),
      DeviceName: id.requireText('DeviceName'),
      Platform: id.requireText('Platform'),
      Processor: id.requireText('Processor'),
      // The element tables spell it codePage; the element page and real clients write CodePage (errata 3).
      CodePage: id.required(['CodePage', 'codePage'], parseUint32),
      SystemDefaultLCID: id.required('SystemDefaultLCID', parseUint32),
    },
    Connection: {},
  };
  const userName = id.optionalText('UserName');
  if (userName !== undefined) poll.Identification.UserName = userName;
  const domain = id.optionalText('Domain');
  if (domain !== undefined) poll.Identification.Domain = domain;
  if (adapter !== undefined) {
    const na: NetworkAdapter = {};
    for (const key of ['IPAddress', 'IPSubnet', 'MAC'] as const) {
      const value = adapter.optionalText(key);
      if (value !== undefined) na[key] = value;
    }
    poll.Identification.NetworkAdapter = na;
  }
  const token = connection?.optionalText('AuthorizationToken');
  if (token !== undefined) poll.Connection.AuthorizationToken = token;
  const timestamp = connection?.optionalText('Timestamp');
  if (timestamp !== undefined) poll.Connection.Timestamp = timestamp;
  return poll;
}

export function buildPollRequest(v: DevicePoll): string {
  const id = v.Identification;
  const na = id.NetworkAdapter;
  return serialize(el(DOC, [],
    el('ManagementSystem', [], textEl('Name', req(v.ManagementSystem.Name, 'ManagementSystem/Name')),
      textEl('Version', req(v.ManagementSystem.Version, 'ManagementSystem/Version'))),
    el('Identification', [],
      textEl('ID', req(id.ID, 'Identification/ID')),
      textEl('DeviceName', req(id.DeviceName, 'Identification/DeviceName')),
      textEl('UserName', id.UserName),
      textEl('Domain', id.Domain),
      textEl('Platform', req(id.Platform, 'Identification/Platform')),
      textEl('Processor', req(id.Processor, 'Identification/Processor')),
      na === undefined ? undefined : el('NetworkAdapter', [],
        textEl('IPAddress', na.IPAddress), textEl('IPSubnet', na.IPSubnet), textEl('MAC', na.MAC)),
      textEl('CodePage', decimal(id.CodePage, 'CodePage')),
      textEl('SystemDefaultLCID', decimal(id.SystemDefaultLCID, 'SystemDefaultLCID'))),
    el('Connection', [],
      textEl('AuthorizationToken', v.Connection.AuthorizationToken),
      textEl('Timestamp', v.Connection.Timestamp)),
  ), { declaration: true, namespace: true });
}

function req(value: string, at: string): string {
  return need(value, DOC, `/${DOC}/${at}`);
}

function decimal(value: number, name: string): string {
  return formatDecimal(value, DOC, `/${DOC}/Identification/${name}`, 0xffffffff);
}
