// The seed's "Device Management Operation", end to end: the real station engine against the real
// reference server over loopback HTTP, real SQLite on both sides, real files and real commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { harness, STATION_ID } from '../helpers/station-harness.js';
import { filterItem } from '../helpers/filters.js';
import { readStatus } from '../../electron/station/status.js';
import * as admin from '../../server/admin.js';

const DAY = 24 * 60 * 60 * 1000;
const script = (body: string) => `#!/bin/sh\n${body}\n`;
const ids = (xs: Array<{ messageID: number }>) => xs.map((x) => x.messageID);

test('a required package goes through poll, instructions, location, 11030, download, 11031, command and 11035', async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Marker installer', script('echo "installed $1" > marker.txt; echo done'), {
    file: 'install.sh', commandLine: 'install.sh first', localDestination: '\\Temp\\Apps',
  });
  const station = await h.openStation({ allowCommands: true });
  await station.runUntilIdle();

  const saved = path.join(h.root, 'Temp', 'Apps', 'install.sh');
  assert.equal(readFileSync(saved, 'utf8'), script('echo "installed $1" > marker.txt; echo done'));
  assert.equal(readFileSync(path.join(h.root, 'Temp', 'Apps', 'marker.txt'), 'utf8'), 'installed first\n');
  assert.deepEqual(ids(h.statuses()), [11030, 11031, 11035]);
  assert.ok(h.statuses().every((s) => s.packageID === id));
  const polls = h.log().filter((e) => e.kind === 'poll');
  assert.equal(polls.length, 1);
  assert.equal(polls[0]!.deviceId, STATION_ID);

  const status = readStatus(h.stationData, h.clock.now());
  const pkg = status.packages.find((p) => p.id === id)!;
  assert.equal(pkg.state, 'installed');
  assert.equal(pkg.savedPath, saved);
  assert.match(pkg.lastResult ?? '', /exit code 0/);
  assert.equal(status.tasks.find((x) => x.kind === 'download')!.state, 'done');
  assert.equal(status.targets[0]!.outboxQueued, 0);
  // The poll never expires: it is queued for the next interval (1 h default).
  const poll = status.tasks.find((x) => x.kind === 'poll')!;
  assert.equal(poll.state, 'queued');
  assert.equal(Date.parse(poll.nextRun), h.clock.now() + 60 * 60 * 1000);
});

test('without --allow-commands the command is refused and reported with the private code 20035', async (t) => {
  const h = await harness(t);
  await h.addPackage('Refused', script('touch ran.txt'), { file: 'run.sh', commandLine: 'run.sh' });
  const station = await h.openStation({ allowCommands: false });
  await station.runUntilIdle();
  assert.deepEqual(ids(h.statuses()), [11030, 11031, 20035]);
  const reason = h.statuses()[2]!.parameters.find((p) => p.name === 'Reason')!.value;
  assert.match(reason, /--allow-commands/);
  assert.equal(existsSync(path.join(h.root, 'Temp', 'ran.txt')), false);
  assert.ok(existsSync(path.join(h.root, 'Temp', 'run.sh')));
});

test('a command that fails is reported with its exit code, and its output is kept in the log', async (t) => {
  const h = await harness(t);
  await h.addPackage('Failing', script('echo "disk not ready" >&2; exit 3'), { file: 'fail.sh', commandLine: 'fail.sh' });
  const station = await h.openStation({ allowCommands: true });
  await station.runUntilIdle();
  const last = h.statuses().at(-1)!;
  assert.equal(last.messageID, 20035);
  assert.equal(last.parameters.find((p) => p.name === 'ExitCode')!.value, '3');
  const logText = station.local.store.logs().map((l) => l.message).join('\n');
  assert.match(logText, /exited with code 3.*disk not ready/s);
  assert.ok(station.problems().some((p) => /exited with code 3/.test(p)));
});

