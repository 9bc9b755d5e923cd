// `dockhand station --serial PATH`: the station process docks a real agent process on a pseudo-terminal,
// serves it as its own managed client, and `station status --json` lists the device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockhand, startDockhand, startServerProcess } from '../helpers/processes.js';
import { ptyPair } from '../helpers/pty.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

test('station --serial docks the agent, installs its cradled-only package and lists the device', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url } = await startServerProcess(t, serverData);
  const file = path.join(dir, 'setup.sh');
  writeFileSync(file, '#!/bin/sh\necho "set up" > done.txt\n');
  const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', 'Cradled setup',
    '--flags', '04 00 00 00', '--dest', '\\Apps', '--command', 'setup.sh']);
  assert.equal(add.code, 0, add.err);
  assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', add.out.trim(), '--device', '*'])).code, 0);

  const pair = await ptyPair(t, dir, 'bench');
  const agentRoot = path.join(dir, 'device');
  const agent = startDockhand(t, ['agent', '--port', pair.b, '--root', agentRoot, '--id', 'SERIAL-CLI-1', '--name', 'scanner-7']);
  await waitFor('the agent to listen', () => agent.out().includes('listening on'), 30_000);

  const data = path.join(dir, 'station');
  const run = await dockhand(t, ['station', '--server', url, '--data', data, '--id', 'STATION-CLI', '--serial', pair.a, '--baud', '115200', '--once']);
  assert.equal(run.code, 0, `${run.err}${run.out}`); // waiting for a dock is not a failure
  assert.equal(readFileSync(path.join(agentRoot, 'Apps', 'done.txt'), 'utf8'), 'set up\n');

  const status = JSON.parse((await dockhand(t, ['station', 'status', '--data', data, '--json'])).out);
  const device = status.devices.find((d: { id: string }) => d.id === 'SERIAL-CLI-1');
  assert.ok(device, JSON.stringify(status.devices));
  assert.equal(device.name, 'scanner-7');
  assert.equal(device.port, pair.a);
  const own = status.tasks.find((x: { target: string; kind: string }) => x.target === 'STATION-CLI' && x.kind === 'download');
  assert.equal(own.waitingFor, 'waiting for dock (cradled-only package)');
  const log = JSON.parse((await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'SERIAL-CLI-1', '--json'])).out);
  assert.deepEqual(log.filter((e: { kind: string }) => e.kind === 'status').map((e: { messageID: number }) => e.messageID), [11030, 11031, 11035]);
});
