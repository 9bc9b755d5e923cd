// Docked devices (issue 7), with real agent processes on socat pseudo-terminals and the real reference server:
// a command on a device runs at most once — an undock or a station crash mid-command ends it on the device
// and the next dock reports it interrupted (asked of the agent by run ID), a pause ends it on the device;
// a second device claiming a docked device's ID is refused, the technician told, the first keeps its session;
// and a push cut by an undock resumes from the bytes the device holds, counted on the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { harness, type Harness } from '../helpers/station-harness.js';
import { dock, startAgent, type Device } from '../helpers/agents.js';
import { dockhand, processAlive, startDockhand, startServerProcess } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { commandStarted } from '../helpers/started-command.js';
import { serveOnCable } from '../helpers/memory-agent.js';
import { ClientStore } from '../../electron/store/client-store.js';
import { deviceTargetDb } from '../../electron/station/station.js';
import type { CommandRunRecord } from '../../electron/engine/command-journal.js';
import { DockhandError } from '../../shared/model/errors.js';
import { prepareAgent } from '../../agent/agent.js';
import { memoryCable } from '../../electron/link/link-memory.js';
import { openDeviceLink } from '../../electron/link/link-client.js';

const LONG = '#!/bin/sh\necho run >> runs.log\nsleep 600 &\necho $! > child\necho $$ > pid\nwait\n';

function statuses(h: Harness, device: string) {
  return h.log().flatMap((e) => (e.kind === 'status' && e.deviceId === device
    ? [{ id: e.messageID, reason: e.parameters.find((p) => p.name === 'Reason')?.value ?? '' }] : []));
}

/** Waits for the device's command to run; returns its pid and its child's. */
const deviceCommand = (d: Device): Promise<{ pid: number; child: number }> => commandStarted(path.join(d.root, 'Temp'));

test('undocked mid-command: the agent ends the command; re-docked, the station asks and reports it interrupted, not run again', { timeout: 120_000 }, async (t) => {
  const h = await harness(t);
  const dev = await startAgent(t, tempDir(t), 'CMD-01');
  await h.addPackage('Device installer', LONG, { file: 'long.sh', commandLine: 'long.sh', device: 'CMD-01' });
  const station = await h.openStation();
  await dock(station, dev);
  const running = station.runUntilIdle();
  const { pid, child } = await deviceCommand(dev);
  await dev.pair.unplug();
  await running;
  await waitFor('the agent to end the command', () => !processAlive(pid) && !processAlive(child));
  const task = station.sessions.get('CMD-01')!.store.task('download', station.sessions.get('CMD-01')!.store.packages()[0]!.id)!;
  assert.deepEqual(task.wait, { kind: 'dock' });

  await dev.pair.plug();
  await dock(station, dev);
  await station.runUntilIdle();
  const sent = statuses(h, 'CMD-01');
  assert.deepEqual(sent.map((s) => s.id), [11030, 11031, 20035]);
  assert.match(sent[2]!.reason, /^interrupted: the device's agent ended it \(the link to the station was lost .*\); not run again$/);
  assert.equal(readFileSync(path.join(dev.root, 'Temp', 'runs.log'), 'utf8'), 'run\n', 'it ran once');
});

test('pausing a package while its command runs on the device ends the command there', { timeout: 120_000 }, async (t) => {
  const h = await harness(t);
  const dev = await startAgent(t, tempDir(t), 'CMD-02');
  const id = await h.addPackage('Device installer', LONG, { file: 'long.sh', commandLine: 'long.sh', device: 'CMD-02' });
  const station = await h.openStation();
  await dock(station, dev);
  const running = station.runUntilIdle();
  const { pid, child } = await deviceCommand(dev);
  const session = station.sessions.get('CMD-02')!;
  session.pause(id);
  await running;
  await waitFor('the device to end the paused command', () => !processAlive(pid) && !processAlive(child));
  assert.deepEqual(session.store.task('download', id)!.wait, { kind: 'technician', reason: 'paused' });
  await waitFor('the agent to say why it ended the command', () => /'long\.sh' ended: cancelled by the station/.test(dev.agent.out()));

  session.resume(id);
  await station.runUntilIdle();
  const sent = statuses(h, 'CMD-02');
  assert.deepEqual(sent.map((s) => s.id), [11030, 11031, 20035]);
  assert.match(sent[2]!.reason, /^interrupted: a technician paused the package while the command ran/);
  assert.equal(readFileSync(path.join(dev.root, 'Temp', 'runs.log'), 'utf8'), 'run\n');
});

test('kill -9 of the station mid-command on a device: the next start asks the agent and reports it interrupted, never a second copy', { timeout: 150_000 }, async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url } = await startServerProcess(t, serverData);
  const dev = await startAgent(t, dir, 'CMD-03');
  const file = path.join(dir, 'long.sh');
  writeFileSync(file, LONG);
  const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', 'Device installer', '--dest', '\\Temp', '--command', 'long.sh']);
  assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', add.out.trim(), '--device', 'CMD-03'])).code, 0);

  const data = path.join(dir, 'station');
  const station = startDockhand(t, ['station', '--server', url, '--data', data, '--serial', dev.pair.a]);
  const { pid, child } = await deviceCommand(dev);
  const runs = (): CommandRunRecord[] => {
    if (!existsSync(deviceTargetDb(data, 'CMD-03'))) return [];
    const store = new ClientStore(deviceTargetDb(data, 'CMD-03'), { readonly: true });
    try {
      return store.getJson<CommandRunRecord[]>('command_runs') ?? [];
    } finally {
      store.close();
    }
  };
  const [run] = await waitFor('the station to record the device run', () => (runs().length ? runs() : undefined));
  station.kill('SIGKILL');
  await station.exited;

  const again = await dockhand(t, ['station', '--server', url, '--data', data, '--serial', dev.pair.a, '--once']);
  assert.equal(processAlive(pid) || processAlive(child), false, 'the command is no longer running on the device');
  const log = JSON.parse((await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'CMD-03', '--json'])).out) as
    Array<{ kind: string; messageID: number; parameters: Array<{ name: string; value: string }> }>;
  const sent = log.filter((e) => e.kind === 'status');
  assert.deepEqual(sent.map((e) => e.messageID), [11030, 11031, 20035], again.out + again.err);
  assert.match(sent[2]!.parameters.find((p) => p.name === 'Reason')!.value, /^interrupted: the device's agent ended it/);
  assert.equal(readFileSync(path.join(dev.root, 'Temp', 'runs.log'), 'utf8'), 'run\n', 'it ran once');
  const agentRuns = JSON.parse(readFileSync(path.join(dev.root, '.dockhand-agent', 'runs.json'), 'utf8')) as Array<{ runId: string; state: string }>;
  assert.deepEqual(agentRuns.map((r) => [r.runId, r.state]), [[run!.runId, 'interrupted']], 'the agent knew the run by the station\'s run ID');
});

