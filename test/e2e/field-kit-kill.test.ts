// `kill -9` of a real `dockhand station` process while it provisions a new device from the field kit with the
// server stopped, and again while it reconciles that device once the server is back (issue 9 item 6): real
// server and station processes, a real agent on a pseudo-terminal. Each kill lands on an observed event — the
// device's 11030 in its outbox, the line saying a message reached the server — never after a sleep. In the end
// the device holds its packages and the server has heard, for it, a poll first and then each status message
// once, in order, stamped in the offline period.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { dockhand, startDockhand, startServerProcess, type Proc } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startAgent } from '../helpers/agents.js';
import { ClientStore } from '../../electron/store/client-store.js';
import { deviceTargetDb } from '../../electron/station/station.js';
import { readStatus } from '../../electron/station/status.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function stampTime(stamp: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(stamp)!;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
}

/** The device's outbox as the station's database has it (read-only; the station process writes it). */
function outboxOf(data: string, id: string, states: Array<'queued' | 'sent'> = ['queued', 'sent']): string[] {
  const file = deviceTargetDb(data, id);
  if (!existsSync(file)) return [];
  try {
    const store = new ClientStore(file, { readonly: true });
    try {
      return store.outbox(states).map((o) => o.summary);
    } finally {
      store.close();
    }
  } catch {
    return []; // created this very moment
  }
}

/**
 * A relay on `port` to the server on `target` that holds each piece of what a client sends for 150 ms: the
 * station's messages then reach the server one at a time, slowly enough for a kill to land between two of
 * them however busy the machine (unslowed, six went out within a few milliseconds).
 */
async function slowFront(t: { after(fn: () => unknown): void }, port: number, target: number): Promise<void> {
  const sockets = new Set<net.Socket>();
  const front = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let chain = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      chain = chain.then(() => new Promise((r) => setTimeout(r, 150))).then(() => void upstream.write(chunk));
    });
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) s.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => front.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    front.close();
  });
}

async function killed(p: Proc): Promise<void> {
  p.kill('SIGKILL');
  assert.equal(await p.exited, null, 'killed, not exited');
}

