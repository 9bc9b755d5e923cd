// One GET for package bytes over HTTP/1.1 (plain or TLS), following redirects, and the response headers
// the resume logic reads (Content-Range, validators). The connection and its reading are the station's own
// (http1-response.ts says why): the socket reads into memory the station owns (net's `onread`), a scratch
// buffer for the head and then the free end of the body pump's blocks, so no buffer is allocated per read.

import net from 'node:net';
import type tls from 'node:tls';
import { lazyTls } from '../node-http.js';
import { DockhandError } from '../../../shared/model/errors.js';
import { StallTimeout, TransferAborted } from './transfer-errors.js';
import { FIELD_VALUE, ResponseReader, TOKEN, type ResponseHead } from './http1-response.js';

// One socket read lands here; a read of 256 KiB is a whole block of the body pump (body-pump.ts).
const READ_BUFFER_BYTES = 256 * 1024;

/** The body of an answer, delivered once `start` is called, with backpressure. */
export interface BodySource {
  /** The whole body arrived. */
  readonly complete: boolean;
  /** `data` gets each piece as a view valid only during the call; `end` once the body is whole. */
  start(data: (bytes: Buffer) => void, end: () => void): void;
  /** Where the following socket reads should land (body-pump.ts: the free end of its last block). */
  readInto(space: () => Buffer): void;
  /** Stops reading from the connection (the pieces of a read already made are still delivered). */
  pause(): void;
  resume(): void;
}

/** A request and its answer; every error the connection meets later is caught and reported once. */
export class Exchange {
  #failure: unknown = null;
  #listener: ((err: unknown) => void) | null = null;

  constructor(readonly url: URL, readonly body: BodySource & { destroy(): void }, private readonly head: ResponseHead) {}

  get status(): number {
    return this.head.status;
  }

  header(name: string): string | undefined {
    return this.head.headers.get(name.toLowerCase());
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

  /** Closes the connection (each download has its own; nothing lingers in a pool). */
  close(): void {
    this.body.destroy();
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

/** The port a URL names, or its scheme's default. */
function portOf(url: URL): number {
  return url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
}

export function hostOf(url: URL): string {
  return `${url.hostname}:${portOf(url)}`;
}

/**
 * The request's text, to be sent as latin1 (one byte per character, as node:http sends header values: a
 * validator the server sent with bytes over 0x7F must come back as the same bytes). A header that could
 * split the request (CR, LF) is refused, as node:http refuses it.
 */
export function requestText(url: URL, headers: Record<string, string>): string {
  const fields: Array<[string, string]> = [['Host', url.host], ['Accept-Encoding', 'identity']];
  for (const [name, value] of Object.entries(headers)) {
    if (['host', 'connection', 'accept-encoding'].includes(name.toLowerCase())) continue;
    fields.push([name, value]);
  }
  // Credentials in the package URL (http://user:pass@host/…) are sent as Basic authentication, as node:http
  // sent them, unless the caller set its own Authorization.
  if ((url.username || url.password) && !fields.some(([n]) => n.toLowerCase() === 'authorization')) {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    fields.push(['Authorization', `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`]);
  }
  fields.push(['Connection', 'close']);
  for (const [name, value] of fields) {
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) {
      throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), { code: 'ERR_INVALID_CHAR' });
    }
  }
  return `GET ${url.pathname}${url.search} HTTP/1.1\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
}

/**
 * One connection carrying one GET. Its socket reads into a scratch buffer, then where readInto() says; the
 * reader turns what arrives into the head and views of the body. Between the head and `start`, reading stops, and body bytes that
 * came with the head are kept as copies: the caller decides what to do with the answer first.
 */
class Connection implements BodySource {
  readonly #socket: net.Socket;
  readonly #reader: ResponseReader;
  #early: Buffer[] = [];
  #earlyEnd = false;
  #data: ((bytes: Buffer) => void) | null = null;
  #end: (() => void) | null = null;
  #headSeen = false;
  #paused = false;
  #closed = false;
  #scratch = Buffer.allocUnsafe(READ_BUFFER_BYTES); // the head, and reads before the body has a place
  #space: (() => Buffer) | null = null;

  constructor(url: URL, request: string, private readonly events: { head(head: ResponseHead): void; error(err: unknown): void }) {
    this.#reader = new ResponseReader({
      head: (head) => {
        this.#headSeen = true;
        this.#socket.pause();
        events.head(head);
      },
      body: (bytes) => {
        if (this.#closed) return;
        if (this.#data) this.#data(bytes);
        else this.#early.push(Buffer.from(bytes));
      },
      end: () => {
        if (this.#end) this.#end();
        else this.#earlyEnd = true;
      },
    });
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = portOf(url);
    // `buffer` is asked for the memory of each next read (net's onread): the scratch buffer until readInto().
    const onread = { buffer: (): Buffer => this.#space?.() ?? this.#scratch, callback: (n: number, buf: Buffer): boolean => this.#read(buf.subarray(0, n)) };
    const send = (): void => void this.#socket.write(request, 'latin1');
    this.#socket = url.protocol === 'https:'
      // tls.connect takes `onread` as net.connect does (documented; missing from @types/node's ConnectionOptions).
      ? lazyTls().connect({ host, port, onread, ...(net.isIP(host) ? {} : { servername: host }) } as tls.ConnectionOptions, send)
      : net.connect({ host, port, onread }, send);
    this.#socket.on('error', (err) => this.#fail(err));
    this.#socket.on('end', () => {
      try {
        this.#reader.eof();
      } catch (err) {
        this.#fail(err);
      }
    });
    this.#socket.on('close', () => {
      if (!this.#reader.complete) this.#fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    });
  }

  get complete(): boolean {
    return this.#reader.complete;
  }

  readInto(space: () => Buffer): void {
    this.#space = space;
  }

  start(data: (bytes: Buffer) => void, end: () => void): void {
    this.#data = data;
    this.#end = end;
    // Bytes that came with the head are delivered even when the connection has failed since: they arrived
    // whole (over TLS a short body and the close can come in the same read as the head).
    for (const bytes of this.#early.splice(0)) data(bytes);
    if (this.#earlyEnd) return end();
    if (!this.#paused && !this.#closed) this.#socket.resume();
  }

  pause(): void {
    this.#paused = true;
    this.#socket.pause();
  }

  resume(): void {
    this.#paused = false;
    if (this.#data !== null && !this.#closed) this.#socket.resume();
  }

  destroy(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  // One socket read: returning false stops reading (paused, or waiting for start).
  #read(view: Buffer): boolean {
    try {
      this.#reader.feed(view);
    } catch (err) {
      this.#fail(err);
      return false;
    }
    return !this.#paused && !(this.#headSeen && this.#data === null);
  }

  #fail(err: unknown): void {
    if (this.#closed) return;
    this.destroy();
    this.events.error(err);
  }
}

function requestOnce(url: URL, o: RequestOptions): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    let done = false;
    let exchange: Exchange | null = null;
    const finish = (err: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (exchange) return resolve(exchange);
      conn?.destroy();
      reject(err);
    };
    const request = requestText(url, o.headers);
    const conn: Connection = new Connection(url, request, {
      head: (head) => {
        exchange = new Exchange(url, conn, head);
        finish(null);
      },
      error: (err) => (exchange ? exchange.fail(err) : finish(err)),
    });
    const onAbort = (): void => finish(new TransferAborted());
    const timer = setTimeout(() => finish(new StallTimeout(o.stallTimeoutMs)), o.stallTimeoutMs);
    o.signal?.addEventListener('abort', onAbort, { once: true });
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
