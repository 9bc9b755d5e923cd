// The admin API in-process on a real data folder (real SQLite, real files), and the demo catalog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  addPackage, assignPackage, getSettings, InputError, listPackages, readLog, removePackage, setSettings, startDemoServer,
  seedDemoCatalog, unassignPackage, DEMO_DIR, readDemoCatalog,
} from '../../server/index.js';
import { buildInstructionsRequest, buildPollRequest, parseInstructions, parsePollResponse } from '../../shared/protocol/index.js';
import { httpRequest } from '../../server/process-harness.js';
import { tempDir } from '../helpers/tmp.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

test('addPackage copies the file in, hashes it, and replacing it keeps the assignments', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const file = path.join(dir, 'app.cab');
  writeFileSync(file, 'version one');
  const p = await addPackage(data, { file, name: 'App' });
  assert.match(p.id, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  assert.equal(p.size, 11);
  assert.equal(p.sha256, sha('version one'));
  assert.equal(p.required, true);
  assert.equal(p.sourceFiles, true);
  assert.equal(p.localDestination, '\\Temp');
  assert.equal(readFileSync(path.join(data, 'packages', p.id, 'app.cab'), 'utf8'), 'version one');

  assert.equal(assignPackage(data, p.id, 'DEV-1'), true);
  assert.equal(assignPackage(data, p.id.toLowerCase(), 'DEV-1'), false, 'already assigned');
  writeFileSync(file, 'version two, longer');
  const again = await addPackage(data, { file, name: 'App v2', id: p.id, required: false });
  assert.equal(again.id, p.id);
  assert.equal(again.sha256, sha('version two, longer'));
  assert.equal(again.addedAt, p.addedAt);
  const [listed] = listPackages(data);
  assert.deepEqual([listed?.name, listed?.required, listed?.assignedTo], ['App v2', false, ['DEV-1']]);
  assert.deepEqual(readdirSync(path.join(data, 'packages')).sort(), ['.staging', p.id].sort());
  assert.deepEqual(readdirSync(path.join(data, 'packages', '.staging')), [], 'no staging leftovers');

  assert.equal(unassignPackage(data, p.id, 'DEV-2'), false);
  assert.equal(unassignPackage(data, p.id, 'DEV-1'), true);
  assert.throws(() => assignPackage(data, '00000000-0000-0000-0000-000000000000', '*'), InputError);
  await assert.rejects(addPackage(data, { file, name: '' }), InputError);
  await assert.rejects(addPackage(data, { file, name: 'x', startTime: '2024-02-30 00:00:00' }), /start time/);
  await assert.rejects(addPackage(data, { file, name: 'x', recurrence: { intervalMs: 0, behavior: 'Execute Only' } }), InputError);
  await assert.rejects(addPackage(data, { file, name: 'x', commandLine: 'a\nb' }), /one line/);
  await removePackage(data, p.id);
  assert.deepEqual(listPackages(data), []);
  assert.equal(existsSync(path.join(data, 'packages', p.id)), false);
  await assert.rejects(removePackage(data, p.id), InputError);
  assert.deepEqual(readLog(data), []);
});

test('device settings override the global defaults for that device only', (t) => {
  const data = path.join(tempDir(t), 'data');
  assert.equal(getSettings(data).pollIntervalMs, 3_600_000, 'client factory default');
  setSettings(data, { pollIntervalMs: 600_000, softwareInventory: { enabled: true, filters: [
    { Filter: '*.exe', Path: '\\Windows', Recursive: true, ExcludeCompressed: false, ExcludeEncrypted: false }] } });
  const dev = setSettings(data, { pollIntervalMs: 60_000, softwareInventory: { enabled: false } }, 'DEV-1');
  assert.equal(dev.pollIntervalMs, 60_000);
  assert.equal(dev.softwareInventory.enabled, false);
  assert.equal(dev.softwareInventory.filters.length, 1, 'filters still come from the global scope');
  assert.equal(getSettings(data, 'DEV-2').pollIntervalMs, 600_000);
  assert.equal(getSettings(data, 'DEV-2').softwareInventory.enabled, true);
  assert.throws(() => setSettings(data, { pollIntervalMs: 10 }), /at least one second/);
  assert.throws(() => setSettings(data, { pollServer: 'x y' }), InputError);
  assert.throws(() => setSettings(data, {}, 'bad\nid'), InputError);
});

test('the demo server seeds its catalog once, assigned to every device, and serves it', async (t) => {
  const data = path.join(tempDir(t), 'data');
  const server = await startDemoServer(data);
  t.after(() => server.close());
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const catalog = await readDemoCatalog();
  assert.ok(catalog.length >= 2);
  const before = listPackages(data);
  assert.deepEqual(before.map((p) => p.id), catalog.map((c) => c.id));
  assert.ok(before.every((p) => p.name.startsWith('Demo:') && p.assignedTo.includes('*')));
  await seedDemoCatalog(data);
  assert.deepEqual(listPackages(data), before, 'seeding again changes nothing');

  // the station polls as Dockhand, so the demo's instructions carry the SHA-256 it verifies
  const poll = await httpRequest(`${server.url}/devicemgmt/server.aspx`, { method: 'POST', headers: { 'X-Device-Action': 'Poll', 'X-Device-UUID': 'ANY-DEVICE' },
    body: buildPollRequest({ ManagementSystem: { Name: 'Dockhand', Version: '1' }, Connection: {},
      Identification: { ID: 'ANY-DEVICE', DeviceName: 'd', Platform: 'p', Processor: '1', CodePage: 1252, SystemDefaultLCID: 1033 } }) });
  assert.deepEqual(parsePollResponse(poll.text).ApplicablePackages, catalog.map((c) => c.id));

  const script = catalog.find((c) => c.file.endsWith('.sh'));
  assert.ok(script, 'the demo has a post-install script package');
  const ins = parseInstructions((await httpRequest(`${server.url}/devicemgmt/server.aspx`, { method: 'POST',
    headers: { 'X-Device-Action': 'InstructionRequest', 'X-Device-UUID': 'ANY-DEVICE' }, body: buildInstructionsRequest({ PackageID: script.id }) })).text);
  const bytes = readFileSync(path.join(DEMO_DIR, script.file));
  assert.equal(ins.Packages[0]?.SHA256, sha(bytes));
  assert.equal(ins.Packages[0]?.CommandLine, script.commandLine);
  const got = await httpRequest(`${server.url}/packages/${script.id}/${encodeURIComponent(script.file)}`);
  assert.ok(got.body.equals(bytes));

  // the script does what its package says: leaves a marker next to itself
  const run = path.join(tempDir(t), 'device');
  mkdirSync(run, { recursive: true });
  copyFileSync(path.join(DEMO_DIR, script.file), path.join(run, script.file));
  execFileSync('sh', [script.file], { cwd: run });
  assert.match(readFileSync(path.join(run, 'dockhand-demo-installed.txt'), 'utf8'), /Dockhand demo package installed at /);
});
