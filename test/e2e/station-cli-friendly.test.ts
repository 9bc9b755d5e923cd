// The command line as friendly as the window, with real `dockhand` processes: --help everywhere, "did you
// mean", folders that hold no station or server, one station per data folder (a stale lock after kill -9
// is taken over), a read-only data folder and a file given as a serial port said in words, the server
// remembered, Ctrl-C that stops a download at once with its checkpoint kept, progress with rate and time
// left, and one line per device at the end of a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pdfInk, pdfText } from '../helpers/pdf.js';
import os from 'node:os';
import path from 'node:path';
import { dockhand, startDockhand, startServerProcess } from '../helpers/processes.js';
import { ptyPair } from '../helpers/pty.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { readStatus } from '../../electron/station/status.js';
import { ClientStore } from '../../electron/store/client-store.js';
import { localTargetDb } from '../../electron/station/station.js';
import { renameSlot } from '../../electron/station/slots.js';
import { startClaimedStationRuntime } from '../../electron/station/runtime.js';

async function publish(t: Parameters<typeof dockhand>[0], serverData: string, file: string, name: string, extra: string[] = []): Promise<string> {
  const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', name, ...extra]);
  assert.equal(add.code, 0, add.err);
  assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', add.out.trim(), '--device', '*'])).code, 0);
  return add.out.trim();
}

test('--help on every command and subcommand; a mistyped option or command gets "did you mean"', async (t) => {
  const helps: Array<[string[], RegExp]> = [
    [['--help'], /dockhand COMMAND --help/], [['station', '--help'], /dockhand station record/], [['station', 'status', '--help'], /verdict/],
    [['station', 'accept', '--help'], /--package ID/], [['station', 'record', '--help'], /--csv FILE \| --pdf FILE/],
    [['server', '--help'], /dockhand server package add/], [['server', 'package', 'add', '--help'], /--file F --name N/],
    [['server', 'log', '--help'], /dockhand server log --data DIR/], [['agent', '--help'], /--port PATH/], [['agent', 'gadget', '--help'], /gadget setup/],
    [['protocol', '--help'], /protocol parse FILE/], [['protocol', 'parse', '--help'], /protocol parse FILE/], [['start', '--help'], /dockhand start/],
  ];
  for (const [args, says] of helps) {
    const r = await dockhand(t, args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    assert.match(r.out, says, args.join(' '));
  }
  const typos: Array<[string[], RegExp]> = [
    [['station', '--sever', 'http://x'], /unknown option --sever; did you mean --server\?/],
    [['station', '--data'], /--data needs a value/],
    [['station', 'stauts'], /unknown command 'stauts'; did you mean 'dockhand station status'\?/],
    [['station', 'record', '--cvs', 'x.csv'], /unknown option --cvs; did you mean --csv\?/],
    [['server', 'package', 'list', '--dta', '/tmp/x'], /unknown option --dta; did you mean --data\?/],
    [['agent', '--prot', '/dev/ttyGS0'], /did you mean --port\?/],
    [['statoin'], /unknown command 'statoin'; did you mean 'dockhand station'\?/],
  ];
  for (const [args, says] of typos) {
    const r = await dockhand(t, args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, says, args.join(' '));
  }
});

test('a mistyped --data for status or server package list says it holds no station or server, and creates nothing', async (t) => {
  const dir = tempDir(t);
  const missing = path.join(dir, 'statoin');
  const status = await dockhand(t, ['station', 'status', '--data', missing]);
  assert.equal(status.code, 2);
  assert.match(status.err, /statoin does not exist; give the --data folder the station runs with/);
  const empty = await dockhand(t, ['station', 'record', '--data', dir, '--csv', path.join(dir, 'r.csv')]);
  assert.match(empty.err, /holds no station/);
  const list = await dockhand(t, ['server', 'package', 'list', '--data', missing]);
  assert.equal(list.code, 2);
  assert.match(list.err, /statoin holds no server \(no server\.sqlite\); check --data/);
  assert.equal(existsSync(missing), false, 'nothing was created');
});

test('one station per data folder: a second is refused by name and pid; after a kill -9 the stale lock is taken over', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'station');
  const first = startDockhand(t, ['station', '--server', 'http://127.0.0.1:9/', '--data', data]);
  await waitFor('the first station to start', () => first.out().includes('station '), 30_000);
  const second = await dockhand(t, ['station', '--server', 'http://127.0.0.1:9/', '--data', data, '--once']);
  assert.equal(second.code, 2);
  assert.match(second.err, new RegExp(`another station is using ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(pid ${first.child.pid}, started .*\\); stop it first`));
  // The desktop app starts its station through the same lock (electron/main/index.ts).
  await assert.rejects(startClaimedStationRuntime({ dataDir: data, server: 'http://127.0.0.1:9/', loop: false }), /another station is using/);
  first.kill('SIGKILL');
  await first.exited;
  assert.ok(existsSync(path.join(data, 'station.lock')), 'the killed station left its lock behind');
  const third = await dockhand(t, ['station', '--server', 'http://127.0.0.1:9/', '--data', data, '--once']);
  assert.doesNotMatch(third.err, /another station/, 'a lock whose process is gone is stale');
  assert.equal(existsSync(path.join(data, 'station.lock')), false, 'the lock goes when the station ends');
  const app = await startClaimedStationRuntime({ dataDir: data, server: 'http://127.0.0.1:9/', loop: false });
  const whileApp = await dockhand(t, ['station', '--server', 'http://127.0.0.1:9/', '--data', data, '--once']);
  assert.match(whileApp.err, new RegExp(`another station is using .*\\(pid ${process.pid}, `), 'the app holds the folder while it runs');
  await app.stop();
  assert.equal(existsSync(path.join(data, 'station.lock')), false, 'the app lets the folder go when its station stops');
});

