// A full disk does not kill the station. The station runs as a real process with its data folder on a
// 3 MiB tmpfs mounted for the test (the test runs as root, as CI does), with a 4.8 MiB package to download
// from the reference server: the station says "disk full in DIR: need 4.8 MiB, … free", keeps running
// (its web console still answers and shows the problem), and once the tmpfs is made larger the download
// goes at once — not at its next retry minutes later — and the package is installed, without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockhand, startServerProcess } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { startStationUi } from '../helpers/browser.js';
import { stationSocket } from '../helpers/station-socket.js';

/** A tmpfs of `size` on a fresh folder; unmounted (lazily: the station may still hold it) and removed at the end. */
function mountTmpfs(t: { after(fn: () => unknown): void }, size: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-small-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`this test mounts a small tmpfs and needs root (mount said: ${r.stderr.trim() || r.error?.message})`);
  }
  t.after(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test('a full disk pauses the downloads and says so; the station keeps running and resumes when there is room', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url: serverUrl } = await startServerProcess(t, serverData);
  const file = path.join(dir, 'maps.bin');
  writeFileSync(file, randomBytes(Math.round(4.8 * 1024 * 1024)));
  const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', 'Offline maps', '--dest', '\\Maps']);
  assert.equal(add.code, 0, add.err);
  assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', add.out.trim(), '--device', '*'])).code, 0);

  const data = mountTmpfs(t, '3m');
  const { proc, url } = await startStationUi(t, ['--server', serverUrl, '--data', data, '--id', 'STATION-FULL']);
  const said = await waitFor('the station to say the disk is full', () => /disk full in (\S+): need ([\d.]+ \w?i?B), ([\d.]+ \w?i?B) free/.exec(proc.out()), 60_000);
  assert.equal(said[1], data, 'it names the folder');
  assert.equal(said[2], '4.8 MiB', 'what the pending download still needs');
  assert.doesNotMatch(proc.out() + proc.err(), /SqliteError|internal error/, 'no stack trace, no internal error');
  assert.equal(proc.child.exitCode, null, 'the station is still running');
  const socket = await stationSocket(t, url);
  const snap = await socket.snapshot();
  assert.match(snap.station.storageProblem, /^disk full in .*: need 4\.8 MiB, .* free; downloads wait, and resume by themselves/, 'the UI is told');

  // Room is made (the tmpfs grows): the download resumes by itself and the package is installed.
  assert.equal(spawnSync('mount', ['-o', 'remount,size=32m', data]).status, 0);
  await waitFor('the station to see room again', () => proc.out().includes('has room again'), 30_000);
  await waitFor('the package to be installed', async () => {
    const log = JSON.parse((await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'STATION-FULL', '--json'])).out) as Array<{ kind: string; messageID: number }>;
    return log.some((e) => e.kind === 'status' && e.messageID === 11035);
  }, 60_000, 250);
  assert.equal(proc.child.exitCode, null, 'the same process did it');
  assert.equal((await socket.snapshot()).station.storageProblem, '');
});