test('a command line is never given to a shell: metacharacters stay arguments', async (t) => {
  const h = await harness(t);
  await h.addPackage('Args', script('printf "%s|" "$@" > args.txt'), { file: 'args.sh', commandLine: 'args.sh a;touch PWNED "b c" $(id)' });
  const station = await h.openStation({ allowCommands: true });
  await station.runUntilIdle();
  assert.equal(readFileSync(path.join(h.root, 'Temp', 'args.txt'), 'utf8'), 'a;touch|PWNED|b c|$(id)|');
  assert.equal(existsSync(path.join(h.root, 'Temp', 'PWNED')), false);
});

test('"Download and Execute" recurrence downloads again at every occurrence', async (t) => {
  const h = await harness(t);
  await h.addPackage('Daily sync', script('echo run >> runs.txt'), {
    file: 'sync.sh', commandLine: 'sync.sh', recurrence: { intervalMs: DAY, behavior: 'Download and Execute' },
  });
  const station = await h.openStation({ allowCommands: true });
  await station.runUntilIdle();
  assert.deepEqual(ids(h.statuses()), [11030, 11031, 11035]);
  const task = () => readStatus(h.stationData, h.clock.now()).tasks.find((x) => x.kind === 'download')!;
  assert.equal(task().state, 'queued');
  assert.ok(Date.parse(task().nextRun) > h.clock.now());
  assert.ok(Date.parse(task().nextRun) <= h.clock.now() + DAY);

  h.clock.set(Date.parse(task().nextRun));
  await station.runUntilIdle();
  assert.deepEqual(ids(h.statuses()), [11030, 11031, 11035, 11030, 11031, 11035]);
  assert.equal(readFileSync(path.join(h.root, 'Temp', 'runs.txt'), 'utf8'), 'run\nrun\n');
});

test('"Execute Only" recurrence downloads once and afterwards only runs the command', async (t) => {
  const h = await harness(t);
  await h.addPackage('Cleanup', script('echo run >> runs.txt'), {
    file: 'cleanup.sh', commandLine: 'cleanup.sh', recurrence: { intervalMs: DAY, behavior: 'Execute Only' },
  });
  const station = await h.openStation({ allowCommands: true });
  await station.runUntilIdle();
  for (let i = 0; i < 2; i += 1) {
    const next = readStatus(h.stationData, h.clock.now()).tasks.find((x) => x.kind === 'download')!;
    h.clock.set(Date.parse(next.nextRun));
    await station.runUntilIdle();
  }
  assert.deepEqual(ids(h.statuses()), [11030, 11031, 11035, 11035, 11035]);
  assert.equal(readFileSync(path.join(h.root, 'Temp', 'runs.txt'), 'utf8'), 'run\nrun\nrun\n');
});

test('a future start time (UTC and local) waits, shows when it is scheduled, then runs', async (t) => {
  const h = await harness(t);
  const start = new Date(h.clock.now() + 3 * DAY);
  const pad = (n: number) => String(n).padStart(2, '0');
  const utc = `${start.getUTCFullYear()}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())} ${pad(start.getUTCHours())}:${pad(start.getUTCMinutes())}:${pad(start.getUTCSeconds())}`;
  const local = `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())} ${pad(start.getHours())}:${pad(start.getMinutes())}:${pad(start.getSeconds())}`;
  const a = await h.addPackage('Later UTC', 'a', { startTime: utc, startUtc: true });
  const b = await h.addPackage('Later local', 'b', { startTime: local, startUtc: false });
  const station = await h.openStation();
  await station.runUntilIdle();
  assert.deepEqual(h.statuses(), []);
  const tasks = readStatus(h.stationData, h.clock.now()).tasks.filter((x) => x.kind === 'download');
  const expected = Math.floor(start.getTime() / 1000) * 1000;
  for (const pkgId of [a, b]) {
    const task = tasks.find((x) => x.package === pkgId)!;
    assert.equal(Date.parse(task.nextRun), expected);
    assert.match(task.waitingFor, /^scheduled /);
  }
  h.clock.set(expected - 1000);
  await station.runUntilIdle();
  assert.deepEqual(h.statuses(), []);
  h.clock.set(expected);
  await station.runUntilIdle();
  assert.deepEqual(ids(h.statuses()).sort(), [11030, 11030, 11031, 11031, 11035, 11035]);
});

