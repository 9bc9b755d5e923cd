// Events that concern a session from outside (issue 7 items 6 and 8): a technician's pause stops the
// download under way; the first answer after an outage wakes every target at once; a new server — from
// Settings or from --server at the next start — reaches every session, a known device's too, and each polls
// it at once. The real station engine, the real reference server(s) and a real agent on a pseudo-terminal.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { harness, STATION_ID, type Harness } from '../helpers/station-harness.js';
import { startAgent, dock } from '../helpers/agents.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startServer } from '../../server/http-server.js';
import * as admin from '../../server/admin.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const polls = (log: ReturnType<typeof admin.readLog>, deviceId: string) => log.filter((e) => e.kind === 'poll' && e.deviceId === deviceId).length;

test('pause stops the download under way at once; resume goes on from the checkpoint', async (t) => {
  const h = await harness(t);
  const size = 2 * 1024 * 1024;
  const id = await h.addPackage('Paused image', randomBytes(size), { file: 'paused.img' });
  const station = await h.openStation({ rateLimit: 256 * 1024 }); // about eight seconds for the package
  const idle = station.runUntilIdle();
  await waitFor('part of the download', () => h.events.some((e) => e.type === 'progress' && e.packageId === id && e.bytesDone >= 128 * 1024), 30_000, 5);
  station.local.pause(id);
  await idle; // returns because the event stopped, not because it finished

  const { store } = station.local;
  const task = store.task('download', id)!;
  assert.equal(task.state, 'queued');
  assert.deepEqual(task.wait, { kind: 'technician', reason: 'paused' });
  assert.deepEqual(h.statuses().map((s) => s.messageID), [11030], 'the event started and has not ended');
  const kept = station.cache.store.entry(id)!;
  assert.ok(!kept.complete && kept.bytesDone > 0 && kept.bytesDone < size, `the checkpoint is kept (${kept.bytesDone} bytes)`);
  const run = store.downloadHistory({ packageId: id }).at(-1)!;
  assert.deepEqual([run.outcome, run.failedPhase], ['interrupted', 'download']);
  await station.runUntilIdle();
  assert.equal(store.task('download', id)!.state, 'queued', 'a paused package stays paused');

  station.local.resume(id);
  station.limiter.setRate(0);
  await station.runUntilIdle();
  assert.equal(store.task('download', id)!.state, 'done');
  assert.deepEqual(h.statuses().map((s) => s.messageID), [11030, 11031, 11035]);
  assert.ok(store.logs().some((l) => /resumed from byte [1-9]/.test(l.message)), 'the transfer went on from its checkpoint');
});

async function stationWithDevice(t: TestContext, h: Harness, deviceId: string) {
  const dev = await startAgent(t, tempDir(t), deviceId);
  const station = await h.openStation();
  return { dev, station };
}

test('the first answer after an outage wakes every target at once: none sits out its own retry interval', async (t) => {
  const h = await harness(t);
  h.settings({ retryIntervalMs: 30 * MINUTE });
  const { dev, station } = await stationWithDevice(t, h, 'OUTAGE-01');
  const t0 = h.clock.now();
  await station.runUntilIdle(); // the station polls at t0 (next at t0 + 1 h)
  h.clock.set(t0 + 10 * MINUTE);
  await dock(station, dev);
  await station.runUntilIdle(); // the device polls at t0 + 10 min (next at t0 + 70 min)
  const device = station.sessions.get('OUTAGE-01')!;

  await h.stopServer();
  h.clock.set(t0 + HOUR);
  await station.runUntilIdle(); // the station's poll fails: retry at t0 + 90 min
  h.clock.set(t0 + 70 * MINUTE);
  await station.runUntilIdle(); // the device's poll fails: retry at t0 + 100 min
  assert.equal(device.store.task('poll')!.wait.kind, 'server');
  assert.equal(device.store.task('poll')!.nextRun, t0 + 100 * MINUTE);

  await h.startServer();
  const before = polls(h.log(), 'OUTAGE-01');
  h.clock.set(t0 + 90 * MINUTE);
  await station.runUntilIdle(); // the station reaches the server again…
  assert.equal(polls(h.log(), STATION_ID) >= 2, true);
  assert.equal(polls(h.log(), 'OUTAGE-01'), before + 1, '…and the device polls at once, not at t0 + 100 min');
  assert.equal(device.store.task('poll')!.nextRun, t0 + 90 * MINUTE + HOUR);
});

test('a new server reaches every session — in Settings and with --server at the next start — and each polls it at once', async (t) => {
  const h = await harness(t);
  const otherData = path.join(tempDir(t), 'server-b');
  const other = await startServer({ dataDir: otherData, host: '127.0.0.1', port: 0 });
  t.after(() => other.close());
  const serverB = `${other.url}/devicemgmt/server.aspx`;
  const { dev, station } = await stationWithDevice(t, h, 'MOVE-01');
  const link = await dock(station, dev);
  await station.runUntilIdle();
  assert.equal(polls(h.log(), 'MOVE-01'), 1);

  // Settings: the station and the docked device poll B now, without waiting for their interval.
  station.setServer(serverB);
  await station.runUntilIdle();
  assert.equal(polls(admin.readLog(otherData), STATION_ID), 1);
  assert.equal(polls(admin.readLog(otherData), 'MOVE-01'), 1);
  assert.equal(polls(h.log(), 'MOVE-01'), 1, 'nothing more went to the old server');

  // The device leaves; the station restarts with --server A: the known device's session moves back too.
  await link.close('the test undocks');
  await waitFor('the undock', () => !station.devices.get('MOVE-01')!.docked);
  station.close();
  const again = await h.openStation(); // the harness's server, A
  assert.equal(again.sessions.get('MOVE-01')!.settings().server, h.serverUrl, 'the known device follows the configured server');
  await dock(again, dev);
  await again.runUntilIdle();
  assert.equal(polls(h.log(), 'MOVE-01'), 2, 'docked again, it polls A at once');
  assert.equal(polls(admin.readLog(otherData), 'MOVE-01'), 1);
});
