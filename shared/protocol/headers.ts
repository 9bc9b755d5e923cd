// The X-Device-* HTTP headers (spec §2.3) that travel with every device→server POST.
// Header values are byte strings on the wire. Non-ASCII text (a file name with an umlaut) is sent as its
// UTF-8 bytes, as spec §13 recommends, each byte carried as one character U+0080–U+00FF: that is how
// Node's http and fetch put a string's characters on the wire (latin1), so the server receives exactly the
// UTF-8 bytes, and readDeviceHeaders turns them back into text.
import { ProtocolError, quote } from './errors.js';

export const HEADER = {
  UUID: 'X-Device-UUID',
  Auth: 'X-Device-Auth',
  Timestamp: 'X-Device-Timestamp',
  ClientVersion: 'X-Device-client-version',
  Action: 'X-Device-Action',
  ReportType: 'X-Device-ReportType',
  FullyQualifiedFilename: 'X-Device-FullyQualifiedFilename',
} as const;

/** `Status` is Dockhand's value for download status POSTs, which the documentation leaves open (spec A1). */
export type DeviceAction = 'Poll' | 'InstructionRequest' | 'LocationRequest' | 'Status' | 'Report';
export type ReportType = 'SoftwareInventory' | 'MachineInventory' | 'FileCollection';

export const DEVICE_ACTIONS: readonly DeviceAction[] = ['Poll', 'InstructionRequest', 'LocationRequest', 'Status', 'Report'];
export const REPORT_TYPES: readonly ReportType[] = ['SoftwareInventory', 'MachineInventory', 'FileCollection'];

export interface DeviceHeaders {
  uuid: string;
  auth: string;
  /** Opaque, as last received from the server; '' on the very first poll. */
  timestamp: string;
  clientVersion: string;
  action?: DeviceAction;
  reportType?: ReportType;
  fullyQualifiedFilename?: string;
}

const FIELDS: ReadonlyArray<[keyof DeviceHeaders, string]> = [
  ['uuid', HEADER.UUID],
  ['auth', HEADER.Auth],
  ['timestamp', HEADER.Timestamp],
  ['clientVersion', HEADER.ClientVersion],
  ['action', HEADER.Action],
  ['reportType', HEADER.ReportType],
  ['fullyQualifiedFilename', HEADER.FullyQualifiedFilename],
];

/** UTF-8 bytes of `text`, one character per byte, for an HTTP header value. */
export function encodeHeaderValue(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  return String.fromCharCode(...new TextEncoder().encode(text));
}

/** Reverses encodeHeaderValue; a value whose high bytes are not UTF-8 is kept as it came (latin1). */
export function decodeHeaderValue(raw: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(raw) || /[^\x00-\xff]/.test(raw)) return raw;
  const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return raw;
  }
}

/**
 * The header set for one POST. Empty values are sent (an empty X-Device-Timestamp is how a first poll looks);
 * a value with CR, LF or another control character is refused, since it could split or forge headers.
 */
export function buildDeviceHeaders(h: DeviceHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, name] of FIELDS) {
    const value = h[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new ProtocolError('HTTP headers', name, 'the value is not text');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      throw new ProtocolError('HTTP headers', name, `${quote(value)} contains a line break or control character`);
    }
    out[name] = encodeHeaderValue(value);
  }
  if (h.action !== undefined && !DEVICE_ACTIONS.includes(h.action)) {
    throw new ProtocolError('HTTP headers', HEADER.Action, `${quote(h.action)} is not a device action`);
  }
  if (h.reportType !== undefined && !REPORT_TYPES.includes(h.reportType)) {
    throw new ProtocolError('HTTP headers', HEADER.ReportType, `${quote(h.reportType)} is not a report type`);
  }
  return out;
}

/**
 * Reads whatever X-Device-* headers are present, by case-insensitive name. An action or report type that is
 * not one of the known words (in any case) is left out, so a server falls back to routing on the root
 * element (spec A1). File collection paths lose a doubled leading backslash (spec §13: `\\dir\f` = `\dir\f`).
 */
export function readDeviceHeaders(h: Record<string, string | string[] | undefined>): Partial<DeviceHeaders> {
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(h)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && !lower.has(name.toLowerCase())) lower.set(name.toLowerCase(), decodeHeaderValue(first.trim()));
  }
  const get = (name: string): string | undefined => lower.get(name.toLowerCase());
  const out: Partial<DeviceHeaders> = {};
  const uuid = get(HEADER.UUID); if (uuid !== undefined) out.uuid = uuid;
  const auth = get(HEADER.Auth); if (auth !== undefined) out.auth = auth;
  const timestamp = get(HEADER.Timestamp); if (timestamp !== undefined) out.timestamp = timestamp;
  const version = get(HEADER.ClientVersion); if (version !== undefined) out.clientVersion = version;
  const action = matchWord(get(HEADER.Action), DEVICE_ACTIONS); if (action !== undefined) out.action = action;
  const reportType = matchWord(get(HEADER.ReportType), REPORT_TYPES); if (reportType !== undefined) out.reportType = reportType;
  const file = get(HEADER.FullyQualifiedFilename);
  if (file !== undefined && file !== '') out.fullyQualifiedFilename = normalizeDevicePath(file);
  return out;
}

function matchWord<T extends string>(value: string | undefined, words: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  return words.find((w) => w.toLowerCase() === value.toLowerCase());
}

/** CE device paths start with one backslash; the documentation's sample doubles it. Forward slashes too. */
export function normalizeDevicePath(path: string): string {
  return path.replace(/\//g, '\\').replace(/^\\{2,}/, '\\');
}
