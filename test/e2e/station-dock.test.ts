// Proxied sessions for tethered devices: real agent processes on real pseudo-terminal pairs (socat), the real
// reference server over loopback, the station engine in process with a manual clock. A docked device is a
// managed client with its own identity: the station polls as the device, pushes its packages over the link,
// has the device run the command line, and reports on its behalf; docking is what cradled-only packages
// wait for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { harness, STATION_ID, type Harness } from '../helpers/station-harness.js';
import { dock, startAgent } from '../helpers/agents.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { readStatus } from '../../electron/station/status.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function deviceStatuses(h: Harness, deviceId: string): number[] {
  return h.log().filter((e) => e.kind === 'status' && e.deviceId === deviceId).map((e) => (e.kind === 'status' ? e.messageID : 0));
}

test('a cradled-only package never runs for the station itself, waits for an undocked device, and runs when it docks', async (t) => {
  const h = await harness(t);
  const dir = tempDir(t);
  const dev = await startAgent(t, dir, 'DOCK-01');
  const id = await h.addPackage('Cradled firmware', '#!/bin/sh\necho "flashed $1" > flashed.txt\n', {
    file: 'flash.sh', flags: 0x04, commandLine: 'flash.sh v2', localDestination: '\\Firmware', device: '*',
  });
  const station = await h.openStation({ allowCommands: true });
  await station.runUntilIdle();
  assert.deepEqual(h.statuses(), [], 'nothing ran for the station');
  const own = readStatus(h.stationData, h.clock.now()).tasks.find((x) => x.target === STATION_ID && x.package === id)!;
  assert.equal(own.waitingFor, 'waiting for dock (cradled-only package)');

  const link = await dock(station, dev);
  await station.runUntilIdle();
  // The station polled as the device, with the device's identification.
  const poll = h.log().find((e) => e.kind === 'poll' && e.deviceId === 'DOCK-01');
  assert.ok(poll && poll.kind === 'poll');
  assert.equal(poll.identification.DeviceName, 'bench-DOCK-01');
  assert.deepEqual(deviceStatuses(h, 'DOCK-01'), [11030, 11031, 11035]);
  assert.equal(readFileSync(path.join(dev.root, 'Firmware', 'flash.sh'), 'utf8'), '#!/bin/sh\necho "flashed $1" > flashed.txt\n');
  assert.equal(readFileSync(path.join(dev.root, 'Firmware', 'flashed.txt'), 'utf8'), 'flashed v2\n', 'the command ran on the device');
  assert.equal(existsSync(path.join(h.root, 'Firmware')), false, 'nothing was installed on the station');
  assert.ok(!h.statuses().some((s) => deviceStatuses(h, STATION_ID).length > 0 && s.packageID === id), 'the station reported nothing for itself');

  const status = readStatus(h.stationData, h.clock.now());
  const device = status.devices.find((d) => d.id === 'DOCK-01')!;
  assert.equal(device.state, 'docked');
  assert.equal(device.name, 'bench-DOCK-01');
  assert.equal(device.port, dev.pair.a);

  // Undocked, a newly assigned cradled-only package waits for the next dock.
  await link.close('the test undocks');
  await waitFor('the station to see the undock', () => readStatus(h.stationData, h.clock.now()).devices[0]!.state === 'undocked');
  const later = await h.addPackage('Second cradled', 'data', { file: 'second.bin', flags: 0x04, device: 'DOCK-01' });
  h.clock.advance(60 * 60 * 1000);
  await station.runUntilIdle();
  assert.ok(!h.log().some((e) => e.kind === 'status' && e.packageID === later), 'nothing ran while undocked');
  const waiting = readStatus(h.stationData, h.clock.now()).tasks.filter((x) => x.target === 'DOCK-01' && x.state === 'queued');
  assert.ok(waiting.length > 0 && waiting.every((x) => x.waitingFor === 'waiting for dock'));

  await dock(station, dev);
  await station.runUntilIdle();
  assert.ok(h.log().some((e) => e.kind === 'status' && e.packageID === later && e.messageID === 11035));
  assert.equal(readFileSync(path.join(dev.root, 'Temp', 'second.bin'), 'utf8'), 'data');
});

