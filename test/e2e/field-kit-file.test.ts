// Field-kit files from the command line (issue 9 item 2): `dockhand kit refresh` as a named profile against
// a real server process, `kit export`, and `kit import` into a second data folder that never had a server,
// which then provisions a new device (a real agent on a pseudo-terminal). An altered and a truncated kit
// file are refused with the bad part named, and nothing of them is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockhand } from '../helpers/processes.js';
import { startServerProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/tmp.js';
import { dock, startAgent } from '../helpers/agents.js';
import { Station } from '../../electron/station/station.js';
import { ManualClock } from '../../electron/engine/clock.js';
import type { KitView } from '../../shared/model/field-kit.js';

async function publish(t: Parameters<typeof dockhand>[0], serverData: string, file: string, extra: string[], device: string): Promise<string> {
  const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', path.basename(file), ...extra]);
  assert.equal(add.code, 0, add.err);
  const id = add.out.trim();
  assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', id, '--device', device])).code, 0);
  return id;
}

async function kitStatus(t: Parameters<typeof dockhand>[0], data: string): Promise<KitView> {
  const r = await dockhand(t, ['kit', 'status', '--data', data, '--json']);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as KitView;
}

/** A station data folder holds nothing of a refused kit: no kit, no cached package, no work folder. */
function assertNothingKept(data: string): void {
  const leftovers = existsSync(data) ? readdirSync(data).filter((n) => n.endsWith('.tmp')) : [];
  assert.deepEqual(leftovers, [], 'no temporary folder is left in the data folder');
  const cache = path.join(data, 'cache');
  assert.deepEqual(existsSync(cache) ? readdirSync(cache).filter((n) => n.startsWith('p-')) : [], [], 'no package reached the cache');
}

test('kit refresh as a named profile, export, and import into a station that never reached a server, which provisions a new device', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url, proc } = await startServerProcess(t, serverData);
  writeFileSync(path.join(dir, 'setup.sh'), '#!/bin/sh\necho installed > installed.txt\n');
  writeFileSync(path.join(dir, 'manual.txt'), 'read me first');
  const setup = await publish(t, serverData, path.join(dir, 'setup.sh'), ['--dest', '\\Apps', '--command', 'setup.sh'], 'SCANNER-TEMPLATE');
  const manual = await publish(t, serverData, path.join(dir, 'manual.txt'), ['--dest', '\\Docs'], 'SCANNER-TEMPLATE');

  // The command line in the station's manner: a near miss is named, a missing option too.
  const typo = await dockhand(t, ['kit', 'exprot']);
  assert.equal(typo.code, 2);
  assert.match(typo.err, /unknown kit command 'exprot'; did you mean 'dockhand kit export'\?/);
  const bare = await dockhand(t, ['kit', 'export', '--data', path.join(dir, 'first')]);
  assert.equal(bare.code, 2);
  assert.match(bare.err, /export needs --file FILE/);

  // The first station: a profile named by the technician, refreshed from the command line.
  const first = path.join(dir, 'first');
  const refresh = await dockhand(t, ['kit', 'refresh', '--data', first, '--server', url, '--profile', 'scanner=SCANNER-TEMPLATE']);
  assert.equal(refresh.code, 0, refresh.err + refresh.out);
  const polls = JSON.parse((await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'SCANNER-TEMPLATE', '--json'])).out)
    .filter((e: { kind: string }) => e.kind === 'poll');
  assert.equal(polls.length, 1, 'the server saw one poll as the profile');
  assert.equal(polls[0].identification.Platform, 'Dockhand field kit profile', 'and can tell it is a kit profile, not a device');
  const held = await kitStatus(t, first);
  assert.equal(held.defaultProfile, 'scanner');
  assert.deepEqual(held.profiles[0]!.packages.map((p) => [p.id, p.fileReady]).sort(), [[manual, true], [setup, true]].sort());

  const file = path.join(dir, 'scanner.dhkit');
  const exported = await dockhand(t, ['kit', 'export', '--data', first, '--file', file]);
  assert.equal(exported.code, 0, exported.err);
  assert.match(exported.out, /wrote .*scanner\.dhkit: 1 profile\(s\) \(scanner\), 5 server answer\(s\), 2 package file\(s\)/);

  // The second station has never reached a server; its kit comes from the file.
  proc.kill('SIGKILL');
  await proc.exited;
  const second = path.join(dir, 'second');
  assert.deepEqual((await kitStatus(t, second)).profiles, []);
  const imported = await dockhand(t, ['kit', 'import', '--data', second, '--file', file]);
  assert.equal(imported.code, 0, imported.err);
  const kit = await kitStatus(t, second);
  assert.equal(kit.defaultProfile, 'scanner');
  assert.ok(kit.profiles[0]!.packages.every((p) => p.fileReady), 'the package files are in the second station cache, verified');

  const clock = new ManualClock(Date.now());
  const station = await Station.open({ dataDir: second, server: url.replace(/\/?$/, '/devicemgmt/server.aspx'), id: 'SECOND-STATION', clock });
  t.after(() => station.close());
  const device = await startAgent(t, dir, 'FIELD-07');
  await dock(station, device);
  await station.runUntilIdle();
  assert.equal(readFileSync(path.join(device.root, 'Apps', 'installed.txt'), 'utf8'), 'installed\n');
  assert.equal(readFileSync(path.join(device.root, 'Docs', 'manual.txt'), 'utf8'), 'read me first');
  const session = station.sessions.get('FIELD-07')!;
  assert.equal(session.store.outbox(['queued']).filter((o) => o.action === 'Status').length, 6, 'its messages wait for the server');
});

