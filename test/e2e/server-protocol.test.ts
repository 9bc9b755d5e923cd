// The real `dockhand server` process over real HTTP on 127.0.0.1: polls (namespaced and bare bodies,
// any header case, empty timestamp), instructions, locations, status and reports, and the admin
// commands working on the same data folder while the server runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildFileReport, buildInstructionsRequest, buildInventory, buildPackageLocationRequest, buildPollRequest, buildStatus,
  parseInstructions, parsePackageLocation, parsePollResponse,
} from '../../shared/protocol/index.js';
import type { DevicePoll } from '../../shared/protocol/types.js';
import { httpRequest, runDockhand, spawnServerProcess, type ServerProcess } from '../../server/process-harness.js';
import type { LogEntry } from '../../server/received-log.js';
import { tempDir } from '../helpers/tmp.js';

const ENDPOINT = '/devicemgmt/server.aspx';

function pollFor(id: string, name: string): DevicePoll {
  return {
    ManagementSystem: { Name: 'SMS Device Management', Version: '2.5.0.0' },
    Identification: { ID: id, DeviceName: name, Platform: 'CEPC', Processor: '586', CodePage: 1252, SystemDefaultLCID: 1033 },
    Connection: {},
  };
}

/** What a real CE 4.21 client sends: no declaration, no namespace, its own element order. */
function barePoll(id: string, name: string): string {
  return `<DevicePoll><ManagementSystem><Name>SMS Device Management</Name><Version>2.5.0.0</Version></ManagementSystem>` +
    `<Identification><ID>${id}</ID><DeviceName>${name}</DeviceName><UserName>dom\\op</UserName><Platform>LightPOS</Platform>` +
    `<Processor>2336</Processor><NetworkAdapter><IPAddress>10.0.0.5</IPAddress><IPSubnet>255.255.255.0</IPSubnet></NetworkAdapter>` +
    `<CodePage>1251</CodePage><SystemDefaultLCID>1049</SystemDefaultLCID></Identification>` +
    `<Connection><AuthorizationToken>0</AuthorizationToken><Timestamp>0</Timestamp></Connection></DevicePoll>`;
}