test('a second device claiming a docked device\'s ID is refused, the technician told; the first keeps its session', { timeout: 120_000 }, async (t) => {
  const h = await harness(t);
  const dir = tempDir(t);
  const first = await startAgent(t, dir, 'SAME-ID', 'first');
  const second = await startAgent(t, dir, 'SAME-ID', 'second');
  const station = await h.openStation();
  const firstLink = await dock(station, first);
  await assert.rejects(dock(station, second), (err: unknown) => err instanceof DockhandError && err.code === 'LINK' &&
    err.message === `refused the device on ${second.pair.a}: it claims the ID SAME-ID, which the device on ${first.pair.a} already uses; ` +
      'give one of them another ID (dockhand agent --id); the device already docked keeps its session');
  await waitFor('the refused agent to hear the goodbye', () => /the station said goodbye: the station refused the device/.test(second.agent.out()));
  await waitFor('the refused port to be released', async () => {
    try {
      await dock(station, second);
      return 'docked';
    } catch (err) {
      return /refused the device/.test(String(err)) ? 'refused again' : undefined; // the port may still be closing
    }
  }).then((r) => assert.equal(r, 'refused again'));
  assert.equal(firstLink.closed, false, 'the first device keeps its link');
  assert.equal(station.devices.get('SAME-ID')!.port, first.pair.a);
  const activity = station.sessions.get('SAME-ID')!.store.logs().map((l) => l.message).filter((m) => m.startsWith('refused the device'));
  assert.equal(activity.length, 1, 'the docked device\'s activity says so, once');

  await h.addPackage('For the first', 'payload', { file: 'mine.bin', device: 'SAME-ID' });
  await station.runUntilIdle();
  assert.equal(readFileSync(path.join(first.root, 'Temp', 'mine.bin'), 'utf8'), 'payload');
  assert.equal(existsSync(path.join(second.root, 'Temp', 'mine.bin')), false, 'nothing reached the impostor');
});

test('a push cut by an undock resumes from the bytes the device holds: counted on the line, not read from a log', { timeout: 120_000 }, async (t) => {
  const h = await harness(t);
  const size = 2 * 1024 * 1024;
  const bytes = randomBytes(size);
  await h.addPackage('Image', bytes, { file: 'image.bin', device: 'LINE-01' });
  const station = await h.openStation();
  const ctx = await prepareAgent({ root: path.join(tempDir(t), 'device'), id: 'LINE-01', log: () => undefined });
  let toDevice = 0; // bytes the station wrote toward the device, over every cable
  const plug = () => {
    const cable = memoryCable({ tamper: (chunk, from) => ((from === 'a' ? (toDevice += chunk.length) : 0), chunk) });
    serveOnCable(t, ctx, cable);
    return cable;
  };
  const first = plug();
  station.dock(await openDeviceLink(first.a));
  const cut = setInterval(() => toDevice > size / 2 && first.unplug('the cable was pulled'), 2);
  t.after(() => clearInterval(cut));
  await station.runUntilIdle();
  clearInterval(cut);
  const beforeResume = toDevice;
  assert.ok(beforeResume > size / 2 && beforeResume < size, `cut mid-push (${beforeResume} bytes crossed)`);

  station.dock(await openDeviceLink(plug().a));
  await station.runUntilIdle();
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(readFileSync(path.join(ctx.root, 'Temp', 'image.bin'))), sha(bytes));
  // Framing costs about 3 %: a resumed push sends the rest once; a push from byte 0 would send over 1.5× the file.
  assert.ok(toDevice < size * 1.1, `${toDevice} bytes crossed the line for a ${size}-byte file`);
});
