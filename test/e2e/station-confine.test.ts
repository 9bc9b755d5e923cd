// Server data is never a path (issue 7): whatever package IDs and file names a server sends, the station's own
// files (station.json, the client databases, the cache index) are never written or deleted, unsafe IDs are
// refused while the rest of the poll applies, IDs differing only in case are one package, and a package
// the server stops listing leaves the cache (folder and index entry) once no target uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Station } from '../../electron/station/station.js';
import { ManualClock } from '../../electron/engine/clock.js';
import { ClientStore } from '../../electron/store/client-store.js';
import { CacheStore } from '../../electron/store/cache-store.js';
import { cacheFolder, deviceFolder, legacyDeviceFolderName } from '../../electron/engine/confine.js';
import * as admin from '../../server/admin.js';
import { harness, STATION_ID } from '../helpers/station-harness.js';
import { scriptedServer } from '../helpers/scripted-server.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { serveOnCable } from '../helpers/memory-agent.js';
import { dock, startAgent } from '../helpers/agents.js';
import { KIT_USER } from '../../electron/engine/kit/refresh.js';
import { prepareAgent } from '../../agent/agent.js';
import { memoryCable } from '../../electron/link/link-memory.js';
import { openDeviceLink } from '../../electron/link/link-client.js';

const GOOD = '9A437CA5-5B17-4486-9E87-260742074A72';
const DAY = 24 * 60 * 60 * 1000;

async function openStation(t: { after(fn: () => unknown): void }, server: string, dir: string) {
  const clock = new ManualClock(Date.now());
  const s = await Station.open({ dataDir: path.join(dir, 'data'), root: path.join(dir, 'root'), server, id: 'CONFINE-TEST', clock, allowCommands: true });
  t.after(() => s.close());
  return { s, clock };
}

/** What the cache folder may hold: its index and one hashed folder per package. */
function unexpectedCacheEntries(data: string): string[] {
  return readdirSync(path.join(data, 'cache')).filter((n) => !/^cache\.sqlite(-wal|-shm)?$/.test(n) && !/^p-[0-9a-f]{32}$/.test(n));
}