async function cli(...args: string[]): Promise<string> {
  const r = await runDockhand(['server', ...args]);
  assert.equal(r.code, 0, `dockhand server ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function addPackage(dataDir: string, file: string, content: string | Buffer, ...more: string[]): Promise<string> {
  writeFileSync(file, content);
  return (await cli('package', 'add', '--data', dataDir, '--file', file, ...more)).trim();
}

async function readLogJson(dataDir: string, ...more: string[]): Promise<LogEntry[]> {
  return JSON.parse(await cli('log', '--data', dataDir, '--json', ...more)) as LogEntry[];
}

async function start(t: { after(fn: () => Promise<unknown>): void }, dataDir: string, args: string[] = []): Promise<ServerProcess> {
  const server = await spawnServerProcess(dataDir, args);
  t.after(() => server.stop());
  return server;
}

test('a poll lists the packages assigned to the device or to *, with settings, whatever the body and header style', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const forAll = await addPackage(data, path.join(dir, 'all.cab'), 'for everyone', '--name', 'For all');
  const forA = await addPackage(data, path.join(dir, 'a.cab'), 'for A', '--name', 'For A');
  await addPackage(data, path.join(dir, 'none.cab'), 'nobody', '--name', 'Unassigned');
  await cli('assign', '--data', data, '--package', forAll, '--device', '*');
  await cli('assign', '--data', data, '--package', forA, '--device', 'DEV-A');
  await cli('settings', '--data', data, '--poll-interval', '0000-00-00 00:05:00', '--software-inventory', 'on',
    '--filter', '*.exe', '--path', '\\Windows', '--recursive', 'yes', '--filter', '*.dll', '--path', '\\Program Files',
    '--report-interval', '0000-00-00 12:00:00');
  await cli('settings', '--data', data, '--device', 'DEV-A', '--retry-count', '7', '--machine-inventory', 'on');
  const server = await start(t, data);

  // namespaced body, canonical header names
  const a = await httpRequest(server.url + ENDPOINT, {
    method: 'POST', body: buildPollRequest(pollFor('DEV-A', 'Scanner A')),
    headers: { 'X-Device-UUID': 'DEV-A', 'X-Device-Action': 'Poll', 'X-Device-Timestamp': '', 'X-Device-client-version': '1.0' },
  });
  assert.equal(a.status, 200, a.text);
  assert.match(String(a.headers['content-type']), /xml/);
  assert.ok(a.headers['x-device-timestamp'], 'the poll response carries X-Device-Timestamp');
  const ra = parsePollResponse(a.text);
  assert.deepEqual(ra.ApplicablePackages, [forAll, forA]);
  assert.equal(ra.Settings.ClientSettings?.PollInterval, 5 * 60_000);
  assert.equal(ra.Settings.ClientSettings?.FailureRetryCount, 7);
  assert.equal(ra.Settings.ClientSettings?.FailureRetryInterval, 3 * 60_000);
  assert.equal(ra.Settings.SoftwareInventorySettings?.Enabled, true);
  assert.equal(ra.Settings.SoftwareInventorySettings?.Interval, 12 * 3_600_000);
  assert.deepEqual(ra.Settings.SoftwareInventorySettings?.FileFilterItems.map((f) => [f.Filter, f.Path, f.Recursive]),
    [['*.exe', '\\Windows', true], ['*.dll', '\\Program Files', false]]);
  assert.equal(ra.Settings.MachineInventorySettings?.Enabled, true);
  assert.equal(ra.Settings.FileCollectionSettings?.Enabled, false);
  assert.equal(ra.Settings.FileCollectionSettings?.Interval, 12 * 3_600_000);

  // bare body, lower-case header names, empty timestamp: another device sees only the '*' package
  const b = await httpRequest(server.url + ENDPOINT, {
    method: 'POST', body: barePoll('DEV-B', 'Till B'),
    headers: { 'x-device-uuid': 'DEV-B', 'x-device-action': 'poll', 'x-device-timestamp': '', 'x-device-auth': '' },
  });
  assert.equal(b.status, 200, b.text);
  const rb = parsePollResponse(b.text);
  assert.deepEqual(rb.ApplicablePackages, [forAll]);
  assert.equal(rb.Settings.ClientSettings?.FailureRetryCount, 5);
  assert.equal(rb.Settings.MachineInventorySettings?.Enabled, false);

  // no X-Device-Action at all: the root element routes it
  const c = await httpRequest(server.url + ENDPOINT, { method: 'POST', headers: { 'X-Device-UUID': 'DEV-C' }, body: barePoll('DEV-C', 'Till C') });
  assert.equal(c.status, 200, c.text);
  assert.deepEqual(parsePollResponse(c.text).ApplicablePackages, [forAll]);

  const polls = (await readLogJson(data)).filter((e) => e.kind === 'poll');
  assert.deepEqual(polls.map((p) => [p.deviceId, p.kind === 'poll' && p.deviceName]), [['DEV-A', 'Scanner A'], ['DEV-B', 'Till B'], ['DEV-C', 'Till C']]);
  const pb = polls[1];
  assert.ok(pb?.kind === 'poll');
  assert.equal(pb.deviceTimestamp, '');
  assert.equal(pb.identification.Platform, 'LightPOS');
  assert.equal(pb.serverTimestamp, b.headers['x-device-timestamp']);
  assert.ok(!Number.isNaN(Date.parse(pb.receivedAt)));
  const onlyA = await readLogJson(data, '--device', 'DEV-A');
  assert.deepEqual(onlyA.map((e) => e.deviceId), ['DEV-A']);
});

test('instruction and location requests describe the package; URLs follow Host or --public-url', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const bytes = Buffer.from('package body with some bytes');
  const id = await addPackage(data, path.join(dir, 'setup tool.cab'), bytes, '--name', 'Setup tool', '--id',
    '{9a437ca5-5b17-4486-9e87-260742074a72}', '--required', 'no', '--flags', '04 00 00 00', '--start', '2030-01-02 03:04:05',
    '--utc', '--recur', '0000-00-01 00:00:00', '--behavior', 'Execute Only', '--dest', '\\Temp\\Tool', '--command',
    'setup.exe /q', '--short', 'short text', '--long', 'long text', '--source-files', 'yes');
  assert.equal(id, '9A437CA5-5B17-4486-9E87-260742074A72');
  const server = await start(t, data);

  const ins = await httpRequest(server.url + ENDPOINT, {
    method: 'POST', headers: { 'X-Device-Action': 'InstructionRequest', 'X-Device-UUID': 'DEV-1' },
    body: buildInstructionsRequest({ PackageID: id }),
  });
  assert.doesNotMatch(ins.text, /dh:|urn:dockhand/, 'a device never seen polling gets the documented document only');
  assert.equal(ins.status, 200, ins.text);
  const p = parseInstructions(ins.text, id).Packages[0];
  assert.ok(p);
  assert.equal(p.ID, id);
  assert.equal(p.Name, 'Setup tool');
  assert.equal(p.Required, false);
  assert.equal(p.Flags, 4);
  assert.deepEqual(p.StartTime, { time: { year: 2030, month: 1, day: 2, hour: 3, minute: 4, second: 5 }, UTC: true });
  assert.deepEqual(p.Recurrence, { Interval: 86_400_000, Behavior: 'Execute Only' });
  assert.equal(p.LocalDestination, '\\Temp\\Tool');
  assert.equal(p.CommandLine, 'setup.exe /q');
  assert.equal(p.ShortDescription, 'short text');
  assert.equal(p.LongDescription, 'long text');
  assert.equal(p.PackageSize, bytes.length);
  assert.equal(p.SourceFiles, true);
  assert.equal(p.SHA256, undefined);

  const unknown = await httpRequest(server.url + ENDPOINT, {
    method: 'POST', headers: { 'X-Device-Action': 'InstructionRequest', 'X-Device-UUID': 'DEV-1' },
    body: buildInstructionsRequest({ PackageID: '00000000-0000-0000-0000-000000000000' }),
  });
  assert.equal(unknown.status, 404);
  assert.match(unknown.text, /unknown package 00000000-0000-0000-0000-000000000000/);

  const locBody = buildPackageLocationRequest({ PackageID: id, ClientLocation: { IPAddresses: [{ address: '10.0.0.5', subnet: '10.0.0.0' }] } });
  const loc = await httpRequest(server.url + ENDPOINT, {
    method: 'POST', headers: { 'X-Device-Action': 'LocationRequest', 'X-Device-UUID': 'DEV-1', Host: 'dm.example.test:8080' }, body: locBody,
  });
  assert.equal(loc.status, 200, loc.text);
  const location = parsePackageLocation(loc.text);
  assert.equal(location.PackageID, id);
  assert.equal(location.Locations.length, 1);
  assert.equal(location.Locations[0]?.metric, 1);
  assert.equal(location.Locations[0]?.URL, `http://dm.example.test:8080/packages/${id}/setup%20tool.cab`);

  // the URL from the real Host header downloads the bytes
  const real = parsePackageLocation((await httpRequest(server.url + ENDPOINT, {
    method: 'POST', headers: { 'x-device-action': 'LocationRequest', 'x-device-uuid': 'DEV-1' }, body: locBody,
  })).text).Locations[0]?.URL;
  assert.equal(real, `${server.url}/packages/${id}/setup%20tool.cab`);
  const got = await httpRequest(real);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, bytes);

  for (const host of ['evil.test/path', 'a b', 'x.test:70000', 'x.test:8080@evil.test', '"><x>']) {
    const bad = await httpRequest(server.url + ENDPOINT, { method: 'POST', headers: { 'X-Device-Action': 'LocationRequest', 'X-Device-UUID': 'DEV-1', Host: host }, body: locBody });
    assert.equal(bad.status, 400, `Host ${JSON.stringify(host)} must be refused`);
  }

  const proxied = await start(t, data, ['--public-url', 'https://dm.example.test/dockhand/']);
  const viaProxy = await httpRequest(proxied.url + ENDPOINT, {
    method: 'POST', headers: { 'X-Device-Action': 'LocationRequest', 'X-Device-UUID': 'DEV-1', Host: 'internal:1234' }, body: locBody,
  });
  assert.equal(viaProxy.status, 200, viaProxy.text);
  assert.equal(parsePackageLocation(viaProxy.text).Locations[0]?.URL, `https://dm.example.test/dockhand/packages/${id}/setup%20tool.cab`);
});

