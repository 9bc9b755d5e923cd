// Who may reach the web console, and which files it serves, against a real station runtime behind the
// real console over loopback: DNS rebinding (a foreign Host and Origin) is refused without a token, the
// token is needed for every HTML page however its path is spelled, raw `..%2f` requests (which fetch would
// normalise away) never leave the UI folder, and open sockets and in-flight requests are bounded.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { startStationRuntime } from '../../electron/station/runtime.js';
import { startWebConsole, type WebConsoleOptions } from '../../electron/station/web-console.js';
import type { StationClient, WsMessage } from '../../shared/contract/station-api.js';
import { tempDir } from '../helpers/tmp.js';
import { rawGet } from '../helpers/raw-http.js';

const SECRET = 'the station keeps this file outside its UI folder';

async function consoleFor(t: TestContext, opts: Partial<WebConsoleOptions> = {}, wrap?: (s: StationClient) => StationClient) {
  const dir = tempDir(t);
  const ui = path.join(dir, 'ui');
  mkdirSync(path.join(ui, 'assets'), { recursive: true });
  writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Dockhand</title>');
  writeFileSync(path.join(ui, 'assets', 'app.js'), 'console.log("ui")');
  writeFileSync(path.join(dir, 'secret.txt'), SECRET);
  const runtime = await startStationRuntime({ dataDir: path.join(dir, 'station'), server: 'http://127.0.0.1:9/devicemgmt/server.aspx', loop: false });
  t.after(() => runtime.stop());
  const web = await startWebConsole(wrap ? wrap(runtime.service) : runtime.service, { staticDir: ui, log: () => undefined, ...opts });
  t.after(() => web.close());
  const port = Number(new URL(web.url).port);
  return { web, port, runtime, dir };
}

/** Opens a socket with exactly these headers; resolves with the socket or rejects with the HTTP status. */
function openSocket(port: number, query = '', headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api${query}`, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

async function accepted(port: number, query: string, headers: Record<string, string>): Promise<boolean> {
  try {
    const ws = await openSocket(port, query, headers);
    ws.close();
    return true;
  } catch (err) {
    assert.match(String(err), /HTTP 403/);
    return false;
  }
}

test('without a token the console answers only to its loopback names and port: DNS rebinding is refused', async (t) => {
  const { port } = await consoleFor(t);
  const page = async (host: string) => (await rawGet(port, '/', { Host: host })).status;
  assert.equal(await page(`127.0.0.1:${port}`), 200);
  assert.equal(await page(`localhost:${port}`), 200);
  assert.equal(await page(`LOCALHOST:${port}`), 200);
  assert.equal(await page(`[::1]:${port}`), 200);
  for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1:${port + 1}`, '127.0.0.1', `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
    const r = await rawGet(port, '/', { Host: host });
    assert.equal(r.status, 403, `a page asked for as ${host}`);
    assert.match(r.body, /answers only at http:\/\/127\.0\.0\.1:/);
  }

  const own = { Host: `127.0.0.1:${port}` };
  // the rebinding case: a page on evil.example whose name now points at 127.0.0.1
  assert.equal(await accepted(port, '', { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }), false);
  assert.equal(await accepted(port, '', { Host: 'evil.example', Origin: 'http://evil.example' }), false);
  assert.equal(await accepted(port, '', { ...own, Origin: 'http://evil.example' }), false);
  assert.equal(await accepted(port, '', { ...own, Origin: `http://127.0.0.1:${port + 1}` }), false);
  assert.equal(await accepted(port, '', { ...own, Origin: `https://127.0.0.1:${port}` }), false);
  assert.equal(await accepted(port, '', { ...own, Origin: 'null' }), false);
  assert.equal(await accepted(port, '', { ...own, Origin: `http://127.0.0.1:${port}` }), true);
  assert.equal(await accepted(port, '', { Host: `localhost:${port}`, Origin: `http://localhost:${port}` }), true);
  assert.equal(await accepted(port, '', own), true, 'a client that is not a browser sends no Origin');
});