test('an altered and a truncated kit file are refused, naming the bad part, and nothing of them is kept', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url } = await startServerProcess(t, serverData);
  const content = Buffer.alloc(200_000, 'field kit payload ');
  writeFileSync(path.join(dir, 'payload.bin'), content);
  await publish(t, serverData, path.join(dir, 'payload.bin'), ['--dest', '\\Data'], 'SCANNER-TEMPLATE');
  const first = path.join(dir, 'first');
  assert.equal((await dockhand(t, ['kit', 'refresh', '--data', first, '--server', url, '--profile', 'scanner=SCANNER-TEMPLATE'])).code, 0);
  const file = path.join(dir, 'kit.dhkit');
  assert.equal((await dockhand(t, ['kit', 'export', '--data', first, '--file', file])).code, 0);
  const good = readFileSync(file);
  const at = good.indexOf(content.subarray(0, 64));
  assert.ok(at > 0, 'the package bytes are in the file');

  const altered = path.join(dir, 'altered.dhkit');
  const changed = Buffer.from(good);
  changed[at + 1000] = changed[at + 1000]! ^ 0x01;
  writeFileSync(altered, changed);
  const truncated = path.join(dir, 'truncated.dhkit');
  writeFileSync(truncated, good.subarray(0, at + 50_000));

  for (const [name, bad, words] of [
    ['altered', altered, /the file of package payload\.bin \(.+\), payload\.bin \(files\/\d{6}\.bin\) does not match its SHA-256 in the manifest/],
    ['truncated', truncated, /it is truncated: the file of package payload\.bin .* has 50000 of its 200000 bytes/],
  ] as const) {
    const data = path.join(dir, `${name}-station`);
    const r = await dockhand(t, ['kit', 'import', '--data', data, '--file', bad]);
    assert.equal(r.code, 2, `${name}: ${r.out}`);
    assert.match(r.err, words, name);
    assert.match(r.err, /nothing of it was kept/);
    assert.deepEqual((await kitStatus(t, data)).profiles, [], `${name}: no profile was kept`);
    assertNothingKept(data);
  }

  // A refused file does not touch a kit imported before it.
  const kept = path.join(dir, 'kept-station');
  assert.equal((await dockhand(t, ['kit', 'import', '--data', kept, '--file', file])).code, 0);
  assert.equal((await dockhand(t, ['kit', 'import', '--data', kept, '--file', altered])).code, 2);
  const still = await kitStatus(t, kept);
  assert.equal(still.profiles[0]?.packages[0]?.fileReady, true, 'the earlier kit is intact');
});