test('status messages and reports are stored and show up in `server log --json` in order', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const server = await start(t, data);
  const post = (headers: Record<string, string>, body: string | Buffer) =>
    httpRequest(server.url + ENDPOINT, { method: 'POST', headers: { 'X-Device-UUID': 'DEV-9', ...headers }, body });
  const pkg = '9A437CA5-5B17-4486-9E87-260742074A72';

  const s1 = await post({ 'X-Device-Action': 'Status' }, buildStatus({ StatusMessages: [
    { packageID: pkg, messageID: 11030, timestamp: '2024-05-06 07:08:09', Parameters: [] },
    { packageID: pkg, messageID: 11031, timestamp: '2024-05-06 07:08:10', Parameters: [{ name: 'bytes', value: '42' }] },
  ] }));
  assert.equal(s1.status, 200, s1.text);
  assert.equal(s1.body.length, 0);
  // a client that sends no action and an empty timestamp attribute
  const s2 = await post({}, `<Status><StatusMessage packageID="${pkg}" messageID="11035" timestamp="" /></Status>`);
  assert.equal(s2.status, 200, s2.text);

  const sw = await post({ 'x-device-action': 'Report', 'x-device-reporttype': 'SoftwareInventory' }, buildFileReport({ Directories: [{
    Name: '\\Windows', Directories: [], Files: [{ Name: 'calc.exe', Size: 1234, Version: '1.0.0' }],
  }] }));
  assert.equal(sw.status, 200, sw.text);
  const hw = await post({ 'X-Device-Action': 'Report', 'X-Device-ReportType': 'MachineInventory' }, buildInventory({
    type: 'machine', Items: [{ name: 'Device_OS', Properties: [{ name: 'MajorVersion', value: '4' }] }],
  }));
  assert.equal(hw.status, 200, hw.text);
  const content = Buffer.from([0, 1, 2, 3, 250, 251, 252, 10, 13]);
  const fc = await post({ 'X-Device-Action': 'Report', 'X-Device-ReportType': 'FileCollection',
    'X-Device-FullyQualifiedFilename': '\\\\myDir\\apps\\notes.txt' }, content);
  assert.equal(fc.status, 200, fc.text);

  const log = await readLogJson(data);
  assert.deepEqual(log.map((e) => e.kind), ['status', 'status', 'status', 'softwareInventory', 'machineInventory', 'fileCollection']);
  assert.ok(log.every((e) => e.deviceId === 'DEV-9'));
  assert.deepEqual(log.map((e) => e.seq), [...log.map((e) => e.seq)].sort((x, y) => x - y));
  const [m1, m2, m3, inv, mach, file] = log;
  assert.ok(m1?.kind === 'status' && m2?.kind === 'status' && m3?.kind === 'status');
  assert.deepEqual([m1.packageID, m1.messageID, m1.timestamp], [pkg, 11030, '2024-05-06 07:08:09']);
  assert.deepEqual(m2.parameters, [{ name: 'bytes', value: '42' }]);
  assert.deepEqual([m3.messageID, m3.timestamp], [11035, '']);
  assert.ok(inv?.kind === 'softwareInventory');
  assert.equal(inv.report.Directories[0]?.Files[0]?.Name, 'calc.exe');
  assert.ok(mach?.kind === 'machineInventory');
  assert.deepEqual(mach.inventory.Items[0], { name: 'Device_OS', Properties: [{ name: 'MajorVersion', value: '4' }] });
  assert.ok(file?.kind === 'fileCollection');
  assert.equal(file.devicePath, '\\myDir\\apps\\notes.txt');
  assert.equal(file.size, content.length);
  assert.equal(file.sha256, createHash('sha256').update(content).digest('hex'));
  assert.match(file.storedAs, /^collected\/DEV-9\/[^/]+-notes\.txt$/);
  assert.deepEqual(readFileSync(path.join(data, file.storedAs)), content);

  const text = await cli('log', '--data', data);
  assert.match(text, /status 11031 for 9A437CA5-5B17-4486-9E87-260742074A72 at 2024-05-06 07:08:10 bytes=42/);
});

