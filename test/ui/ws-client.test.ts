// The browser's StationClient over a real WebSocket server on loopback (Node 22 has the same WebSocket
// class browsers have): answers are matched to requests, frames that break the contract are reported and
// never delivered, and a dropped connection fails what was pending in words, then reconnects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { WsRequestSchema, type Change, type Snapshot } from '../../shared/contract/station-api.js';
import { WsStationClient } from '../../renderer/src/client/ws-client.js';
import type { ConnectionState } from '../../renderer/src/client/connection.js';
import { StationStore } from '../../renderer/src/state/station-store.js';
import { waitFor } from '../helpers/tmp.js';

const snapshot: Snapshot = {
  station: { id: 'ST-WS', version: '0.1.0', demo: true, online: true, dataDir: '/d', root: '/r', contact: { state: 'ok', server: '127.0.0.1:1', problem: '', retryAt: null, waiting: 0 }, storageProblem: '', host: 'bench',
      fieldKit: { asOf: null, defaultProfile: null, profiles: [] } },
  devices: [], tasks: [], transfers: [], packages: [], activity: [],
  settings: { server: 'http://127.0.0.1:1/', pollIntervalMs: 1000, rateLimit: 0, allowCommands: false, serialPorts: [], baudRate: 115200, usb: [], concurrency: 2, profiles: [], defaultProfile: '' },
};

async function consoleServer(t: { after(fn: () => unknown): void }, port = 0) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port, path: '/api' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const sockets: WebSocket[] = [];
  const requests: unknown[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => {
      const req = WsRequestSchema.parse(JSON.parse(String(data)));
      requests.push(req);
      if (req.op === 'getSnapshot') ws.send(JSON.stringify({ op: 'snapshot', id: req.id, snapshot }));
      else if (req.command.type === 'retryNow') ws.send(JSON.stringify({ op: 'result', id: req.id, result: { ok: true, message: 'retrying now' } }));
      // any other command is left unanswered, so the test can drop the connection while it is pending
    });
  });
  const close = () => new Promise<void>((r) => {
    for (const s of wss.clients) s.terminate();
    wss.close(() => r());
  });
  t.after(close);
  return { port: (wss.address() as AddressInfo).port, sockets, requests, close };
}

test('answers match requests; frames that break the contract are reported, not delivered', async (t) => {
  const server = await consoleServer(t);
  const client = new WsStationClient(`ws://127.0.0.1:${server.port}/api`);
  t.after(() => client.close());
  const changes: Change[] = [];
  const problems: string[] = [];
  client.subscribe((c) => changes.push(c));
  client.onProblem((p) => problems.push(p));

  assert.equal((await client.getSnapshot()).station.id, 'ST-WS');
  assert.deepEqual(await client.execute({ type: 'retryNow', target: 'ST-WS', taskId: 'ST-WS|poll|' }), { ok: true, message: 'retrying now' });
  const refused = await client.execute({ type: 'retryNow', target: '', taskId: 'x' });
  assert.equal(refused.ok, false, 'a command the contract refuses is not sent');
  assert.equal(server.requests.length, 2);

  const ws = server.sockets[0]!;
  ws.send(JSON.stringify({ op: 'change', change: { kind: 'devices', devices: [{ id: 'D1' }] } }));
  ws.send('not json');
  ws.send(JSON.stringify({ op: 'change', change: { kind: 'station', station: { ...snapshot.station, online: false } } }));
  await waitFor('the valid change', () => changes.length === 1 && problems.length === 2);
  assert.equal(changes[0]!.kind, 'station');
  assert.match(problems[0]!, /does not match the contract \(devices\.0\.name/);
  assert.match(problems[1]!, /not JSON/);
});

test('a dropped connection fails pending requests in words, reconnects, and the store reloads its snapshot', async (t) => {
  const server = await consoleServer(t);
  const client = new WsStationClient(`ws://127.0.0.1:${server.port}/api`, { reconnectMinMs: 50, reconnectMaxMs: 200 });
  t.after(() => client.close());
  const states: ConnectionState[] = [];
  client.onConnection((s) => states.push(s));
  const store = new StationStore(client);
  const stop = store.start();
  t.after(stop);
  await waitFor('the first snapshot', () => store.getView().snapshot?.station.id === 'ST-WS');

  const pending = client.execute({ type: 'cancelTask', target: 'ST-WS', taskId: 'ST-WS|download|P' });
  await waitFor('the command to reach the server', () => server.requests.length === 2);
  for (const s of server.sockets) s.terminate();
  const result = await store.execute({ type: 'pauseTransfer', target: 'ST-WS', packageId: 'P' });
  assert.equal(result.ok, false);
  await assert.rejects(pending, /connection to the station was lost or refused/);
  await waitFor('the store to see the link down', () => store.getView().connection === 'closed');
  assert.match(store.getView().problem, /lost or refused/);
  assert.equal(store.getView().snapshot?.station.id, 'ST-WS', 'the last state stays on screen');

  await waitFor('a reconnect and a fresh snapshot', () => store.getView().connection === 'open' && server.requests.filter((r) => (r as { op: string }).op === 'getSnapshot').length === 2, 10_000);
  assert.deepEqual(states.slice(0, 4), ['connecting', 'open', 'closed', 'connecting']);
});