test('with a token every HTML page and socket needs it, however the path is spelled; Origin must match Host', async (t) => {
  const token = 'secret-token-123';
  const { port } = await consoleFor(t, { token });
  for (const target of ['/', '/index.html', '/index.html/', '/index.htm%6c', '/%69ndex.html', '/index.html?token=wrong-token-1234']) {
    const r = await rawGet(port, target);
    assert.ok(r.status === 401 || r.status === 404, `${target} answered ${r.status} without the token`);
    assert.doesNotMatch(r.body, /<title>Dockhand/);
  }
  assert.equal((await rawGet(port, `/?token=${token}`)).status, 200);
  assert.equal((await rawGet(port, `/index.htm%6c?token=${token}`)).status, 200);
  assert.equal((await rawGet(port, '/assets/app.js')).status, 200, 'scripts are not secret; the page and the socket are');

  // with a token the console may be reached under any name (a LAN address), so Host is free
  assert.equal((await rawGet(port, `/?token=${token}`, { Host: 'bench-7.lan:8080' })).status, 200);
  assert.equal(await accepted(port, '', { Host: `127.0.0.1:${port}` }), false);
  assert.equal(await accepted(port, `?token=${token}`, { Host: 'bench-7.lan', Origin: 'http://evil.example' }), false);
  assert.equal(await accepted(port, `?token=${token}`, { Host: 'bench-7.lan', Origin: 'http://bench-7.lan' }), true);
  assert.equal(await accepted(port, `?token=${token}`, { Host: `127.0.0.1:${port}`, Origin: `http://127.0.0.1:${port}` }), true);
});

test('raw requests with ..%2f, encoded dots, NUL, backslashes or empty segments never leave the UI folder', async (t) => {
  const { port } = await consoleFor(t);
  const targets = [
    '/..%2fsecret.txt', '/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc/passwd', '/assets/..%2f..%2fsecret.txt',
    '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/.%2e/secret.txt', '/../secret.txt', '/assets/../../secret.txt',
    '/..%5csecret.txt', '/assets%5c..%5c..%5csecret.txt', '/secret.txt%00.js', '/%00', '//', '//secret.txt',
    '/assets//app.js', '/index.html/', '/assets/app.js/', '/%', '/%zz', 'http://127.0.0.1/../secret.txt', '*',
  ];
  for (const target of targets) {
    const r = await rawGet(port, target);
    assert.ok([400, 404].includes(r.status), `${target} answered ${r.status}`);
    assert.ok(!r.body.includes(SECRET) && !/root:.*:0:0:/.test(r.body), `${target} leaked a file outside the UI folder`);
  }
  assert.equal((await rawGet(port, '/assets/app.js')).status, 200);
  assert.equal((await rawGet(port, '/assets/%61pp.js')).status, 200);
});

test('a link inside the UI folder that points outside it is not followed out', async (t) => {
  const { port, dir } = await consoleFor(t);
  symlinkSync(path.join(dir, 'secret.txt'), path.join(dir, 'ui', 'assets', 'notes.txt'));
  symlinkSync(dir, path.join(dir, 'ui', 'up'));
  for (const target of ['/assets/notes.txt', '/up/secret.txt']) {
    const r = await rawGet(port, target);
    assert.equal(r.status, 404, `${target} answered ${r.status}`);
    assert.ok(!r.body.includes(SECRET), `${target} served a file outside the UI folder through a link`);
  }
  assert.equal((await rawGet(port, '/assets/app.js')).status, 200, 'the files inside are still served');
});

test('open sockets are bounded and each connection has a bounded number of requests in flight', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  // the real service, with its answers held back until the test opens the gate
  const held = (s: StationClient): StationClient => ({
    getSnapshot: () => gate.then(() => s.getSnapshot()),
    subscribe: (l) => s.subscribe(l),
    execute: (c) => gate.then(() => s.execute(c)),
  });
  const { port } = await consoleFor(t, { maxSockets: 3, socketLimits: { maxInFlight: 2 } }, held);
  const sockets = [await openSocket(port), await openSocket(port), await openSocket(port)];
  t.after(() => { for (const s of sockets) s.terminate(); });
  await assert.rejects(openSocket(port), /HTTP 503/);

  const ws = sockets[0]!;
  const answers: WsMessage[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as WsMessage;
    if (m.op !== 'change') answers.push(m);
  });
  for (let id = 1; id <= 5; id++) ws.send(JSON.stringify({ op: 'getSnapshot', id }));
  while (answers.length < 3) await new Promise((r) => ws.once('message', r));
  assert.deepEqual(answers.map((a) => a.op === 'error' && a.id), [3, 4, 5]);
  assert.match(answers[0]?.op === 'error' ? answers[0].message : '', /still working on 2 requests/);
  release();
  while (answers.length < 5) await new Promise((r) => ws.once('message', r));
  assert.deepEqual(answers.slice(3).map((a) => a.op === 'snapshot' && a.id), [1, 2]);

  const closing = sockets.pop()!;
  await new Promise((r) => { closing.once('close', r); closing.close(); });
  const again = await (async () => {
    for (;;) {
      try {
        return await openSocket(port);
      } catch (err) {
        if (!/503/.test(String(err))) throw err; // the closing socket may not have gone yet
      }
    }
  })();
  sockets.push(again);
});