test('Flags: cradled-only never runs for the station; a bandwidth class it lacks waits; 03 runs', async (t) => {
  const h = await harness(t);
  const cradled = await h.addPackage('Cradled only', 'c', { flags: 0x04 });
  const low = await h.addPackage('Low only', 'l', { flags: 0x01 });
  const any = await h.addPackage('Low or high', 'x', { flags: 0x03 });
  const station = await h.openStation({ bandwidth: 'high' });
  await station.runUntilIdle();
  h.clock.advance(7 * DAY);
  await station.runUntilIdle();
  const sent = h.statuses();
  assert.ok(sent.some((s) => s.packageID === any && s.messageID === 11035));
  assert.ok(!sent.some((s) => s.packageID === cradled || s.packageID === low));
  const tasks = readStatus(h.stationData, h.clock.now()).tasks;
  assert.equal(tasks.find((x) => x.package === cradled)!.waitingFor, 'waiting for dock (cradled-only package)');
  assert.match(tasks.find((x) => x.package === low)!.waitingFor, /waiting for a permitted connection \(.*low/);
});

test('an optional package waits for acceptance, then runs', async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Optional tool', 'tool', { required: false });
  const station = await h.openStation();
  await station.runUntilIdle();
  assert.deepEqual(h.statuses(), []);
  let task = readStatus(h.stationData, h.clock.now()).tasks.find((x) => x.package === id)!;
  assert.equal(task.waitingFor, 'waiting for acceptance (optional package)');
  const { acceptPackage } = await import('../../electron/station/station-commands.js');
  acceptPackage(station.local.store, id, h.clock.now());
  await station.runUntilIdle();
  assert.deepEqual(ids(h.statuses()), [11030, 11031, 11035]);
  task = readStatus(h.stationData, h.clock.now()).tasks.find((x) => x.package === id)!;
  assert.equal(task.state, 'done');
});

test('a package the server no longer lists is removed: file deleted, record dropped, removal logged', async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Temporary', 'temporary bytes', { file: 'temp.dat' });
  const station = await h.openStation();
  await station.runUntilIdle();
  const saved = path.join(h.root, 'Temp', 'temp.dat');
  assert.ok(existsSync(saved));
  admin.unassignPackage(h.serverData, id, STATION_ID);
  h.clock.advance(60 * 60 * 1000); // the next poll
  await station.runUntilIdle();
  assert.equal(existsSync(saved), false);
  assert.equal(station.local.store.package(id), null);
  assert.ok(station.local.store.logs().some((l) => l.packageId === id && /removed package .*no longer lists/.test(l.message)));
});

test('server settings are applied: poll interval, retry count and interval', async (t) => {
  const h = await harness(t);
  h.settings({ pollIntervalMs: 5 * 60 * 1000, retryCount: 2, retryIntervalMs: 30 * 1000 });
  const station = await h.openStation();
  await station.runUntilIdle();
  const s = station.local.settings();
  assert.equal(s.pollIntervalMs, 5 * 60 * 1000);
  assert.equal(s.retryCount, 2);
  assert.equal(s.retryIntervalMs, 30 * 1000);
  const poll = readStatus(h.stationData, h.clock.now()).tasks.find((x) => x.kind === 'poll')!;
  assert.equal(Date.parse(poll.nextRun), h.clock.now() + 5 * 60 * 1000);
  assert.notEqual(station.local.store.get('timestamp'), null, 'the server timestamp is kept and echoed');
});