test('kill -9 during offline provisioning and during the reconcile: nothing lost, nothing sent twice, the poll first', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const first = await startServerProcess(t, serverData);
  const port = new URL(first.url).port;
  const bigBytes = randomBytes(3 * 1024 * 1024);
  writeFileSync(path.join(dir, 'image.bin'), bigBytes);
  writeFileSync(path.join(dir, 'setup.sh'), '#!/bin/sh\necho ok > setup.txt\n');
  const ids: string[] = [];
  for (const [file, extra] of [['image.bin', ['--dest', '\\Images']], ['setup.sh', ['--dest', '\\Apps', '--command', 'setup.sh']]] as const) {
    const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', path.join(dir, file), '--name', file, ...extra]);
    assert.equal(add.code, 0, add.err);
    ids.push(add.out.trim());
    for (const device of ['KNOWN-01', 'NEW-02']) {
      assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', add.out.trim(), '--device', device])).code, 0);
    }
  }
  // Retries every 2 s, so a station process notices the server's return quickly.
  assert.equal((await dockhand(t, ['server', 'settings', '--data', serverData, '--retry-interval', '0000-00-00 00:00:02'])).code, 0);
  const data = path.join(dir, 'station');
  const station = (serial: string, extra: string[] = []) =>
    startDockhand(t, ['station', '--server', first.url, '--data', data, '--id', 'KILL-STATION', '--serial', serial, ...extra]);

  // Online: the known device docks, is provisioned, and the kit takes in its profile (answers and bytes).
  const known = await startAgent(t, dir, 'KNOWN-01');
  const online = station(known.pair.a);
  await waitFor('the kit to hold the known device\'s packages', () => {
    try {
      const kit = readStatus(data).fieldKit;
      return kit?.profiles[0]?.packages.length === 2 && kit.profiles[0].packages.every((p) => p.fileReady);
    } catch {
      return false;
    }
  }, 60_000, 50);
  await killed(online);
  // What the known device had delivered when its station died: a message then in flight (stored by the
  // server, not yet recorded as sent) may come again when the station returns; these never may.
  const knownSentAtKill = outboxOf(data, 'KNOWN-01', ['sent']).map((s) => `KNOWN-01: ${s}`);
  await killed(first.proc);
  const offlineFrom = Date.now();

  // Offline, a new device docks: kill -9 the moment its first status message is in its outbox.
  const fresh = await startAgent(t, dir, 'NEW-02');
  const provisioning = station(fresh.pair.a);
  await waitFor('the new device\'s 11030 in its outbox', () => outboxOf(data, 'NEW-02').some((s) => s.startsWith('status 11030')), 60_000, 5);
  await killed(provisioning);
  assert.ok(outboxOf(data, 'NEW-02').length < 6, `killed before the provisioning ended: ${outboxOf(data, 'NEW-02').join(', ')}`);
  // The rest of the provisioning, still offline: the run ends unsuccessful (no server), its work done.
  const rest = await dockhand(t, ['station', '--server', first.url, '--data', data, '--id', 'KILL-STATION', '--serial', fresh.pair.a, '--once']);
  assert.equal(rest.code, 1, rest.out);
  assert.equal(sha(readFileSync(path.join(fresh.root, 'Images', 'image.bin'))), sha(bigBytes));
  assert.equal(readFileSync(path.join(fresh.root, 'Apps', 'setup.txt'), 'utf8'), 'ok\n');
  const queued = outboxOf(data, 'NEW-02');
  for (const id of ids) {
    assert.deepEqual(queued.filter((s) => s.endsWith(id)).map((s) => s.split(' ')[1]), ['11030', '11031', '11035'], `queued once each across the kill (${id})`);
  }
  const backAt = Date.now();

  // The server comes back; kill -9 the moment the first of the device's messages has reached it.
  // The server comes back at its address, behind a front that slows what the station sends.
  const again = startDockhand(t, ['server', '--data', serverData, '--host', '127.0.0.1', '--port', '0']);
  const againAt = await waitFor('the server to listen again', () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(again.out()), 30_000);
  await slowFront(t, Number(port), Number(againAt[1]));
  const reconciling = station(fresh.pair.a);
  // The new device's own line: the known device may still have a message of its own queued from its kill
  // (the first station died once the kit was ready, not once the known device had reported everything).
  await waitFor('a message of the new device to reach the server', () => /bench-NEW-02: sent status 1103\d for /.test(reconciling.out()), 60_000, 5);
  await killed(reconciling);
  const deliveredBeforeKill = ['KNOWN-01', 'NEW-02'].flatMap((device) => outboxOf(data, device, ['sent']).map((s) => `${device}: ${s}`));
  assert.ok(deliveredBeforeKill.some((s) => s.startsWith('NEW-02: ')), 'the station recorded a delivery of the new device before it was killed');
  const heardBefore = JSON.parse((await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'NEW-02', '--json'])).out) as Array<{ kind: string }>;
  assert.ok(heardBefore.filter((e) => e.kind === 'status').length < 6, 'killed before every message was delivered');
  const done = await dockhand(t, ['station', '--server', first.url, '--data', data, '--id', 'KILL-STATION', '--serial', fresh.pair.a, '--once']);
  assert.equal(done.code, 0, done.err + done.out);

  const log = JSON.parse((await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'NEW-02', '--json'])).out) as
    Array<{ kind: string; packageID?: string; messageID?: number; timestamp?: string }>;
  assert.equal(log[0]?.kind, 'poll', 'the server heard of the device first by its poll');
  for (const id of ids) {
    const got = log.filter((e) => e.kind === 'status' && e.packageID === id);
    assert.deepEqual(got.map((e) => e.messageID), [11030, 11031, 11035], `each message once, in order (${id})`);
    for (const e of got) assert.ok(stampTime(e.timestamp!) >= offlineFrom - 1000 && stampTime(e.timestamp!) <= backAt + 1000, `stamped offline: ${e.timestamp}`);
  }
  // The server stores a repeated message once, so its log cannot show one; it says so on stderr. Only a
  // message that was on its way when a station died (stored by the server, not yet recorded as sent) may
  // come again (at-least-once): at most one per device, each at its own kill. A message the station had
  // recorded as delivered before that kill must never come again.
  const repeated = [...again.err().matchAll(/duplicate status message from (\S+): (\d+) for (\S+) at/g)].map((m) => `${m[1]}: status ${m[2]} for ${m[3]}`);
  for (const [device, recorded] of [['KNOWN-01', knownSentAtKill], ['NEW-02', deliveredBeforeKill]] as const) {
    const mine = repeated.filter((r) => r.startsWith(`${device}: `));
    assert.ok(mine.length <= 1, `at most the message in flight at the kill is delivered again: ${mine.join(', ')}`);
    for (const r of mine) assert.ok(!recorded.includes(r), `${r} was delivered again although the station had recorded it as sent`);
  }
  assert.equal(readStatus(data).devices.find((d) => d.id === 'NEW-02')?.provisionedOffline, false);
});
