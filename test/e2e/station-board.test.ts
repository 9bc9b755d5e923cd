// What the station API tells the board, against real parts: the reference server over loopback, the station
// engine with real SQLite (manual clock), real agents on real pseudo-terminals (socat), and the real
// StationService. A failed command stays the device's verdict after another package succeeds; the
// provisioning record (CSV, and a PDF rendered by poppler) says so with the SHA-256s; a push in flight has
// exactly one transfer row; a slot's name survives a restart and a device swap; the server's contact and
// the messages waiting come from what the sessions saw.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { harness, type Harness } from '../helpers/station-harness.js';
import { ptyPair, type PtyPair } from '../helpers/pty.js';
import { startDockhand, type Proc } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { pdfInk, pdfText } from '../helpers/pdf.js';
import { parseCsv } from '../helpers/csv.js';
import { openSerialTransport } from '../../electron/link/serial.js';
import { openDeviceLink } from '../../electron/link/link-client.js';
import { StationService } from '../../electron/station/service.js';
import type { Station } from '../../electron/station/station.js';
import type { DeviceLink } from '../../electron/link/device-link.js';
import type { Snapshot } from '../../shared/contract/station-api.js';
import { taskOutcome } from '../../shared/model/verdict.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Agent { id: string; pair: PtyPair; proc: Proc }

async function startAgent(t: TestContext, dir: string, id: string, pair?: PtyPair): Promise<Agent> {
  const p = pair ?? await ptyPair(t, dir, id);
  const proc = startDockhand(t, ['agent', '--port', p.b, '--root', path.join(dir, `agent-${id}`), '--id', id, '--name', `bench-${id}`]);
  await waitFor(`agent ${id} to listen`, () => proc.out().includes('listening on'), 30_000);
  return { id, pair: p, proc };
}

async function dock(station: Station, a: Agent): Promise<DeviceLink> {
  const link = await openDeviceLink(await openSerialTransport(a.pair.a, { baudRate: 115200 }), { helloTimeoutMs: 15_000 });
  station.dock(link);
  return link;
}

/** A station opened through the harness with the real StationService fed by its engine events. */
async function stationWithService(h: Harness): Promise<{ station: Station; service: StationService }> {
  let service: StationService | null = null;
  const station = await h.openStation({ allowCommands: true, emit: (e) => { h.events.push(e); service?.onEngineEvent(e); } });
  service = new StationService(station, {
    settings: () => ({ server: h.serverUrl, pollIntervalMs: 60_000, rateLimit: 0, allowCommands: true, serialPorts: [], baudRate: 115200, usb: [], concurrency: 8, profiles: [], defaultProfile: '' }),
    updateSettings: async () => 'unchanged', addSerialPort: async () => '', forgetSerialPort: async () => '',
    info: () => ({ id: station.local.target.id, version: 'test', demo: false, dataDir: h.stationData, root: station.root }),
  }, 10);
  // As the runtime does: the service stops before the station closes its databases (the harness closes it).
  const close = station.close.bind(station);
  station.close = () => {
    service?.close();
    close();
  };
  return { station, service };
}