test('hostile package IDs and file names never reach the station\'s files; the rest of the poll applies; unlisting frees it all', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const sentinel = '{ "sentinel": "the technician\'s settings" }\n';
  writeFileSync(path.join(data, 'station.json'), sentinel);
  const refused = ['..', '.', '../station.json', '..\\..\\', '%2e%2e', '/etc/passwd', 'C:\\Windows', '\\\\srv\\share', '.hidden',
    'x'.repeat(200), 'ѕtation.json' /* Cyrillic s */, 'ｓｔａｔｉｏｎ', 'a b', '-rf'];
  // Valid identifiers that happen to spell the station's file names: harmless, since folders are hashes.
  const lookalikes = ['station.json', 'cache.sqlite', 'targets', 'client.sqlite'];
  let listed = [...refused, ...lookalikes, GOOD];
  const srv = await scriptedServer(t, {
    listed: () => listed,
    fileName: (id) => (id === GOOD ? 'setup.sh' : id),
    instructions: (id) => (id === GOOD ? { CommandLine: 'setup.sh' } : {}),
  });
  const { s, clock } = await openStation(t, srv.url, dir);
  await s.runUntilIdle();

  assert.equal(readFileSync(path.join(data, 'station.json'), 'utf8'), sentinel, 'station.json untouched');
  assert.deepEqual(unexpectedCacheEntries(data), []);
  const asked = new Set(srv.requests.filter((r) => r.action !== 'Poll').map((r) => r.packageId));
  for (const id of refused) assert.ok(!asked.has(id), `nothing was asked about the refused ID '${id}'`);
  const good = srv.statuses.filter((x) => x.packageID === GOOD).map((x) => x.messageID);
  assert.deepEqual(good, [11030, 11031, 11035], 'the valid package in the same poll installed and ran');
  for (const id of lookalikes) {
    assert.deepEqual(srv.statuses.filter((x) => x.packageID === id).map((x) => x.messageID), [11030, 11031, 11035], id);
    assert.ok(existsSync(path.join(dir, 'root', 'Temp', id)), `${id} landed in the root, as the device's file`);
  }
  const logs = s.local.store.logs(1000).map((l) => l.message);
  for (const id of ['..', '../station.json', '%2e%2e']) {
    assert.equal(logs.filter((m) => m.startsWith(`refused the package ID '${id}'`)).length, 1, `'${id}' is named in one clear error`);
  }
  const cache = new CacheStore(path.join(data, 'cache', 'cache.sqlite'));
  assert.equal(cache.entries().length, lookalikes.length + 1, 'the cache index is a database with one entry per package');
  cache.close();

  // A second poll: the refusals are not logged again.
  clock.advance(2 * DAY);
  await s.runUntilIdle();
  const again = s.local.store.logs(1000).map((l) => l.message);
  assert.equal(again.filter((m) => m.startsWith("refused the package ID '..'")).length, 1, 'logged once, not at every poll');

  // Unlisted: every file the packages saved and every cache entry goes; the station's own files stay.
  listed = [...refused];
  clock.advance(2 * DAY);
  await s.runUntilIdle();
  assert.equal(readFileSync(path.join(data, 'station.json'), 'utf8'), sentinel);
  assert.ok(existsSync(path.join(data, 'targets', 'local', 'client.sqlite')), 'the client database is still there');
  assert.deepEqual(readdirSync(path.join(data, 'cache')).filter((n) => n.startsWith('p-')), [], 'no package folder is left in the cache');
  for (const id of lookalikes) assert.equal(existsSync(path.join(dir, 'root', 'Temp', id)), false, `${id} was uninstalled`);
  assert.equal(s.cache.entries().length, 0);
  assert.deepEqual(s.local.store.packages(), []);
});

test('package IDs that differ only in case are one package, kept under the first spelling', async (t) => {
  const dir = tempDir(t);
  const lower = GOOD.toLowerCase();
  let listed = [lower, GOOD, lower];
  const srv = await scriptedServer(t, { listed: () => listed, fileName: () => 'app.bin' });
  const { s, clock } = await openStation(t, srv.url, dir);
  await s.runUntilIdle();
  assert.deepEqual(srv.requests.filter((r) => r.action === 'InstructionRequest').map((r) => r.packageId), [lower], 'asked once');
  assert.deepEqual(srv.statuses.map((x) => [x.packageID, x.messageID]), [[lower, 11030], [lower, 11031], [lower, 11035]], 'installed once');
  assert.deepEqual(s.local.store.packages().map((p) => p.id), [lower]);

  // The server now spells it in upper case only: still the same package, neither removed nor installed again.
  listed = [GOOD];
  clock.advance(2 * DAY);
  await s.runUntilIdle();
  assert.deepEqual(s.local.store.packages().map((p) => p.id), [lower]);
  assert.equal(srv.statuses.length, 3, 'nothing ran again');
  assert.ok(existsSync(path.join(dir, 'root', 'Temp', 'app.bin')));
});

test('a known device in a folder named the old way keeps its database: it moves to its hashed folder', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const id = 'HAND/7';
  const legacy = path.join(data, 'targets', legacyDeviceFolderName(id));
  const old = new ClientStore(path.join(legacy, 'client.sqlite'));
  old.set('id', id);
  old.setJson('hello', { name: 'bench handheld' });
  old.insertPackage(GOOD, 1);
  old.close();
  // Another device whose ID the old naming mapped to the same folder name now gets a folder of its own.
  assert.notEqual(deviceFolder(data, 'HAND_7'), deviceFolder(data, id));

  const srv = await scriptedServer(t, { listed: () => [] });
  const { s } = await openStation(t, srv.url, dir);
  assert.ok(s.devices.has(id), 'the device is known again');
  assert.deepEqual(s.sessions.get(id)!.store.packages().map((p) => p.id), [GOOD], 'with its packages');
  assert.equal(existsSync(legacy), false);
  assert.ok(existsSync(path.join(deviceFolder(data, id), 'client.sqlite')));
});

