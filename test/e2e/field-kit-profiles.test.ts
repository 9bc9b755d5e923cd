// Field-kit profiles through the station API (issue 9 items 3 and 5): two devices that docked online are two
// profiles, the first the default; offline, a new device is provisioned from the default profile, and a
// technician picks the other profile on its card before anything started — the device is provisioned again
// from it. Once a package started, another pick is refused in words. The snapshot says what the header and
// the card show: the server unreachable with the kit's age, and "provisioned offline, N messages waiting".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { harness } from '../helpers/station-harness.js';
import { dock, startAgent } from '../helpers/agents.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { StationService } from '../../electron/station/service.js';
import type { Station } from '../../electron/station/station.js';
import { formatDmTimestamp } from '../../shared/protocol/index.js';
import { offlineWords, provisionedOfflineWords } from '../../shared/model/field-kit.js';
import { SnapshotSchema } from '../../shared/contract/station-api.js';

const HOUR = 3_600_000;

function service(station: Station): StationService {
  return new StationService(station, {
    settings: () => ({ server: station.opts.server, pollIntervalMs: HOUR, rateLimit: 0, allowCommands: false, serialPorts: [], baudRate: 115200, usb: [], concurrency: 8, profiles: [], defaultProfile: '' }),
    info: () => ({ id: station.local.target.id, version: 'test', demo: false, dataDir: '', root: station.root }),
    updateSettings: async () => 'unchanged', addSerialPort: async () => '', forgetSerialPort: async () => '',
  });
}

test('a technician picks another profile on a new device\'s card before it starts; the snapshot says offline with the kit\'s age', async (t) => {
  const h = await harness(t);
  const dir = tempDir(t);
  // The scanner's app waits two hours for its start time: a device provisioned from it has not started anything.
  const later = formatDmTimestamp(new Date(h.clock.now() + 2 * HOUR), true);
  const scannerApp = await h.addPackage('Scanner app', 'scan', { file: 'scan.bin', device: 'SCAN-01', startTime: later, startUtc: true });
  const printerDriver = await h.addPackage('Printer driver', 'print', { file: 'driver.bin', device: 'PRN-01' });
  const station = await h.openStation();
  const api = service(station);
  t.after(() => api.close());
  const scanner = await startAgent(t, dir, 'SCAN-01');
  const printer = await startAgent(t, dir, 'PRN-01');
  const links = [await dock(station, scanner)];
  await station.runUntilIdle();
  links.push(await dock(station, printer));
  await station.runUntilIdle();
  assert.deepEqual(station.kit.profiles().map((p) => p.name), ['bench-SCAN-01', 'bench-PRN-01']);
  // A refresh on request polls as every profile (the server sees those polls, docs/field-kit.md).
  const pollsBefore = h.log().filter((e) => e.kind === 'poll').length;
  const refreshing = await api.execute({ type: 'refreshKit' });
  assert.deepEqual(refreshing, { ok: true, message: 'refreshing the field kit: 2 profile(s); the activity says when each is done' });
  await station.kit.idle();
  assert.deepEqual(h.log().filter((e) => e.kind === 'poll').slice(pollsBefore).map((e) => e.deviceId), ['SCAN-01', 'PRN-01']);
  for (const l of links) await l.close('off the bench');
  await waitFor('both undocked', () => [...station.devices.values()].every((d) => !d.docked));
  await h.stopServer();

  const fresh = await startAgent(t, dir, 'NEW-02');
  await dock(station, fresh);
  await station.runUntilIdle();
  const session = station.sessions.get('NEW-02')!;
  assert.deepEqual(session.store.packages().map((p) => [p.id, p.state]), [[scannerApp, 'scheduled']], 'provisioned from the default profile, not started');

  let snap = SnapshotSchema.parse(await api.getSnapshot());
  assert.equal(snap.station.online, false, 'the last contact failed');
  assert.equal(snap.station.contact.state, 'unreachable');
  assert.match(snap.station.contact.problem, /refused the connection/);
  assert.equal(offlineWords(snap.station.fieldKit.asOf), offlineWords(station.kit.view().asOf));
  assert.match(offlineWords(snap.station.fieldKit.asOf), /^Offline: field kit from \d+ \w{3} \d\d:\d\d$/);
  let card = snap.devices.find((d) => d.id === 'NEW-02')!;
  assert.deepEqual([card.provisionedOffline, card.kitProfile, card.messagesWaiting], [true, 'bench-SCAN-01', 0]);

  const picked = await api.execute({ type: 'useKitProfile', target: 'NEW-02', profile: 'bench-PRN-01' });
  assert.equal(picked.ok, true, picked.message);
  await station.runUntilIdle();
  assert.equal(readFileSync(path.join(fresh.root, 'Temp', 'driver.bin'), 'utf8'), 'print');
  assert.equal(existsSync(path.join(fresh.root, 'Temp', 'scan.bin')), false);
  assert.deepEqual(session.store.packages().map((p) => p.id), [printerDriver], 'the scanner app went with the scanner profile');

  snap = SnapshotSchema.parse(await api.getSnapshot());
  card = snap.devices.find((d) => d.id === 'NEW-02')!;
  assert.deepEqual([card.provisionedOffline, card.kitProfile, card.messagesWaiting], [true, 'bench-PRN-01', 3]);
  assert.equal(provisionedOfflineWords(card.messagesWaiting), 'provisioned offline, 3 messages waiting for the server');

  const late = await api.execute({ type: 'useKitProfile', target: 'NEW-02', profile: 'bench-SCAN-01' });
  assert.equal(late.ok, false);
  assert.match(late.message, /already started installing from profile bench-PRN-01; a profile is picked before the first package starts/);
  const unknown = await api.execute({ type: 'useKitProfile', target: 'NEW-02', profile: 'no-such-kind' });
  assert.match(unknown.message, /no field-kit profile 'no-such-kind'; the profiles are: bench-SCAN-01, bench-PRN-01/);
});