test('a failed command stays the verdict after another package succeeds; the record says so in CSV and PDF', async (t) => {
  const h = await harness(t);
  const dir = tempDir(t);
  const agent = await startAgent(t, dir, 'FAIL-01');
  const firmware = '#!/bin/sh\necho "flashing"\nexit 3\n';
  const fw = await h.addPackage('Scanner firmware', firmware, { file: 'fw.sh', commandLine: 'fw.sh', device: 'FAIL-01' });
  // The app starts an hour later (its StartTime), so its success comes after the firmware's failure.
  const later = new Date(h.clock.now() + 60 * 60 * 1000).toISOString().slice(0, 19).replace('T', ' ');
  const app = await h.addPackage('Inventory app', '#!/bin/sh\nexit 0\n', { file: 'app.sh', commandLine: 'app.sh --quiet', device: 'FAIL-01', startTime: later, startUtc: true });
  const { station, service } = await stationWithService(h);
  await dock(station, agent);
  await station.runUntilIdle();
  const before = (await service.getSnapshot()).devices.find((d) => d.id === 'FAIL-01')!;
  assert.equal(before.verdict.kind, 'failed', before.verdict.words);
  assert.equal(before.packages.find((p) => p.id === app)!.result, 'waiting', 'the app waits for its start time');
  h.clock.advance(2 * 60 * 60 * 1000);
  await station.runUntilIdle();

  const snap = await service.getSnapshot();
  const device = snap.devices.find((d) => d.id === 'FAIL-01')!;
  assert.equal(device.verdict.kind, 'failed', `the verdict (${device.verdict.words})`);
  assert.equal(device.verdict.words, 'Failed: Scanner firmware, command exited with code 3');
  assert.match(device.verdict.nextStep, /command line/);
  assert.deepEqual(device.packages.map((p) => [p.name, p.result, p.exitCode]).sort(), [['Inventory app', 'installed', 0], ['Scanner firmware', 'failed', 3]]);
  assert.equal(device.packages.find((p) => p.id === fw)!.sha256, sha(firmware), 'each package with the SHA-256 of what was delivered');
  assert.ok(Date.parse(device.history.find((e) => e.packageId === app)!.endedAt!) > Date.parse(device.history.find((e) => e.packageId === fw)!.endedAt!),
    'the app\'s success came after the firmware\'s failure');
  const fwTask = snap.tasks.find((x) => x.target === 'FAIL-01' && x.kind === 'download' && x.package === fw)!;
  assert.equal(taskOutcome(fwTask), 'failed', 'the Queue shows the failed command as failed');
  assert.equal(taskOutcome(snap.tasks.find((x) => x.target === 'FAIL-01' && x.package === app && x.kind === 'download')!), 'done');
  const times = snap.activity.map((a) => a.at);
  assert.ok(new Set(snap.activity.map((a) => a.target)).size > 1, 'the station\'s and the device\'s lines');
  assert.deepEqual(times, [...times].sort(), 'the activity of every target in one time order');

  const csv = await service.execute({ type: 'exportRecord', format: 'csv', devices: ['FAIL-01'] });
  assert.ok(csv.ok && csv.file, csv.message);
  const rows = parseCsv(csv.file.data);
  assert.deepEqual(rows[0]!.slice(0, 4), ['station', 'station host', 'device id', 'device name']);
  const fwRow = rows.find((r) => r.includes('Scanner firmware'))!;
  const col = (name: string) => rows[0]!.indexOf(name);
  assert.equal(fwRow[col('device id')], 'FAIL-01');
  assert.equal(fwRow[col('result')], 'failed');
  assert.equal(fwRow[col('exit code')], '3');
  assert.equal(fwRow[col('failed phase')], 'command');
  assert.equal(fwRow[col('sha256')], sha(firmware));
  assert.equal(rows.find((r) => r.includes('Inventory app'))![col('result')], 'success');
  assert.match(fwRow[col('started')]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);

  const pdf = await service.execute({ type: 'exportRecord', format: 'pdf', devices: ['FAIL-01'] });
  assert.ok(pdf.ok && pdf.file?.encoding === 'base64', pdf.message);
  const bytes = Buffer.from(pdf.file.data, 'base64');
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  const text = pdfText(bytes);
  assert.match(text, /bench-FAIL-01/);
  assert.match(text, /FAILED/);
  assert.match(text, /Failed: Scanner firmware, command exited with code 3/);
  assert.ok(text.includes(sha(firmware)), 'the full SHA-256 is printed');
  assert.match(text, /Next step:/);
  const ink = pdfInk(bytes, 'record-device-fail-01');
  assert.equal(ink.length, 1, 'one page for one device');
  assert.ok(ink[0]! > 0.01, `the page is not blank (${ink[0]})`);
});