test('admin commands run beside the running server and the next poll reflects them', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const server = await start(t, data);
  const poll = async () => {
    const r = await httpRequest(server.url + ENDPOINT, { method: 'POST', headers: { 'X-Device-Action': 'Poll', 'X-Device-UUID': 'DEV-X' }, body: barePoll('DEV-X', 'X') });
    assert.equal(r.status, 200, r.text);
    return parsePollResponse(r.text);
  };
  assert.deepEqual((await poll()).ApplicablePackages, []);

  const id = await addPackage(data, path.join(dir, 'live.cab'), 'added live', '--name', 'Live');
  assert.deepEqual((await poll()).ApplicablePackages, [], 'not assigned yet');
  await cli('assign', '--data', data, '--package', id, '--device', 'DEV-X');
  assert.deepEqual((await poll()).ApplicablePackages, [id]);

  await cli('settings', '--data', data, '--device', 'DEV-X', '--poll-interval', '0000-00-00 00:01:00', '--poll-server', 'dm.example.test:8080',
    '--file-collection', 'on', '--filter', '*.log', '--path', '\\Temp');
  const s = (await poll()).Settings;
  assert.equal(s.ClientSettings?.PollInterval, 60_000);
  assert.equal(s.ClientSettings?.PollServer, 'dm.example.test:8080');
  assert.equal(s.FileCollectionSettings?.Enabled, true);
  assert.deepEqual(s.FileCollectionSettings?.FileFilterItems.map((f) => f.Filter), ['*.log']);

  const list = JSON.parse(await cli('package', 'list', '--data', data, '--json')) as Array<{ id: string; assignedTo: string[]; size: number }>;
  assert.deepEqual(list.map((p) => [p.id, p.assignedTo, p.size]), [[id, ['DEV-X'], 10]]);

  await cli('unassign', '--data', data, '--package', id, '--device', 'DEV-X');
  assert.deepEqual((await poll()).ApplicablePackages, []);
  await cli('assign', '--data', data, '--package', id, '--device', '*');
  assert.deepEqual((await poll()).ApplicablePackages, [id]);
  await cli('package', 'remove', '--data', data, '--package', id);
  assert.deepEqual((await poll()).ApplicablePackages, []);
  const gone = await httpRequest(server.url + ENDPOINT, {
    method: 'POST', headers: { 'X-Device-Action': 'InstructionRequest', 'X-Device-UUID': 'DEV-X' }, body: buildInstructionsRequest({ PackageID: id }),
  });
  assert.equal(gone.status, 404);
});

