// `ClientSettings/PollServer` (spec §2.1, §5.2, §17): the name of the management server the client polls
// next. A CE client substitutes it into its `SvrFmt` format string, `https://%s/devicemgmt/server.aspx`, so
// the value is a host name — and, since `%s` is plain text, `host:port` works too. Dockhand reads:
//
//   dm.example.com            → <scheme>://dm.example.com/devicemgmt/server.aspx (the scheme's default port)
//   dm.example.com:8080       → <scheme>://dm.example.com:8080/devicemgmt/server.aspx
//   [fd00::7] / [fd00::7]:8080 / fd00::7   → the same with an IPv6 literal
//   http(s)://host[:port]/path → exactly that URL (a Dockhand extension; a CE client would not accept it)
//
// where <scheme> is the scheme of the URL the station polls now: SvrFmt fixes the scheme, PollServer only
// names the host. Anything else (spaces, paths without a scheme, user names, other schemes, bad ports) is
// refused with a ProtocolError, which the poll reader turns into an ignored setting.
import { ProtocolError, quote } from './errors.js';

/** The path of `SvrFmt` (spec §2.1; the documented `server/aspx` is a typo for the path real servers use). */
export const DM_SERVER_PATH = '/devicemgmt/server.aspx';

export interface PollServerAddress {
  /** Only for a full URL; otherwise the station keeps the scheme it polls with. */
  scheme?: 'http' | 'https';
  /** Host as it goes into a URL: a name, an IPv4 address, or an IPv6 literal in brackets. */
  host: string;
  port?: number;
  /** Path and query; only for a full URL. */
  path?: string;
}

const fail = (text: string, problem: string): never => {
  throw new ProtocolError('PollServer', '', `${quote(text)} ${problem}`);
};

/** A host name or address as a URL would write it, or undefined when it is none. */
function urlHost(host: string): string | undefined {
  // Characters that would change what the URL means (a path, credentials, a query) are never a host.
  if (host === '' || /[\s/\\?#@%]/.test(host)) return undefined;
  try {
    const url = new URL(`http://${host}/`);
    return url.hostname === '' ? undefined : url.host;
  } catch {
    return undefined;
  }
}

function port(text: string, digits: string): number {
  const value = /^[0-9]{1,5}$/.test(digits) ? Number(digits) : NaN;
  if (!(value >= 1 && value <= 65535)) fail(text, `has the port '${digits}'; a port is a number from 1 to 65535`);
  return value;
}

export function parsePollServer(raw: string): PollServerAddress {
  const text = raw.trim();
  if (text === '') fail(raw, 'is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return parseUrl(text);
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const host = urlHost(`[${bracketed[1] ?? ''}]`) ?? fail(text, 'is not an IPv6 address in brackets');
    return bracketed[2] === undefined ? { host } : { host, port: port(text, bracketed[2]) };
  }
  const colons = text.split(':').length - 1;
  if (colons >= 2) {
    // A bare IPv6 address: no port can follow it without brackets.
    return { host: urlHost(`[${text}]`) ?? fail(text, 'is neither a host name nor an IPv6 address') };
  }
  const [name = '', portText] = text.split(':');
  const host = urlHost(name) ?? fail(text, 'is not a host name, host:port or http(s):// URL');
  return portText === undefined ? { host } : { host, port: port(text, portText) };
}

function parseUrl(text: string): PollServerAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(text, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(text, 'is not an http:// or https:// URL');
  if (url.username !== '' || url.password !== '') fail(text, 'carries a user name or password; the station does not send credentials in a URL');
  if (url.hash !== '') fail(text, 'has a #fragment, which no server address has');
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const path = `${url.pathname}${url.search}`;
  return { scheme, host: url.hostname.includes(':') && !url.hostname.startsWith('[') ? `[${url.hostname}]` : url.hostname,
    ...(url.port === '' ? {} : { port: Number(url.port) }), path };
}

/** The URL the station polls after `PollServer`: see the file comment; `current` gives the scheme. */
export function pollServerUrl(current: string, address: PollServerAddress): string {
  let scheme = address.scheme;
  if (scheme === undefined) {
    try {
      scheme = new URL(current).protocol === 'https:' ? 'https' : 'http';
    } catch {
      scheme = 'http';
    }
  }
  const url = new URL(`${scheme}://${address.host}`);
  if (address.port !== undefined) url.port = String(address.port);
  const path = address.path ?? DM_SERVER_PATH;
  return `${url.origin}${path === '' ? '/' : path}`;
}
