// One GET for package bytes over node:http / node:https, following redirects, and the response headers
// the resume logic reads (Content-Range, validators). Streams are used directly rather than fetch() so
// the body can be read with backpressure into the partial file.

import type { ClientRequest, IncomingMessage } from 'node:http';
import http from '../node-http.js';
import https from 'node:https';
import { DockhandError } from '../../../shared/model/errors.js';
import { StallTimeout, TransferAborted } from './transfer-errors.js';

/** A request and its response; every error either of them emits later is caught and reported once. */
export class Exchange {
  #failure: unknown = null;
  #listener: ((err: unknown) => void) | null = null;

  constructor(readonly req: ClientRequest, readonly res: IncomingMessage, readonly url: URL) {
    // Listeners stay for the sockets' whole life: an error after we stopped listening must not crash.
    req.on('error', (err) => this.fail(err));
    res.on('error', (err) => this.fail(err));
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  header(name: string): string | undefined {
    const v = this.res.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }

  /** Calls `listener` with the first failure (at once if there already was one). */
  onFailure(listener: (err: unknown) => void): void {
    this.#listener = listener;
    if (this.#failure !== null) listener(this.#failure);
  }

  fail(err: unknown): void {
    if (this.#failure !== null) return;
    this.#failure = err;
    this.#listener?.(err);
  }

  /** Releases the connection (agent-less requests own their socket, so this closes it). */
  close(): void {
    this.res.destroy();
    this.req.destroy();
  }
}

export interface RequestOptions {
  headers: Record<string, string>;
  maxRedirects: number;
  stallTimeoutMs: number;
  signal?: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Credentials for the management server are not handed to a different origin a redirect points at.
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'x-device-auth'];

export function checkDownloadUrl(raw: string, context: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DockhandError('PROTOCOL', `${context} "${raw}" is not a valid URL; the package location must be an http:// or https:// address`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DockhandError('PROTOCOL',
      `${context} "${raw}" uses ${url.protocol.replace(/:$/, '')}, which the station cannot download from; the package location must be an http:// or https:// address`);
  }
  return url;
}

export function hostOf(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

function requestOnce(url: URL, o: RequestOptions): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    // agent: false gives this download its own socket, closed with the response: nothing lingers in a pool.
    const req = lib.get(url, { headers: { 'accept-encoding': 'identity', ...o.headers }, agent: false });
    let done = false;
    const finish = (err: unknown, exchange?: Exchange): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (exchange) return resolve(exchange);
      req.destroy();
      reject(err);
    };
    const onAbort = (): void => finish(new TransferAborted());
    const timer = setTimeout(() => finish(new StallTimeout(o.stallTimeoutMs)), o.stallTimeoutMs);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => finish(err));
    req.on('response', (res) => finish(null, new Exchange(req, res, url)));
  });
}

/** Sends the GET, following http(s) redirects; resolves with the first non-redirect response. */
export async function openExchange(start: URL, o: RequestOptions): Promise<Exchange> {
  let url = start;
  let headers = o.headers;
  for (let hop = 0; ; hop++) {
    if (o.signal?.aborted) throw new TransferAborted();
    const exchange = await requestOnce(url, { ...o, headers });
    const location = exchange.header('location');
    if (!REDIRECTS.has(exchange.status) || location === undefined) return exchange;
    exchange.close();
    if (hop >= o.maxRedirects) {
      throw new DockhandError('HTTP_STATUS',
        `the package address ${start.href} redirected more than ${o.maxRedirects} times (last to ${location}); fix the package location on the server`,
        { detail: { url: start.href, status: exchange.status } });
    }
    const next = checkDownloadUrl(new URL(location, url).href, `the server redirected the download to`);
    if (next.origin !== url.origin) {
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.includes(k.toLowerCase())));
    }
    url = next;
  }
}

/** The validator If-Range may carry: a strong ETag, else Last-Modified (a weak ETag cannot be used). */
export function validatorOf(exchange: Exchange): string | null {
  const etag = exchange.header('etag');
  if (etag && !etag.startsWith('W/')) return etag;
  return exchange.header('last-modified') ?? null;
}

export interface ContentRange {
  start: number | null; // null for "bytes */total"
  end: number | null;
  total: number | null; // null for "/*"
}

/** Parses `Content-Range: bytes start-end/total` (or `bytes * /total` on 416); null when unreadable. */
export function parseContentRange(value: string | undefined): ContentRange | null {
  if (value === undefined) return null;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return null;
  const num = (s: string | undefined): number | null => (s === undefined || s === '*' ? null : Number(s));
  const range = { start: num(m[1]), end: num(m[2]), total: num(m[3]) };
  if (range.start !== null && range.end !== null && range.end < range.start) return null;
  return range;
}

/** Content-Length as a number, or null when absent (chunked or close-delimited body) or unreadable. */
export function contentLength(exchange: Exchange): number | null {
  const v = exchange.header('content-length');
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : null;
}