test('Dockhand extensions go only to devices whose last poll named Dockhand; stock clients get the documented document', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const bytes = Buffer.from('a package for both kinds of client');
  const id = await addPackage(data, path.join(dir, 'both.cab'), bytes, '--name', 'Both');
  const server = await start(t, data);
  const poll = async (device: string, system: string) => {
    const body = buildPollRequest({ ...pollFor(device, device), ManagementSystem: { Name: system, Version: '1.0' } });
    const r = await httpRequest(server.url + ENDPOINT, { method: 'POST', headers: { 'X-Device-UUID': device, 'X-Device-Action': 'Poll' }, body });
    assert.equal(r.status, 200, r.text);
  };
  const instructions = async (device: string) => {
    const r = await httpRequest(server.url + ENDPOINT, {
      method: 'POST', headers: { 'X-Device-UUID': device, 'X-Device-Action': 'InstructionRequest' }, body: buildInstructionsRequest({ PackageID: id }),
    });
    assert.equal(r.status, 200, r.text);
    return r.text;
  };
  const sha = createHash('sha256').update(bytes).digest('hex');

  await poll('STOCK-1', 'SMS Device Management');
  const stock = await instructions('STOCK-1');
  assert.doesNotMatch(stock, /dh:|xmlns:|urn:dockhand|SHA256/, 'no extension and no namespace prefix for the stock client');
  assert.equal(parseInstructions(stock, id).Packages[0]?.SHA256, undefined);
  assert.equal(parseInstructions(stock, id).Packages[0]?.PackageSize, bytes.length);

  await poll('DOCKHAND-1', 'Dockhand');
  assert.equal(parseInstructions(await instructions('DOCKHAND-1'), id).Packages[0]?.SHA256, sha);

  // what counts is the device's last poll: a device that changes clients changes what it is sent
  await poll('STOCK-1', 'Dockhand');
  assert.equal(parseInstructions(await instructions('STOCK-1'), id).Packages[0]?.SHA256, sha);
  await poll('STOCK-1', 'SMS Device Management');
  assert.doesNotMatch(await instructions('STOCK-1'), /SHA256/);
});

