// The HTTP side of the reference server: one device endpoint, the package downloads, and the error
// policy that keeps one bad request from ever taking the server down: a malformed document is a 400
// naming the problem, an oversize body a 413, anything unexpected a 500 and a log line.
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from '../electron/engine/node-http.js'; // without undici and http2 at start (node-http.ts says why)
import { mkdirSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { DEFAULT_MAX_DOCUMENT_BYTES, MAX_REPORT_BYTES, ProtocolError } from '../shared/protocol/index.js';
import { openServerDb, prepared } from './db.js';
import { DEFAULT_COLLECTED_FILE_BYTES, type ServerContext } from './context.js';
import { BadRequestError, BodyTooLargeError, sendText } from './http-io.js';
import { handleDevicePost } from './routes/device-endpoint.js';
import { servePackageFile } from './package-files.js';
import { InputError } from './input-error.js';
import { WriteBatch } from './write-batch.js';
import { PollAnswers } from './poll-answers.js';
import { useParseWorker } from '../electron/protocol/parse-off-thread.js';

export interface ServerOptions {
  dataDir: string;
  host?: string;
  port?: number;
  /** Base URL devices should use for downloads, e.g. `https://dm.example.com/dockhand` behind a proxy. */
  publicUrl?: string;
  log?: (line: string) => void;
  /** Cap of one file collection upload; 256 MiB unless set. */
  maxCollectedFileBytes?: number;
  /** A connection with no traffic either way for this long is dropped; two minutes unless set. */
  idleTimeoutMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEVICE_ENDPOINT = '/devicemgmt/server.aspx';
export const HEALTH_PATH = '/health';

/** A public URL must be an absolute http(s) URL without query or fragment; returned without a trailing '/'. */
export function checkPublicUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new InputError(`public URL '${text}' is not an absolute URL like http://dm.example.com:8080`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InputError(`public URL '${text}' must start with http:// or https://`);
  if (u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    throw new InputError(`public URL '${text}' must not carry a query, fragment or credentials`);
  }
  return u.href.replace(/\/+$/, '');
}

async function route(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // only the path matters; the base is a placeholder so that odd request targets still parse
  const pathname = new URL(req.url ?? '/', 'http://placeholder').pathname;
  // IIS, which stock clients were built against, matches paths case-insensitively
  if (pathname.toLowerCase() === DEVICE_ENDPOINT) {
    if (req.method !== 'POST') return sendText(res, 405, 'the device endpoint accepts POST only', { Allow: 'POST' });
    return handleDevicePost(ctx, req, res);
  }
  if (pathname === HEALTH_PATH) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'the health check is read with GET or HEAD', { Allow: 'GET, HEAD' });
    return answerHealth(ctx, res);
  }
  const m = /^\/packages\/([^/]+)\/([^/]+)$/.exec(pathname);
  if (m) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'package files are read with GET or HEAD', { Allow: 'GET, HEAD' });
    let id: string, file: string;
    try {
      id = decodeURIComponent(m[1] ?? '');
      file = decodeURIComponent(m[2] ?? '');
    } catch {
      return sendText(res, 400, 'the package URL is not valid percent-encoding');
    }
    return servePackageFile(req, res, ctx.db, ctx.dataDir, id, file);
  }
  return sendText(res, 404, 'not found');
}

/** For a load balancer: 200 while this process can read its database, 503 when it cannot. */
function answerHealth(ctx: ServerContext, res: ServerResponse): void {
  try {
    const { n } = prepared(ctx.db, 'SELECT count(*) AS n FROM packages').get() as { n: number };
    sendText(res, 200, `ok: database readable, ${n} packages`);
  } catch (err) {
    sendText(res, 503, `the database cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function answerError(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (err instanceof BodyTooLargeError) {
    // the rest of the body is still on its way: answer, then close rather than read it all
    sendText(res, 413, `request body too large (limit ${err.limit} bytes)`, { Connection: 'close' });
  } else if (err instanceof ProtocolError || err instanceof BadRequestError) {
    sendText(res, 400, err.message);
  } else if (res.destroyed || req.socket.destroyed) {
    // the client went away mid-request; there is nobody to answer (a request whose body was read whole is
    // destroyed too, yet its client still waits for the answer)
  } else {
    ctx.log(`error: ${req.method} ${req.url}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    sendText(res, 500, 'internal server error');
  }
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const publicUrl = opts.publicUrl === undefined ? undefined : checkPublicUrl(opts.publicUrl);
  mkdirSync(opts.dataDir, { recursive: true });
  const db = openServerDb(opts.dataDir);
  const ctx: ServerContext = {
    db,
    writes: new WriteBatch(db),
    pollAnswers: new PollAnswers(db),
    dataDir: opts.dataDir,
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    limits: {
      documentBytes: DEFAULT_MAX_DOCUMENT_BYTES,
      reportBytes: MAX_REPORT_BYTES,
      collectedFileBytes: opts.maxCollectedFileBytes ?? DEFAULT_COLLECTED_FILE_BYTES,
    },
    log: opts.log ?? (() => undefined),
    now: () => new Date(),
  };

  const server = http.createServer({
    headersTimeout: 30_000, // a client that never finishes its headers
    requestTimeout: 60 * 60_000, // a file collection upload over a slow link may take a while
    keepAliveTimeout: 5_000,
  }, (req, res) => {
    const started = Date.now();
    res.on('finish', () => ctx.log(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
    route(ctx, req, res).catch((err: unknown) => answerError(ctx, req, res, err));
  });
  // a socket with no traffic in either direction for a while is dropped (also mid-download): a stalled
  // device must not hold a connection and a file descriptor forever
  server.setTimeout(opts.idleTimeoutMs ?? 120_000, (socket: Socket) => socket.destroy());
  server.on('clientError', (_err, socket: Socket) => {
    // unparsable HTTP (bad header characters, oversize headers): answer if we still can, never throw
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  const host = opts.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    db.close();
    throw err;
  }
  server.on('error', (err) => ctx.log(`server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  // Large device documents are parsed in the parse worker while the server runs; it ends at close.
  const releaseParseWorker = useParseWorker();
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          db.close();
          releaseParseWorker();
          resolve();
        });
        // in-flight downloads and idle keep-alive connections are cut: shutting down means now
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