test('a read-only data folder and a file given as a serial port are said in words', async (t) => {
  const ro = mkdtempSync(path.join(os.tmpdir(), 'dockhand-ro-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]);
  t.after(() => {
    spawnSync('umount', ['-l', ro]);
    rmSync(ro, { recursive: true, force: true });
  });
  assert.equal(mounted.status, 0, `this test mounts a read-only tmpfs and needs root: ${mounted.stderr}`);
  const r = await dockhand(t, ['station', '--data', path.join(ro, 'station'), '--once']);
  assert.equal(r.code, 2);
  assert.match(r.err, /station is on a read-only disk; give a --data folder on a disk the station can write/);
  assert.doesNotMatch(r.err, /ENOENT|EROFS|mkdir/);

  const serial = await dockhand(t, ['station', '--data', tempDir(t), '--serial', '/etc/hostname', '--once']);
  assert.equal(serial.code, 2);
  assert.match(serial.err, /\/etc\/hostname is not a serial port \(it is a regular file\)/);
  assert.doesNotMatch(serial.err, /ioctl/);
});

test('Ctrl-C stops a download at once, keeping its checkpoint; progress shows rate and time left; the server is remembered', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url } = await startServerProcess(t, serverData);
  const file = path.join(dir, 'maps.bin');
  writeFileSync(file, randomBytes(4 * 1024 * 1024));
  const id = await publish(t, serverData, file, 'Offline maps', ['--dest', '\\Maps']);
  const data = path.join(dir, 'station');
  const station = startDockhand(t, ['station', '--server', url, '--data', data, '--id', 'CLI-CTRL-C', '--rate-limit', '256K']);
  await waitFor('a progress line with rate and time left', () => /Offline maps: [\d.]+ \w+ of 4\.0 MiB, [\d.]+ KiB\/s, \d+:\d\d left/.exec(station.out()), 60_000);
  const before = Date.now();
  station.kill('SIGINT');
  const code = await station.exited;
  const stoppedInMs = Date.now() - before;
  t.diagnostic(`Ctrl-C to exit: ${stoppedInMs} ms`);
  assert.equal(code, 0, station.err());
  assert.match(station.out(), /stopping: tasks and checkpoints are saved/);
  assert.ok(stoppedInMs < 6000, `stopped ${stoppedInMs} ms after Ctrl-C (the 4 MiB download at 256 KiB/s takes 16 s)`);
  const kept = readStatus(data).transfers.find((x) => x.package === id);
  assert.ok(kept && kept.resumePoint > 0 && kept.resumePoint < 4 * 1024 * 1024, `the checkpoint is kept (${kept?.resumePoint})`);

  // No --server now: the one given before, not the demo server; the download resumes and completes.
  const again = await dockhand(t, ['station', '--data', data, '--once']);
  assert.equal(again.code, 0, again.err);
  assert.match(again.out, new RegExp(`using ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/devicemgmt/server\\.aspx; `));
  assert.doesNotMatch(again.out, /DEMO/);
  assert.match(again.out, /resumed from byte \d+/);
});