test('unplugged mid-push, the task waits for dock; re-plugged, the push resumes from the byte the device holds', async (t) => {
  const h = await harness(t);
  const dir = tempDir(t);
  const dev = await startAgent(t, dir, 'PLUG-01');
  const bytes = randomBytes(6 * 1024 * 1024);
  await h.addPackage('Big image', bytes, { file: 'image.bin', localDestination: '\\Images', device: 'PLUG-01' });
  // The cable is pulled from the progress event itself, once a third of the file has crossed.
  let pulling: Promise<void> | undefined;
  const station = await h.openStation({
    emit: (e) => {
      h.events.push(e);
      if (!pulling && e.type === 'progress' && e.leg === 'push' && e.targetId === 'PLUG-01' && e.bytesDone > 2 * 1024 * 1024) {
        pulling = dev.pair.unplug();
      }
    },
  });
  const firstLeg = { bytes: 0 };
  const link = await dock(station, dev, firstLeg);
  await station.runUntilIdle();
  assert.ok(pulling, 'the link was cut during the push');
  await pulling;
  await waitFor('the link to close', () => link.closed, 20_000);
  await waitFor('the agent to keep what it received', () => /kept for resume/.test(dev.agent.out()), 20_000);
  const part = path.join(dev.root, 'Images', '.image.bin.dockhand-part');
  const held = statSync(part).size;
  assert.ok(held > 2 * 1024 * 1024 && held < bytes.length, `the device holds part of the file (${held} bytes)`);
  assert.ok(readFileSync(part).equals(bytes.subarray(0, held)), 'what the device holds is the start of the file');

  const status = readStatus(h.stationData, h.clock.now());
  const task = status.tasks.find((x) => x.target === 'PLUG-01' && x.kind === 'download')!;
  assert.equal(task.state, 'queued');
  assert.equal(task.waitingFor, 'waiting for dock');
  const leg = status.transfers.find((x) => x.target === 'PLUG-01')!;
  assert.ok(leg.bytesDone > 0 && leg.bytesDone < bytes.length, `the device leg's checkpoint is recorded (${leg.bytesDone})`);
  assert.deepEqual(deviceStatuses(h, 'PLUG-01'), [11030], 'the event started once and has not ended');

  await dev.pair.plug();
  const secondLeg = { bytes: 0 };
  await dock(station, dev, secondLeg);
  await station.runUntilIdle();
  assert.equal(sha(readFileSync(path.join(dev.root, 'Images', 'image.bin'))), sha(bytes));
  assert.deepEqual(deviceStatuses(h, 'PLUG-01'), [11030, 11031, 11035]);
  // The proof of the resume is what crossed the link: the rest of the file and the link's framing (a few
  // per cent), not the whole file again (a restart from byte 0 writes more than 6 MiB here, rest < 4 MiB).
  const rest = bytes.length - held;
  assert.ok(secondLeg.bytes >= rest, `the second docking sent ${secondLeg.bytes} bytes, fewer than the ${rest} the device lacked`);
  assert.ok(secondLeg.bytes < rest * 1.1,
    `the second docking sent ${secondLeg.bytes} bytes for the ${rest} the device lacked: it sent again what the device held (${held})`);
  assert.ok(firstLeg.bytes >= held, 'the first docking sent at least what the device kept');
  const resumed = station.sessions.get('PLUG-01')!.store.logs().map((l) => l.message).find((m) => /resuming from byte (\d+)/.test(m));
  assert.ok(resumed, 'the activity says the second push resumed from the device\'s offset');
  assert.equal(Number(/resuming from byte (\d+)/.exec(resumed)![1]), held, 'from exactly the bytes the device held');
});

test('several devices at once: the package is downloaded once into the cache and pushed to each', async (t) => {
  const h = await harness(t);
  const dir = tempDir(t);
  const bytes = randomBytes(512 * 1024);
  const devices = await Promise.all(['FAN-01', 'FAN-02', 'FAN-03'].map((id) => startAgent(t, dir, id)));
  await h.addPackage('Shared app', bytes, { file: 'app.bin', flags: 0x04, device: '*' });
  // Package bytes travel through a counting proxy, so the test sees how often the server sent them.
  await h.stopServer();
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: h.port });
  t.after(() => proxy.close());
  await h.startServer(proxy.url);
  const station = await h.openStation();
  await Promise.all(devices.map((d) => dock(station, d)));
  await station.runUntilIdle();
  for (const d of devices) {
    assert.equal(sha(readFileSync(path.join(d.root, 'Temp', 'app.bin'))), sha(bytes), d.id);
    assert.deepEqual(deviceStatuses(h, d.id), [11030, 11031, 11035], d.id);
  }
  const gets = proxy.stats().connections.flatMap((c) => c.requests.filter((r) => r.method === 'GET'));
  assert.equal(gets.length, 1, 'one download for three devices');
  assert.equal(proxy.stats().totalResponseBodyBytes, bytes.length);
  const view = readStatus(h.stationData, h.clock.now());
  assert.equal(view.devices.length, 3);
  assert.ok(view.devices.every((d) => d.state === 'docked'));
});
