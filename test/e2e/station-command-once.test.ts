// At most one copy of a command, ever (issue 7), on the station itself: a `kill -9` of the station while a
// post-install command runs leaves the command running on its own; the next start ends it (its whole
// process group) before any session runs, and reports 20035 "interrupted … not run again" instead of
// starting a second copy. A graceful stop and a pause end the running command too. Real `dockhand server`
// and `dockhand station` processes; every kill happens on an observed event (the command's pid file and the
// station's own record of the run), never after a sleep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockhand, processAlive, startDockhand, startServerProcess } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { commandStarted } from '../helpers/started-command.js';
import { harness } from '../helpers/station-harness.js';
import { ClientStore } from '../../electron/store/client-store.js';
import { localTargetDb } from '../../electron/station/station.js';
import type { CommandRunRecord } from '../../electron/engine/command-journal.js';

// Appends one line per start, starts a child in its group, and waits: a command that runs until it is ended.
const LONG = '#!/bin/sh\necho run >> runs.log\nsleep 600 &\necho $! > child\necho $$ > pid\nwait\n';

async function publishLong(t: Parameters<typeof dockhand>[0], dir: string, serverData: string): Promise<void> {
  const file = path.join(dir, 'long.sh');
  writeFileSync(file, LONG);
  const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', 'Long installer', '--dest', '\\Temp', '--command', 'long.sh']);
  assert.equal(add.code, 0, add.err);
  assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', add.out.trim(), '--device', '*'])).code, 0);
}

/** The station's own record of its command runs, read from its database while it runs. */
function recordedRuns(data: string): CommandRunRecord[] {
  if (!existsSync(localTargetDb(data))) return [];
  const store = new ClientStore(localTargetDb(data), { readonly: true });
  try {
    return store.getJson<CommandRunRecord[]>('command_runs') ?? [];
  } catch {
    return []; // not created yet
  } finally {
    store.close();
  }
}

/** Waits until the command runs and the station has recorded its pid; returns the command's pid and child. */
async function commandRunning(data: string): Promise<{ pid: number; child: number }> {
  const started = await commandStarted(path.join(data, 'root', 'Temp'));
  await waitFor('the station to record the run with its pid', () => recordedRuns(data).some((r) => r.pid === started.pid && r.startTime !== null), 20_000);
  return started;
}

async function statuses(t: Parameters<typeof dockhand>[0], serverData: string, device: string) {
  const log = JSON.parse((await dockhand(t, ['server', 'log', '--data', serverData, '--device', device, '--json'])).out) as
    Array<{ kind: string; messageID: number; parameters: Array<{ name: string; value: string }> }>;
  return log.filter((e) => e.kind === 'status').map((e) => ({ id: e.messageID, reason: e.parameters.find((p) => p.name === 'Reason')?.value ?? '' }));
}

test('kill -9 during a command: the next start ends the leftover command and reports it interrupted, never running it twice', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url } = await startServerProcess(t, serverData);
  await publishLong(t, dir, serverData);
  const data = path.join(dir, 'station');
  const station = startDockhand(t, ['station', '--server', url, '--data', data, '--id', 'ONCE-1', '--allow-commands']);
  const { pid, child } = await commandRunning(data);
  station.kill('SIGKILL'); // the station's process group; the command has a group of its own
  await station.exited;
  assert.ok(processAlive(pid) && processAlive(child), 'the command outlived the station (the situation to handle)');
  t.after(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* ended */ } });

  const again = await dockhand(t, ['station', '--server', url, '--data', data, '--id', 'ONCE-1', '--allow-commands', '--once']);
  assert.equal(processAlive(pid), false, 'the leftover command was ended');
  assert.equal(processAlive(child), false, 'and what it started, with its process group');
  assert.equal(readFileSync(path.join(data, 'root', 'Temp', 'runs.log'), 'utf8'), 'run\n', 'the command ran once');
  const sent = await statuses(t, serverData, 'ONCE-1');
  assert.deepEqual(sent.map((s) => s.id), [11030, 11031, 20035]);
  assert.equal(sent[2]!.reason, 'interrupted: the station stopped while the command ran; ended at restart, not run again');
  assert.equal(again.code, 1, 'an interrupted command is a problem --once reports');
  assert.match(again.err, /interrupted/);
  assert.deepEqual(recordedRuns(data), [], 'the run is settled with its status message');
});

test('a graceful stop ends the running command and records it; the next start reports it, not running it again', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url } = await startServerProcess(t, serverData);
  await publishLong(t, dir, serverData);
  const data = path.join(dir, 'station');
  const station = startDockhand(t, ['station', '--server', url, '--data', data, '--id', 'ONCE-2', '--allow-commands']);
  const { pid, child } = await commandRunning(data);
  station.child.kill('SIGTERM');
  assert.equal(await station.exited, 0);
  assert.equal(processAlive(pid), false, 'the stop ended the command');
  assert.equal(processAlive(child), false, 'and its process group');
  assert.deepEqual(recordedRuns(data).map((r) => r.state), ['interrupted']);

  await dockhand(t, ['station', '--server', url, '--data', data, '--id', 'ONCE-2', '--allow-commands', '--once']);
  const sent = await statuses(t, serverData, 'ONCE-2');
  assert.deepEqual(sent.map((s) => s.id), [11030, 11031, 20035]);
  assert.equal(sent[2]!.reason, 'interrupted: the station stopped while the command ran; it was ended then, not run again');
  assert.equal(readFileSync(path.join(data, 'root', 'Temp', 'runs.log'), 'utf8'), 'run\n');
});

test('pausing a package while its command runs ends the command (its pid is gone); resumed, it is reported, not run again', { timeout: 90_000 }, async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Long installer', LONG, { file: 'long.sh', commandLine: 'long.sh' });
  const station = await h.openStation({ allowCommands: true });
  const running = station.runUntilIdle();
  const temp = path.join(h.root, 'Temp');
  const { pid, child } = await commandStarted(temp, 10_000);
  station.local.pause(id);
  await running;
  assert.equal(processAlive(pid), false, 'the paused command was ended');
  assert.equal(processAlive(child), false, 'with its process group');
  assert.deepEqual(station.local.store.task('download', id)!.wait, { kind: 'technician', reason: 'paused' });

  station.local.resume(id);
  await station.runUntilIdle();
  const sent = h.statuses().filter((s) => s.packageID === id);
  assert.deepEqual(sent.map((s) => s.messageID), [11030, 11031, 20035]);
  assert.match(sent[2]!.parameters.find((p) => p.name === 'Reason')!.value, /^interrupted: a technician paused the package while the command ran/);
  assert.equal(readFileSync(path.join(temp, 'runs.log'), 'utf8'), 'run\n', 'not run again');
});
