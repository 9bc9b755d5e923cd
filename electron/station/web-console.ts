// The web console: the built renderer and the station API over a WebSocket (`/api`), so a headless bench
// station can be watched from a browser. On 127.0.0.1 by default, where it answers only to its loopback
// names and port (see console-access.ts); bound to any other address it requires a token (`?token=…` on
// the page and the socket). Every socket must come from the console's own origin, every request is
// validated against the contract's schemas, and connections are bounded: a page elsewhere in the
// technician's browser can neither drive the station nor take it down.
import http from '../engine/node-http.js';
import { createReadStream, existsSync, realpathSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
import type { StationClient } from '../../shared/contract/station-api.js';
import { isLoopbackAddress, refuseHost, refuseOrigin, resolveStatic, sameToken, tokenOf, type AccessPolicy } from './console-access.js';
import { DEFAULT_SOCKET_LIMITS, serveSocket, type SocketLimits } from './console-socket.js';

export interface WebConsoleOptions {
  host?: string;
  port?: number;
  /** Required when bound beyond loopback; generated when absent there. */
  token?: string;
  staticDir: string;
  maxMessageBytes?: number;
  /** Open sockets at once; a further one is refused with 503. */
  maxSockets?: number;
  socketLimits?: Partial<SocketLimits>;
  /** Where the console reports dropped connections and failed requests; stderr unless set. */
  log?: (line: string) => void;
}

export interface WebConsole {
  url: string;
  token: string | null;
  close(): Promise<void>;
}

/** The page's Content-Security-Policy: only its own scripts, styles and socket. */
export const CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2',
};

const HEADERS = {
  'Content-Security-Policy': CONSOLE_CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** Pages and sockets together: enough for a few browser tabs, far below what would hurt the station. */
const MAX_SOCKETS = 16;
const MAX_HTTP_CONNECTIONS = 64;

function refuseUpgrade(socket: Duplex, status: string, reason: string): void {
  const body = `${reason}\n`;
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

export async function startWebConsole(service: StationClient, opts: WebConsoleOptions): Promise<WebConsole> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? (isLoopbackAddress(host) ? null : randomBytes(18).toString('base64url'));
  if (!existsSync(path.join(opts.staticDir, 'index.html'))) {
    throw new Error(`the UI is not built (${path.resolve(opts.staticDir)}/index.html is missing); run npm run build:renderer`);
  }
  const root = realpathSync(opts.staticDir);
  const log = opts.log ?? ((line: string) => { process.stderr.write(`${line}\n`); });
  const limits: SocketLimits = { ...DEFAULT_SOCKET_LIMITS, ...opts.socketLimits };
  const maxSockets = opts.maxSockets ?? MAX_SOCKETS;
  // the port is known once listening; the checks read it from here
  const policy: AccessPolicy = { port: 0, token };

  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    const text = (status: number, body: string) => res.writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end(`${body}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'the console serves GET and HEAD only');
    const wrongHost = refuseHost(policy, req.headers.host);
    if (wrongHost) return text(403, wrongHost);
    const target = req.url ?? '/';
    const found = resolveStatic(root, target);
    if ('status' in found) return text(found.status, found.reason);
    if (found.needsToken && !sameToken(tokenOf(target), token)) {
      return text(401, 'this station console needs its token: open the URL the station printed');
    }
    res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(found.file).on('error', () => res.destroy()).pipe(res);
  });
  server.maxConnections = MAX_HTTP_CONNECTIONS;

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes ?? 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    // until ws owns the socket nobody listens for its errors, and a reset would end the process
    socket.on('error', () => socket.destroy());
    const target = req.url ?? '/';
    const hostHeader = req.headers.host;
    const refused = refuseHost(policy, hostHeader) ??
      (target.split('?', 1)[0] !== '/api' ? 'the console API is at /api' : undefined) ??
      (sameToken(tokenOf(target), token) ? undefined : 'this station console needs its token') ??
      refuseOrigin(policy, req.headers.origin, hostHeader ?? '');
    if (refused) return refuseUpgrade(socket, '403 Forbidden', refused);
    if (wss.clients.size >= maxSockets) {
      return refuseUpgrade(socket, '503 Service Unavailable', `the console already has ${wss.clients.size} open connections; close a tab`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, service, limits, log));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  policy.port = typeof address === 'object' && address ? address.port : 0;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${policy.port}/${token ? `?token=${token}` : ''}`,
    token,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