test('a failure stays the verdict however many later successes the device has; each package keeps its own result', async (t) => {
  const h = await harness(t);
  const agent = await startAgent(t, tempDir(t), 'FAIL-02');
  const fw = await h.addPackage('Scanner firmware', '#!/bin/sh\nexit 3\n', { file: 'fw.sh', commandLine: 'fw.sh', device: 'FAIL-02' });
  // 21 apps start an hour later (their StartTime): more successes come after the firmware's failure than the
  // station keeps runs of any one package (20), so a verdict read from the device's latest runs would lose it.
  const later = new Date(h.clock.now() + 60 * 60 * 1000).toISOString().slice(0, 19).replace('T', ' ');
  const apps: string[] = [];
  for (let i = 1; i <= 21; i += 1) {
    apps.push(await h.addPackage(`App ${i}`, `#!/bin/sh\necho ${i} > app${i}.txt\n`, { file: `app${i}.sh`, commandLine: `app${i}.sh`, device: 'FAIL-02', startTime: later, startUtc: true }));
  }
  const { station, service } = await stationWithService(h);
  await dock(station, agent);
  await station.runUntilIdle();
  h.clock.advance(2 * 60 * 60 * 1000);
  await station.runUntilIdle();

  const device = (await service.getSnapshot()).devices.find((d) => d.id === 'FAIL-02')!;
  const ended = (id: string) => Date.parse(device.history.find((e) => e.packageId === id)!.endedAt!);
  assert.ok(apps.every((id) => ended(id) > ended(fw)), 'every app succeeded after the firmware failed');
  assert.equal(device.verdict.kind, 'failed', `the verdict (${device.verdict.words})`);
  assert.equal(device.verdict.words, 'Failed: Scanner firmware, command exited with code 3');
  assert.deepEqual(device.packages.map((p) => [p.name, p.result]).sort(),
    [...apps.map((_, i) => [`App ${i + 1}`, 'installed']), ['Scanner firmware', 'failed']].sort());
  const rows = parseCsv((await service.execute({ type: 'exportRecord', format: 'csv', devices: ['FAIL-02'] })).file!.data);
  assert.equal(rows.find((r) => r.includes('Scanner firmware'))![rows[0]!.indexOf('result')], 'failed', 'the record keeps the failure too');
});

test('a push in flight has exactly one transfer row, and a kept checkpoint takes its place after an unplug', async (t) => {
  const h = await harness(t);
  const dir = tempDir(t);
  const agent = await startAgent(t, dir, 'PUSH-01');
  const big = randomBytes(6 * 1024 * 1024);
  const pkg = await h.addPackage('Big image', big, { file: 'big.bin', device: 'PUSH-01' });
  const { station, service } = await stationWithService(h);
  const samples: Snapshot['transfers'][] = [];
  let cut = false;
  const sampler = setInterval(() => {
    void service.getSnapshot().then((s) => {
      const rows = s.transfers.filter((x) => x.target === 'PUSH-01' && x.leg === 'push');
      samples.push(rows);
      if (!cut && rows.some((r) => r.bytesDone > 1024 * 1024)) {
        cut = true;
        void agent.pair.unplug();
      }
    });
  }, 5);
  t.after(() => clearInterval(sampler));
  await dock(station, agent);
  await station.runUntilIdle();
  await waitFor('the unplug', () => cut, 30_000);
  await waitFor('the station to see the undock', () => !station.devices.get('PUSH-01')!.docked, 20_000);
  clearInterval(sampler);
  const during = samples.filter((rows) => rows.length > 0);
  assert.ok(during.length > 3, `the push was sampled while it ran (${during.length} samples)`);
  for (const rows of samples) assert.ok(rows.length <= 1, `one row per push, not ${rows.length}: ${rows.map((r) => `${r.id} ${r.bytesDone}`).join('; ')}`);
  assert.ok(during.every((rows) => rows[0]!.package === pkg && rows[0]!.id === `PUSH-01|push|${pkg}`), 'the row is the package\'s, under one id');

  const after = await service.getSnapshot();
  const kept = after.transfers.filter((x) => x.target === 'PUSH-01' && x.leg === 'push');
  assert.equal(kept.length, 1, 'the kept checkpoint is one row');
  assert.equal(kept[0]!.state, 'waiting');
  assert.ok(kept[0]!.resumePoint > 1024 * 1024 && kept[0]!.resumePoint < big.length);
  const device = after.devices.find((d) => d.id === 'PUSH-01')!;
  assert.equal(device.verdict.kind, 'undocked');
  assert.match(device.verdict.words, /^Undocked mid-transfer: Big image, resumes at \d+\.\d MiB of 6\.0 MiB; dock it again$/);
});