test('a device message without X-Device-UUID is refused with 400 and a clear reason, and nothing is recorded', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const server = await start(t, data);
  const pkg = '9A437CA5-5B17-4486-9E87-260742074A72';
  const messages: [Record<string, string>, string | Buffer][] = [
    [{ 'X-Device-Action': 'Poll' }, barePoll('DEV-N', 'N')],
    [{}, barePoll('DEV-N', 'N')],
    [{ 'X-Device-Action': 'Report', 'X-Device-ReportType': 'SoftwareInventory' }, buildFileReport({ Directories: [] })],
    [{ 'X-Device-Action': 'Report', 'X-Device-ReportType': 'MachineInventory' }, buildInventory({ type: 'machine', Items: [] })],
    [{ 'X-Device-Action': 'Report', 'X-Device-ReportType': 'FileCollection', 'X-Device-FullyQualifiedFilename': '\\x.txt' }, Buffer.from('x')],
    [{ 'X-Device-Action': 'Status' }, buildStatus({ StatusMessages: [{ packageID: pkg, messageID: 11030, timestamp: '2024-05-06 07:08:09', Parameters: [] }] })],
    [{ 'X-Device-Action': 'InstructionRequest' }, buildInstructionsRequest({ PackageID: pkg })],
    [{ 'X-Device-Action': 'Report', 'X-Device-ReportType': 'MachineInventory', 'X-Device-UUID': '' }, buildInventory({ type: 'machine', Items: [] })],
  ];
  for (const [headers, body] of messages) {
    const r = await httpRequest(server.url + ENDPOINT, { method: 'POST', headers, body });
    assert.equal(r.status, 400, `${JSON.stringify(headers)} answered ${r.status}`);
    assert.match(r.text, /no X-Device-UUID header/);
  }
  const long = await httpRequest(server.url + ENDPOINT, { method: 'POST', headers: { 'X-Device-UUID': 'D'.repeat(300) }, body: barePoll('DEV-N', 'N') });
  assert.equal(long.status, 400);
  assert.match(long.text, /X-Device-UUID header is longer than 256 characters/);
  assert.deepEqual(await readLogJson(data), []);
  assert.equal(existsSync(path.join(data, 'collected')), false, 'no collected file is kept for a nameless device');
});

test('a status message delivered twice is answered 200 both times, stored once and logged as a duplicate', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const server = await start(t, data);
  const pkg = '9A437CA5-5B17-4486-9E87-260742074A72';
  const post = async (device: string, ...messages: [number, string, [string, string][]][]) => {
    const r = await httpRequest(server.url + ENDPOINT, {
      method: 'POST', headers: { 'X-Device-UUID': device, 'X-Device-Action': 'Status' },
      body: buildStatus({ StatusMessages: messages.map(([messageID, timestamp, params]) => ({
        packageID: pkg, messageID, timestamp, Parameters: params.map(([name, value]) => ({ name, value })),
      })) }),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.length, 0);
  };
  const started: [number, string, [string, string][]] = [11030, '2024-05-06 07:08:09', []];
  const done: [number, string, [string, string][]] = [11031, '2024-05-06 07:08:30', [['bytes', '42']]];
  await post('DEV-1', started);
  await post('DEV-1', started); // the client crashed before it saw our answer, and sent it again
  await post('DEV-1', started, done); // a document with one message already recorded and one new
  await post('DEV-1', done);
  await post('DEV-1', [11031, '2024-05-06 07:08:30', [['bytes', '43']]]); // other parameters: another message
  await post('DEV-1', [11030, '2024-05-06 08:00:00', []]); // a later attempt of the same package
  await post('DEV-2', started); // the same message from another device

  const log = await readLogJson(data);
  assert.deepEqual(log.map((e) => e.kind === 'status' && [e.deviceId, e.messageID, e.timestamp, e.parameters.map((p) => p.value).join()]), [
    ['DEV-1', 11030, '2024-05-06 07:08:09', ''],
    ['DEV-1', 11031, '2024-05-06 07:08:30', '42'],
    ['DEV-1', 11031, '2024-05-06 07:08:30', '43'],
    ['DEV-1', 11030, '2024-05-06 08:00:00', ''],
    ['DEV-2', 11030, '2024-05-06 07:08:09', ''],
  ]);
  const duplicates = server.stderr().match(/duplicate status message from DEV-1: \d+ for 9A437CA5-5B17-4486-9E87-260742074A72/g) ?? [];
  assert.equal(duplicates.length, 3, server.stderr());
});
