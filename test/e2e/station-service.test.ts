// The station API end to end: a real station runtime (the bundled demo server, real SQLite, real files), its
// service behind the real web console, and a real WebSocket client — snapshot, change stream, commands,
// validation, and the console's origin and token checks. Loopback only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { startStationRuntime } from '../../electron/station/runtime.js';
import { startWebConsole } from '../../electron/station/web-console.js';
import { ChangeSchema, SnapshotSchema, type Change, type WsMessage } from '../../shared/contract/station-api.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { rawGet } from '../helpers/raw-http.js';

function staticDir(dir: string): string {
  const d = path.join(dir, 'ui');
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'index.html'), '<!doctype html><title>Dockhand</title>');
  return d;
}

class Client {
  private id = 0;
  readonly changes: Change[] = [];
  private readonly waiting = new Map<number, (m: WsMessage) => void>();
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as WsMessage;
      if (m.op === 'change') this.changes.push(ChangeSchema.parse(m.change));
      else if (m.id !== null) this.waiting.get(m.id)?.(m);
    });
  }
  static async open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    const ws = new WebSocket(url, { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return new Client(ws);
  }
  request(body: Record<string, unknown>): Promise<WsMessage> {
    const id = ++this.id;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ ...body, id }));
    });
  }
}

test('the web console serves a validated snapshot, a change stream and commands over WebSocket', async (t) => {
  const dir = tempDir(t);
  const runtime = await startStationRuntime({ dataDir: path.join(dir, 'station') });
  t.after(() => runtime.stop());
  const ui = await startWebConsole(runtime.service, { staticDir: staticDir(dir) });
  t.after(() => ui.close());
  assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await fetch(ui.url);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);

  const api = ui.url.replace('http://', 'ws://') + 'api';
  const client = await Client.open(api);
  t.after(() => client.ws.close());
  // The demo catalog's optional package ends up waiting for acceptance.
  const optional = await waitFor('the demo optional package to wait for acceptance', async () => {
    const m = await client.request({ op: 'getSnapshot' });
    assert.equal(m.op, 'snapshot');
    const snapshot = SnapshotSchema.parse(m.op === 'snapshot' ? m.snapshot : null);
    assert.equal(snapshot.station.demo, true);
    return snapshot.tasks.find((x) => x.optional && x.waitingFor === 'waiting for acceptance (optional package)');
  }, 30_000, 100);

  const result = await client.request({ op: 'execute', command: { type: 'acceptPackage', target: optional.target, packageId: optional.package } });
  assert.deepEqual(result.op === 'result' && result.result.ok, true);
  await waitFor('the accepted package to be done in the change stream', () => client.changes.some((c) =>
    c.kind === 'tasks' && c.tasks.some((x) => x.package === optional.package && x.state === 'done')), 30_000, 50);
  // Each change is its own WebSocket message: the activity entry may arrive just after the tasks change.
  await waitFor('the sent 11035 in the activity stream', () => client.changes.some((c) =>
    c.kind === 'activity' && c.entries.some((e) => /sent status 11035/.test(e.message) && e.message.includes(optional.package))), 10_000, 20);

  const bad = await client.request({ op: 'execute', command: { type: 'formatDisk' } });
  assert.ok(bad.op === 'error' && /refused/.test(bad.message));
  const refused = await client.request({ op: 'execute', command: { type: 'cancelTask', target: optional.target, taskId: `${optional.target}|poll|` } });
  assert.ok(refused.op === 'result' && !refused.result.ok && /never expires/.test(refused.result.message));

  const settings = await client.request({ op: 'execute', command: { type: 'updateSettings', settings: { rateLimit: 1_048_576 } } });
  assert.ok(settings.op === 'result' && settings.result.ok);
  assert.equal(runtime.station.limiter.rate, 1_048_576);
  await waitFor('the settings change', () => client.changes.some((c) => c.kind === 'settings' && c.settings.rateLimit === 1_048_576), 10_000);
});

test('the console refuses sockets from another origin, and without its token when it has one', async (t) => {
  const dir = tempDir(t);
  const runtime = await startStationRuntime({ dataDir: path.join(dir, 'station'), server: 'http://127.0.0.1:9/devicemgmt/server.aspx', loop: false });
  t.after(() => runtime.stop());
  const ui = await startWebConsole(runtime.service, { staticDir: staticDir(dir), token: 'secret-token-123' });
  t.after(() => ui.close());
  assert.match(ui.url, /\?token=secret-token-123$/);
  const base = new URL(ui.url);
  const api = `ws://${base.host}/api`;
  await assert.rejects(Client.open(api), /403/);
  await assert.rejects(Client.open(`${api}?token=wrong-token-1234`), /403/);
  await assert.rejects(Client.open(`${api}?token=secret-token-123`, { Origin: 'http://evil.example' }), /403/);
  const ok = await Client.open(`${api}?token=secret-token-123`, { Origin: `http://${base.host}` });
  ok.ws.close();
  assert.equal((await fetch(`http://${base.host}/`)).status, 401);
  // fetch would normalise `..` away before sending; a raw request sends it as written
  assert.equal((await rawGet(Number(base.port), '/..%2f..%2f..%2f..%2fetc/passwd')).status, 400);
});