test('the cache frees a package the server no longer lists: its folder and index entry go once no target uses it', async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Freed', Buffer.alloc(300_000, 7), { file: 'freed.bin' });
  const station = await h.openStation();
  await station.runUntilIdle();
  const folder = cacheFolder(path.join(h.stationData, 'cache'), id);
  assert.equal(readFileSync(path.join(folder, 'file')).length, 300_000, 'downloaded into its cache folder');
  assert.deepEqual(station.cache.entries().map((e) => [e.packageId, e.users]), [[id, [STATION_ID]]]);

  admin.unassignPackage(h.serverData, id, STATION_ID);
  h.clock.advance(2 * DAY);
  await station.runUntilIdle();
  assert.equal(existsSync(folder), false, 'the cache folder is gone from disk');
  assert.deepEqual(station.cache.entries(), [], 'the index entry is gone');
  assert.equal(existsSync(path.join(h.root, 'Temp', 'freed.bin')), false, 'the installed file is gone');
});

test('the cache keeps a package while another target still uses it, and frees it when the last one lets go', async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Shared', Buffer.alloc(200_000, 5), { file: 'shared.bin' });
  admin.assignPackage(h.serverData, id, 'SHARE-01');
  const station = await h.openStation();
  const dev = await startAgent(t, tempDir(t), 'SHARE-01');
  await dock(station, dev);
  await station.runUntilIdle();
  const folder = cacheFolder(path.join(h.stationData, 'cache'), id);
  // The device is a field-kit profile of its own (issue 9), so the kit holds the package too.
  assert.deepEqual(station.cache.entries().map((e) => [e.packageId, [...e.users].sort()]), [[id, [STATION_ID, 'SHARE-01', KIT_USER].sort()]]);

  admin.unassignPackage(h.serverData, id, STATION_ID);
  h.clock.advance(2 * DAY);
  await station.runUntilIdle();
  assert.equal(existsSync(path.join(h.root, 'Temp', 'shared.bin')), false, 'the station removed its copy');
  assert.equal(readFileSync(path.join(folder, 'file')).length, 200_000, 'the cache keeps the file: the device still uses it');
  assert.deepEqual(station.cache.entries().map((e) => [e.packageId, [...e.users].sort()]), [[id, ['SHARE-01', KIT_USER].sort()]]);

  admin.unassignPackage(h.serverData, id, 'SHARE-01');
  h.clock.advance(2 * DAY);
  await station.runUntilIdle();
  assert.equal(existsSync(path.join(dev.root, 'Temp', 'shared.bin')), false, 'the device removed its copy');
  assert.equal(existsSync(folder), false, 'the last users (the device, its kit profile) let go: the cache folder is gone');
  assert.deepEqual(station.cache.entries(), []);
});

test('a device whose ID cannot be used (a control character) is refused at dock; nothing is created for it', async (t) => {
  const dir = tempDir(t);
  const srv = await scriptedServer(t, { listed: () => [] });
  const { s } = await openStation(t, srv.url, dir);
  const ctx = await prepareAgent({ root: path.join(dir, 'device'), id: 'BAD\u0001ID', log: () => undefined });
  const cable = memoryCable();
  serveOnCable(t, ctx, cable);
  const link = await openDeviceLink(cable.a);
  assert.throws(() => s.dock(link), /^DockhandError: refused the device on memory:a: its ID 'BAD<0x01>ID' contains a control character/);
  await waitFor('the refused link to close', () => link.closed);
  assert.equal(s.devices.size, 0);
  assert.equal(existsSync(path.join(dir, 'data', 'targets')) && readdirSync(path.join(dir, 'data', 'targets')).some((n) => n.startsWith('device-')), false);
});