test('a slot\'s name stays with its port across a restart and a device swap', async (t) => {
  const h = await harness(t);
  const dir = tempDir(t);
  const first = await startAgent(t, dir, 'SWAP-01');
  let { station, service } = await stationWithService(h);
  const link = await dock(station, first);
  const renamed = await service.execute({ type: 'renameSlot', port: first.pair.a, label: '  Slot 3 ' });
  assert.ok(renamed.ok, renamed.message);
  assert.equal((await service.getSnapshot()).devices.find((d) => d.id === 'SWAP-01')!.slot, 'Slot 3');

  await link.close('the test restarts the station');
  station.close();
  ({ station, service } = await stationWithService(h));
  assert.equal((await service.getSnapshot()).devices.find((d) => d.id === 'SWAP-01')!.slot, 'Slot 3', 'kept across a restart');

  first.proc.kill('SIGTERM');
  await first.proc.exited;
  const second = await startAgent(t, dir, 'SWAP-02', first.pair);
  await dock(station, second);
  const snap = await service.getSnapshot();
  assert.equal(snap.devices.find((d) => d.id === 'SWAP-02')!.slot, 'Slot 3', 'the next device on the port is in the same slot');
  assert.ok((await service.execute({ type: 'renameSlot', port: first.pair.a, label: '' })).ok);
  assert.equal((await service.getSnapshot()).devices.find((d) => d.id === 'SWAP-02')!.slot, '');
});

test('the server\'s contact: unreachable with the next retry while it is down, messages waiting, reachable again after', async (t) => {
  const h = await harness(t);
  // A machine inventory every hour: built offline, it waits in the outbox while the server is down.
  h.settings({ machineInventory: { enabled: true }, reportIntervalMs: 60 * 60 * 1000 });
  const { station, service } = await stationWithService(h);
  await station.runUntilIdle();
  let info = (await service.getSnapshot()).station;
  assert.equal(info.contact.state, 'ok');
  assert.equal(info.online, true);

  await h.stopServer();
  h.clock.advance(2 * 60 * 60 * 1000);
  await station.runUntilIdle();
  info = (await service.getSnapshot()).station;
  assert.equal(info.contact.state, 'unreachable', JSON.stringify(info.contact));
  assert.equal(info.online, false);
  assert.match(info.contact.problem, /127\.0\.0\.1/);
  assert.ok(info.contact.retryAt && Date.parse(info.contact.retryAt) > h.clock.now(), `the next retry is ahead (${info.contact.retryAt})`);
  assert.ok(info.contact.waiting >= 1, `the inventory report waits to be sent (${info.contact.waiting})`);

  // The server's first attempt failed; time passes beyond the offline wait without a new attempt: still unreachable.
  h.clock.advance(1000);
  assert.equal((await service.getSnapshot()).station.contact.state, 'unreachable', 'a failure stays until a contact works');

  await h.startServer();
  h.clock.advance(24 * 60 * 60 * 1000);
  await station.runUntilIdle();
  info = (await service.getSnapshot()).station;
  assert.equal(info.contact.state, 'ok', JSON.stringify(info.contact));
  assert.equal(info.contact.waiting, 0);
});