test('a run ends with one line per device: its slot, its name and its verdict', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url } = await startServerProcess(t, serverData);
  const packages: Array<[string, string, string]> = [['Base image', 'x'.repeat(300_000), ''], ['Inventory app', '#!/bin/sh\nexit 0\n', 'app.sh'], ['Scanner firmware', '#!/bin/sh\nexit 0\n', 'fw.sh']];
  for (const [name, body, cmd] of packages) {
    const file = path.join(dir, cmd || 'base.bin');
    writeFileSync(file, body);
    await publish(t, serverData, file, name, cmd ? ['--command', cmd] : []);
  }
  const pair = await ptyPair(t, dir, 'cradle');
  const agent = startDockhand(t, ['agent', '--port', pair.b, '--root', path.join(dir, 'device'), '--id', 'SCANNER-0044', '--name', 'SCANNER-0044']);
  await waitFor('the agent', () => agent.out().includes('listening on'), 30_000);
  const data = path.join(dir, 'station');
  const store = new ClientStore(localTargetDb(data));
  renameSlot(store, pair.a, 'Slot 3');
  store.close();
  const run = await dockhand(t, ['station', '--server', url, '--data', data, '--serial', pair.a, '--allow-commands', '--once']);
  assert.equal(run.code, 0, `${run.err}\n${run.out}`);
  const last = run.out.trim().split('\n').at(-1)!;
  assert.match(last, /^Slot 3 SCANNER-0044: 3 packages installed in \d+ s$/);

  // The same run as a provisioning record from the command line: today's batch, CSV and PDF.
  const csv = path.join(dir, 'batch.csv');
  const pdf = path.join(dir, 'batch.pdf');
  const rec = await dockhand(t, ['station', 'record', '--data', data, '--since', 'today', '--csv', csv, '--pdf', pdf]);
  assert.equal(rec.code, 0, rec.err);
  assert.match(rec.out, /record of 1 device written to .*batch\.csv and .*batch\.pdf/);
  const rows = readFileSync(csv, 'utf8').replace(/^\ufeff/, '').trim().split('\r\n');
  assert.equal(rows.length, 1 + 3, 'a header and one row per download event');
  assert.ok(rows.slice(1).every((r) => r.includes('SCANNER-0044') && r.includes('Slot 3') && /,success,,0?,/.test(r)), rows.join('\n'));
  const text = pdfText(readFileSync(pdf));
  assert.match(text, /SCANNER-0044/);
  assert.match(text, /Done: 3 packages installed/);
  assert.ok(pdfInk(readFileSync(pdf), 'record-cli-scanner-0044')[0]! > 0.01, 'the page is not blank');
  const none = await dockhand(t, ['station', 'record', '--data', data, '--since', '2999-01-01', '--csv', csv]);
  assert.equal(none.code, 2);
  assert.match(none.err, /no device has download events since 2999-01-01/);
});
