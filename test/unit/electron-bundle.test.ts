// The built app, not just its sources: scripts/build-app.ts bundles main and preload; the main bundle is
// then loaded the way Electron would load it — with `require('electron')` answered by the Electron double
// (the runtime cannot be had here) — and runs the real station (real SQLite in a temp userData, the real
// demo server on 127.0.0.1). The preload bundle runs in a bare VM context with only the `require` a
// sandboxed preload has, proving it needs nothing but 'electron'.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { buildApp, FILE_READING_EXTERNALS, NATIVE_EXTERNALS } from '../../scripts/build-app.js';
import { IPC, SnapshotSchema, type StationClient } from '../../shared/contract/station-api.js';
import { createElectronDouble } from '../helpers/electron-double.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const repo = path.resolve(import.meta.dirname, '..', '..');

/** An app folder like the one electron-builder packs: package.json, dist/, renderer/dist, resources. */
async function buildStage(dir: string) {
  const app = path.join(dir, 'app');
  mkdirSync(path.join(app, 'renderer', 'dist'), { recursive: true });
  copyFileSync(path.join(repo, 'package.json'), path.join(app, 'package.json'));
  writeFileSync(path.join(app, 'renderer', 'dist', 'index.html'), '<!doctype html><title>Dockhand</title>');
  symlinkSync(path.join(repo, 'resources'), path.join(app, 'resources'));
  symlinkSync(path.join(repo, 'node_modules'), path.join(app, 'node_modules'));
  const built = await buildApp({ root: repo, outDir: path.join(app, 'dist') });
  return { app, ...built };
}

// One build for every test in this file (each takes a second or two).
const stageRoot = mkdtempSync(path.join(os.tmpdir(), 'dockhand-bundle-'));
after(() => rmSync(stageRoot, { recursive: true, force: true }));
let staged: ReturnType<typeof buildStage> | null = null;
const stageApp = () => (staged ??= buildStage(stageRoot));

/** The modules a bundle loads with require() or import(), besides Node's built-ins. */
function requiredModules(code: string): string[] {
  const names = new Set<string>();
  for (const m of code.matchAll(/(?<![.\w$])(?:require|import)\("([^"]+)"\)/g)) {
    const name = m[1]!;
    if (!name.startsWith('node:') && !Module.isBuiltin(name)) names.add(name);
  }
  return [...names].sort();
}

test('the main bundle keeps only native modules, electron and file-reading libraries outside; the preload bundle only electron', async () => {
  const { main, preload } = await stageApp();
  const external = (name: string) => [...NATIVE_EXTERNALS, ...FILE_READING_EXTERNALS].some((p) => (p.endsWith('/*') ? name.startsWith(p.slice(0, -1)) : name === p));
  const mainNeeds = requiredModules(readFileSync(main, 'utf8'));
  assert.ok(mainNeeds.includes('electron') && mainNeeds.includes('better-sqlite3'), mainNeeds.join(', '));
  assert.deepEqual(mainNeeds.filter((n) => !external(n)), [], 'everything else is inside the bundle');
  assert.deepEqual(requiredModules(readFileSync(preload, 'utf8')), ['electron']);
});

test('the preload bundle exposes window.station, and only it, in a sandbox-like context', async () => {
  const { preload } = await stageApp();
  const exposed = new Map<string, unknown>();
  const invoked: Array<[string, unknown[]]> = [];
  const fakeElectron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => { invoked.push([channel, args]); return { ok: true, message: 'ok' }; },
      on: () => {},
    },
  };
  // A sandboxed preload gets a require() that knows 'electron' and a few built-ins, and no process.env.
  const sandboxRequire = (name: string) => {
    if (name === 'electron') return fakeElectron;
    throw new Error(`a sandboxed preload cannot require '${name}'`);
  };
  const context = vm.createContext({ require: sandboxRequire, module: { exports: {} }, exports: {}, console });
  vm.runInContext(readFileSync(preload, 'utf8'), context, { filename: 'preload.cjs' });
  assert.deepEqual([...exposed.keys()], ['station']);
  const station = exposed.get('station') as StationClient;
  assert.deepEqual(Object.keys(station).sort(), ['execute', 'getSnapshot', 'subscribe']);
  await station.execute({ type: 'forgetDevice', id: 'dev-1' });
  assert.deepEqual(invoked, [[IPC.execute, [{ type: 'forgetDevice', id: 'dev-1' }]]]);
});

test('the main bundle runs the real station against the Electron double and quits cleanly', async (t) => {
  const dir = tempDir(t);
  const { app, main } = await stageApp();
  const userData = path.join(dir, 'userData');
  const e = createElectronDouble({ userData, appPath: app });
  const moduleWithLoad = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const realLoad = moduleWithLoad._load;
  moduleWithLoad._load = function (request, parent, isMain) {
    return request === 'electron' ? e : realLoad.call(this, request, parent, isMain);
  };
  try {
    createRequire(import.meta.url)(main);
  } finally {
    moduleWithLoad._load = realLoad;
  }
  t.after(async () => {
    if (!e.app.quitted) {
      e.app.quit();
      await waitFor('the app to stop', () => e.app.quitted, 30_000);
    }
  });
  e.ready();
  const win = await waitFor('the main window', () => e.windows[0], 60_000);
  assert.equal(win.loadedFile, path.join(app, 'renderer', 'dist', 'index.html'));

  const snap = SnapshotSchema.parse(await e.ipcMain.invoke(IPC.getSnapshot, win.webContents, win.webContents.mainFrame));
  assert.equal(snap.station.demo, true, 'no server configured: the bundled demo server (its catalog found from the bundle)');
  assert.equal(snap.station.dataDir, userData);
  assert.equal(snap.station.version, JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version);
  await assert.rejects(e.ipcMain.invoke(IPC.execute, win.webContents, win.webContents.mainFrame, { type: 'wipe' }), /refused/);
  assert.match(e.trays[0]!.tooltip, /^Dockhand — /);

  e.app.quit();
  await waitFor('the station to stop and the app to quit', () => e.app.quitted, 30_000);
  assert.deepEqual(e.ipcMain.channels(), []);
});