test('software inventory, machine inventory and file collection reports reach the server at its intervals', async (t) => {
  const h = await harness(t);
  await h.addPackage('Notes', 'hello notes', { file: 'notes.txt', localDestination: '\\Docs' });
  h.settings({
    reportIntervalMs: DAY,
    softwareInventory: { enabled: true, filters: [filterItem('\\Docs', '*.txt', { Recursive: true })] },
    machineInventory: { enabled: true },
    fileCollection: { enabled: true, filters: [filterItem('\\Docs', 'notes.txt')] },
  });
  const station = await h.openStation();
  await station.runUntilIdle(); // poll schedules the reports before the package is installed
  h.clock.advance(DAY);
  await station.runUntilIdle();
  const log = h.log();
  const software = log.filter((e) => e.kind === 'softwareInventory');
  const machine = log.filter((e) => e.kind === 'machineInventory');
  const files = log.filter((e) => e.kind === 'fileCollection');
  assert.equal(software.length, 2, 'once after the first poll, once a day later');
  assert.equal(machine.length, 2);
  const lastSoftware = software.at(-1)!;
  assert.ok(lastSoftware.kind === 'softwareInventory' && JSON.stringify(lastSoftware.report).includes('notes.txt'));
  const lastMachine = machine.at(-1)!;
  assert.ok(lastMachine.kind === 'machineInventory');
  const items = new Set(lastMachine.inventory.Items.map((i) => i.name));
  for (const name of ['Device_System', 'Device_OS', 'Device_Memory', 'Device_FileSystem']) assert.ok(items.has(name), name);
  const collected = files.at(-1)!;
  assert.ok(collected.kind === 'fileCollection');
  assert.equal(collected.devicePath, '\\Docs\\notes.txt');
  assert.equal(readFileSync(path.join(h.serverData, collected.storedAs), 'utf8'), 'hello notes');
});

test('offline: status messages and reports wait in order and are delivered once the server is back', async (t) => {
  const h = await harness(t);
  await h.addPackage('Hourly', script('echo run >> runs.txt'), {
    file: 'hourly.sh', commandLine: 'hourly.sh', recurrence: { intervalMs: 60 * 60 * 1000, behavior: 'Execute Only' },
  });
  h.settings({ retryIntervalMs: 60 * 1000, reportIntervalMs: 90 * 60 * 1000, machineInventory: { enabled: true } });
  const station = await h.openStation({ allowCommands: true });
  await station.runUntilIdle();
  const before = h.log().length;

  await h.stopServer();
  for (let i = 0; i < 2; i += 1) {
    h.clock.advance(60 * 60 * 1000); // two occurrences run the command while the server is away
    await station.runUntilIdle();
  }
  assert.equal(readFileSync(path.join(h.root, 'Temp', 'runs.txt'), 'utf8'), 'run\nrun\nrun\n');
  const pkgId = station.local.store.packages()[0]!.id;
  const queued = station.local.store.outbox(['queued']).map((o) => o.summary);
  assert.equal(queued.length, 3);
  assert.equal(queued.filter((q) => q === `status 11035 for ${pkgId}`).length, 2);
  assert.ok(queued.includes('machine inventory report'));
  const poll = readStatus(h.stationData, h.clock.now()).tasks.find((x) => x.kind === 'poll')!;
  assert.equal(poll.wait.kind, 'server', 'the poll waits for the server (as data)');
  assert.match(poll.waitingFor, /^the server cannot be reached \(127\.0\.0\.1:\d+: refused the connection\); retrying in/);

  await h.startServer();
  h.clock.advance(60 * 1000);
  await station.runUntilIdle();
  assert.equal(station.local.store.outbox(['queued']).length, 0);
  const after = h.log().slice(before).filter((e) => e.kind !== 'poll')
    .map((e) => (e.kind === 'status' ? `status ${e.messageID} for ${e.packageID}` : e.kind === 'machineInventory' ? 'machine inventory report' : e.kind));
  assert.deepEqual(after.slice(0, 3), queued, 'delivered in the order they were queued');
});
