// Commands on the station run only programs shipped in the package or named in the host allow-list (issue 7):
// with --allow-commands alone, a command line naming a station program (`uname`, `sh`) is refused and
// reported as 20035; `--allow-program NAME` or `allowPrograms` in DATA/station.json allows that one program,
// and `station status` shows the list. Real `dockhand server` and `dockhand station` processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockhand, startServerProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/tmp.js';

async function publish(t: Parameters<typeof dockhand>[0], serverData: string, file: string, command: string): Promise<void> {
  const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', 'Host tool', '--dest', '\\Temp', '--command', command]);
  assert.equal(add.code, 0, add.err);
  assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', add.out.trim(), '--device', '*'])).code, 0);
}

function statuses(log: string, device: string): Array<{ messageID: number; reason: string }> {
  return (JSON.parse(log) as Array<{ kind: string; deviceId: string; messageID: number; parameters: Array<{ name: string; value: string }> }>)
    .filter((e) => e.kind === 'status' && e.deviceId === device)
    .map((e) => ({ messageID: e.messageID, reason: e.parameters.find((p) => p.name === 'Reason')?.value ?? '' }));
}

test('a station program runs only when allow-listed, by option or in station.json; status shows the list', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url } = await startServerProcess(t, serverData);
  const file = path.join(dir, 'readme.txt');
  writeFileSync(file, 'not a program');
  const marker = path.join(dir, 'shell-ran');
  await publish(t, serverData, file, 'uname -s');
  await publish(t, serverData, file, `sh -c "touch ${marker}"`);
  // --allow-commands alone (A); --allow-program uname (B); the same list kept in station.json (C).
  const c = path.join(dir, 'c');
  mkdirSync(c, { recursive: true });
  writeFileSync(path.join(c, 'station.json'), JSON.stringify({ allowCommands: true, allowPrograms: ['uname'] }));
  const [denied] = await Promise.all([
    dockhand(t, ['station', '--server', url, '--data', path.join(dir, 'a'), '--id', 'ALLOW-A', '--allow-commands', '--once']),
    dockhand(t, ['station', '--server', url, '--data', path.join(dir, 'b'), '--id', 'ALLOW-B', '--allow-commands', '--allow-program', 'uname', '--once']),
    dockhand(t, ['station', '--server', url, '--data', c, '--id', 'ALLOW-C', '--once']),
  ]);
  const log = (await dockhand(t, ['server', 'log', '--data', serverData, '--json'])).out;

  assert.match(denied!.out, /station programs allowed: none \(use --allow-program NAME\)/);
  const refused = statuses(log, 'ALLOW-A').filter((s) => s.messageID === 20035);
  assert.equal(refused.length, 2, JSON.stringify(statuses(log, 'ALLOW-A')));
  assert.ok(refused.every((s) => /--allow-program/.test(s.reason)), refused.map((s) => s.reason).join(' | '));
  for (const device of ['ALLOW-B', 'ALLOW-C']) {
    const done = statuses(log, device);
    assert.equal(done.filter((s) => s.messageID === 11035).length, 1, `${device}: uname ran (${JSON.stringify(done)})`);
    assert.equal(done.filter((s) => s.messageID === 20035 && /'sh'/.test(s.reason)).length, 1, `${device}: the shell did not`);
  }
  assert.equal(existsSync(marker), false, 'no shell ran');
  const status = await dockhand(t, ['station', 'status', '--data', c]);
  assert.match(status.out, /settings: commands allowed; station programs commands may use: uname;/);
  assert.deepEqual(JSON.parse((await dockhand(t, ['station', 'status', '--data', c, '--json'])).out).settings.allowPrograms, ['uname']);

  const bad = await dockhand(t, ['station', '--server', url, '--data', path.join(dir, 'd'), '--allow-program', `${os.tmpdir()}/sh`, '--once']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--allow-program takes a program name without a folder/);
});
