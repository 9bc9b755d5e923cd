// Who may use the web console, and which file a page request names. Two threats shape it:
// - another web page in the technician's browser. Through DNS rebinding (evil.example re-resolved to
//   127.0.0.1) its requests reach the console with `Host: evil.example` and `Origin: http://evil.example`,
//   so comparing the Origin with the Host header proves nothing. Without a token the console therefore
//   answers only to its own loopback names and port, and a socket's Origin must be one of those origins,
//   computed from the bound port, never from the request.
// - a crafted page path. The path is decoded once, refused when a segment is empty, `.` or `..` or when
//   it holds a NUL or a backslash, and "needs the token" is decided on the file it resolves to (any HTML
//   page), not on the raw text, so `/index.html/` or `/index.htm%6c` do not slip past.
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { timingSafeEqual } from 'node:crypto';

export interface AccessPolicy {
  /** The console's own port (as bound). */
  port: number;
  /** null: loopback without a token, where the Host header is the guard. */
  token: string | null;
}

/** A bind address that only this machine can reach. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `name[:port]` or `[v6][:port]` split apart; undefined when it is neither. */
function splitHost(text: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/@]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m?.[1]) return undefined;
  return { name: m[1], port: m[2] === undefined ? undefined : Number(m[2]) };
}

/** A Host header (or an origin's host) that names this console on a loopback name and its own port. */
function namesLoopbackConsole(hostText: string, port: number): boolean {
  const h = splitHost(hostText);
  if (!h || !isLoopbackAddress(h.name)) return false;
  // A browser leaves out the default port, so on port 80 the bare name is the console too.
  return h.port === undefined ? port === 80 : h.port === port;
}

export function sameToken(given: string | null, token: string | null): boolean {
  if (token === null) return true;
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Why a request may not reach the console at all (pages and sockets alike), or undefined when it may.
 * With a token the console is reachable under any name (a LAN address, a host name), and the token is
 * what keeps other pages out; without one, only loopback names with the right port are answered.
 */
export function refuseHost(policy: AccessPolicy, host: string | undefined): string | undefined {
  if (host === undefined || host === '') return 'the request has no Host header';
  if (policy.token !== null) return splitHost(host) ? undefined : 'the Host header is not a host name';
  if (namesLoopbackConsole(host, policy.port)) return undefined;
  return `this console answers only at http://127.0.0.1:${policy.port}/ or http://localhost:${policy.port}/, ` +
    'not under another name (a web page may be trying to reach it through DNS rebinding)';
}

/**
 * Why a socket's Origin is refused, or undefined. Browsers always send Origin on a WebSocket handshake;
 * a client without one is not a web page and is judged by Host and token alone. With a token, the page's
 * own origin is whatever name the console was reached by, as long as it is the socket's Host too.
 */
export function refuseOrigin(policy: AccessPolicy, origin: string | undefined, host: string): string | undefined {
  if (origin === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return 'the Origin header is not an origin';
  }
  if (u.protocol === 'http:' && namesLoopbackConsole(u.host, policy.port)) return undefined;
  if (policy.token !== null && u.protocol === 'http:' && origin.toLowerCase() === `http://${host}`.toLowerCase()) return undefined;
  return 'the socket comes from another site\'s page';
}

export type StaticTarget = { file: string; needsToken: boolean } | { status: 400 | 404; reason: string };

/**
 * The file a GET names under `root` (already resolved with realpath), from the raw request target.
 * `/` is the index page. Only a plain path of non-empty segments is served.
 */
export function resolveStatic(root: string, target: string): StaticTarget {
  if (!target.startsWith('/')) return { status: 400, reason: 'the request target is not a path' };
  const raw = target.split(/[?#]/, 1)[0] ?? '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { status: 400, reason: 'the path is not valid percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400, reason: 'the path holds a NUL or a backslash' };
  const segments = decoded === '/' ? ['index.html'] : decoded.slice(1).split('/');
  if (segments.some((s) => s === '.' || s === '..')) return { status: 400, reason: 'the path climbs out with . or ..' };
  if (segments.some((s) => s === '')) return { status: 404, reason: 'not found' };
  const file = path.join(root, ...segments);
  if (!file.startsWith(root + path.sep) || !existsSync(file)) return { status: 404, reason: 'not found' };
  // a link inside the build pointing elsewhere is outside all the same
  const real = realpathSync(file);
  if (!real.startsWith(root + path.sep) || !statSync(real).isFile()) return { status: 404, reason: 'not found' };
  return { file: real, needsToken: /^\.html?$/i.test(path.extname(real)) };
}

/** The query parameter `token` of a raw request target. */
export function tokenOf(target: string): string | null {
  const q = target.indexOf('?');
  return q < 0 ? null : new URLSearchParams(target.slice(q + 1).split('#', 1)[0]).get('token');
}
