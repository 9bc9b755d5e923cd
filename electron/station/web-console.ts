// The web console: the built renderer and the station API over a WebSocket (`/api`), so a headless bench
// station can be watched from a browser. On 127.0.0.1 by default; bound to any other address it requires a
// token (`?token=…` on the page and the socket). Every socket must come from the console's own origin — a
// web page elsewhere in the technician's browser cannot drive the station — and every request is validated
// against the contract's schemas.
import http from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { WsRequestSchema, type StationClient, type WsMessage } from '../../shared/contract/station-api.js';

export interface WebConsoleOptions {
  host?: string;
  port?: number;
  /** Required when bound beyond loopback; generated when absent there. */
  token?: string;
  staticDir: string;
  maxMessageBytes?: number;
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

const isLoopback = (host: string) => host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');

function sameToken(given: string | null, token: string | null): boolean {
  if (token === null) return true;
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startWebConsole(service: StationClient, opts: WebConsoleOptions): Promise<WebConsole> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? (isLoopback(host) ? null : randomBytes(18).toString('base64url'));
  const root = path.resolve(opts.staticDir);
  if (!existsSync(path.join(root, 'index.html'))) {
    throw new Error(`the UI is not built (${root}/index.html is missing); run npm run build:renderer`);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://console');
    const headers = {
      'Content-Security-Policy': CONSOLE_CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers).end();
      return;
    }
    if (!sameToken(url.searchParams.get('token'), token) && (url.pathname === '/' || url.pathname.endsWith('.html'))) {
      res.writeHead(401, { ...headers, 'Content-Type': 'text/plain' }).end('this station console needs its token: open the URL the station printed\n');
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400, headers).end();
      return;
    }
    const file = path.resolve(root, `.${rel === '/' ? '/index.html' : rel}`);
    if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes ?? 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://console');
    const origin = req.headers.origin;
    const expected = `http://${req.headers.host}`;
    if (url.pathname !== '/api' || !sameToken(url.searchParams.get('token'), token) || (origin !== undefined && origin !== expected)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, service));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/${token ? `?token=${token}` : ''}`,
    token,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function serve(ws: WebSocket, service: StationClient): void {
  const send = (m: WsMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const unsubscribe = service.subscribe((change) => send({ op: 'change', change }));
  ws.on('close', unsubscribe);
  ws.on('message', async (data) => {
    let raw: unknown;
    try {
      raw = JSON.parse(String(data));
    } catch {
      send({ op: 'error', id: null, message: 'a message was not JSON' });
      return;
    }
    const parsed = WsRequestSchema.safeParse(raw);
    if (!parsed.success) {
      // Echo the request's id when it has one, so the caller's promise settles with the refusal.
      const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : null;
      const issue = parsed.error.issues[0];
      send({ op: 'error', id, message: `a request was refused: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}` });
      return;
    }
    const req = parsed.data;
    try {
      if (req.op === 'getSnapshot') send({ op: 'snapshot', id: req.id, snapshot: await service.getSnapshot() });
      else send({ op: 'result', id: req.id, result: await service.execute(req.command) });
    } catch (err) {
      send({ op: 'error', id: req.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
}
