// `dockhand start` (npm start): finds the Electron runtime without triggering the electron package's
// download; runs it on the app when it is there; otherwise says so in one line and serves the same UI
// from a headless station (real process, real demo server and web console on 127.0.0.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchElectron, locateElectron } from '../../cli/start.js';
import { startDockhand } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

/** A folder shaped like node_modules/electron whose index.js would leave a mark if anything loaded it. */
function fakeElectronPackage(dir: string, opts: { pathTxt?: string; binary?: boolean } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{"name":"electron","version":"45.4.1","main":"index.js"}');
  writeFileSync(path.join(dir, 'index.js'), `require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'LOADED'))}, 'x')`);
  if (opts.pathTxt) writeFileSync(path.join(dir, 'path.txt'), opts.pathTxt);
  if (opts.binary) {
    mkdirSync(path.join(dir, 'dist'), { recursive: true });
    writeFileSync(path.join(dir, 'dist', opts.pathTxt ?? 'electron'), '#!/bin/sh\n');
  }
  return dir;
}

test('the Electron runtime is looked for, never downloaded', (t) => {
  const dir = tempDir(t);
  const never = fakeElectronPackage(path.join(dir, 'never'));
  const r1 = locateElectron(never, {});
  assert.equal(r1.found, false);
  assert.match(r1.found ? '' : r1.reason, /never downloaded .*path\.txt/);

  const deleted = fakeElectronPackage(path.join(dir, 'deleted'), { pathTxt: 'electron' });
  const r2 = locateElectron(deleted, {});
  assert.equal(r2.found, false);
  assert.match(r2.found ? '' : r2.reason, /does not exist/);

  const installed = fakeElectronPackage(path.join(dir, 'installed'), { pathTxt: 'electron', binary: true });
  assert.deepEqual(locateElectron(installed, {}), { found: true, path: path.join(installed, 'dist', 'electron') });

  const override = path.join(dir, 'override');
  mkdirSync(override);
  writeFileSync(path.join(override, 'electron'), '#!/bin/sh\n');
  assert.deepEqual(locateElectron(never, { ELECTRON_OVERRIDE_DIST_PATH: override }, 'linux'), { found: true, path: path.join(override, 'electron') });
  assert.equal(locateElectron(never, { ELECTRON_OVERRIDE_DIST_PATH: override }, 'win32').found, false, 'electron.exe on Windows');
  assert.equal(locateElectron(null, {}).found, false);

  for (const p of [never, deleted, installed]) {
    assert.throws(() => readFileSync(path.join(p, 'LOADED')), /ENOENT/, 'the electron package itself was never loaded');
  }
});

test('Electron is run on the app folder, without ELECTRON_RUN_AS_NODE, and its exit code is returned', async (t) => {
  const dir = tempDir(t);
  const record = path.join(dir, 'record.txt');
  const electron = path.join(dir, 'electron');
  writeFileSync(electron, `#!/bin/sh\nprintf '%s|%s|%s' "$1" "$PWD" "\${ELECTRON_RUN_AS_NODE:-unset}" > ${JSON.stringify(record)}\nexit 7\n`);
  chmodSync(electron, 0o755);
  const app = path.join(dir, 'app');
  mkdirSync(app);
  const code = await launchElectron(electron, app, { ...process.env, ELECTRON_RUN_AS_NODE: '1' });
  assert.equal(code, 7);
  assert.equal(readFileSync(record, 'utf8'), `${app}|${app}|unset`);
  assert.equal(await launchElectron(path.join(dir, 'missing-electron'), app), 1, 'a missing binary is an error code, not a crash');
});

test('without Electron, start says so in one line and serves the UI from a headless station', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const ui = path.join(dir, 'ui');
  mkdirSync(ui);
  writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Dockhand test UI</title>');
  // Point the lookup at an empty folder so the result does not depend on whether this machine has Electron.
  process.env.ELECTRON_OVERRIDE_DIST_PATH = path.join(dir, 'no-electron-here');
  t.after(() => { delete process.env.ELECTRON_OVERRIDE_DIST_PATH; });
  const proc = startDockhand(t, ['start', '--data', path.join(dir, 'data'), '--ui', ui, '--port', '0']);
  delete process.env.ELECTRON_OVERRIDE_DIST_PATH;

  const url = (await waitFor('the console URL', () => /running at (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(proc.out()), 60_000))[1]!;
  const notice = proc.err().split('\n').filter(Boolean);
  assert.equal(notice.length, 1, `one line about Electron, got: ${proc.err()}`);
  assert.match(notice[0]!, /no Electron runtime here .*serving the UI from a headless station/);
  assert.match(proc.out(), /DEMO catalog/, 'no server configured: the demo server');

  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Dockhand test UI/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);

  proc.kill('SIGTERM');
  assert.equal(await proc.exited, 0);
  assert.match(proc.out(), /stopping/);
});

test('start refuses bad options with a clear message', async (t) => {
  const proc = startDockhand(t, ['start', '--port', 'eighty']);
  assert.equal(await proc.exited, 2);
  assert.match(proc.err(), /--port must be a port number/);
});
