// The IPC adapter checks who calls (our window's main frame showing our index.html) and what it sends
// (the contract's schemas) before anything reaches the station service; the preload bridge on the other
// side turns window.station calls into those IPC messages. Electron is the double; the service is a fake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { IPC, SnapshotSchema, type Change } from '../../shared/contract/station-api.js';
import { registerStationIpc } from '../../electron/main/ipc.js';
import { createStationBridge } from '../../electron/preload/station-bridge.js';
import { createElectronDouble, FakeFrame, FakeStation, FakeWebContents, device, snapshot } from '../helpers/electron-double.js';

const indexFile = path.join(path.sep, 'app', 'renderer', 'dist', 'index.html');
const indexUrl = pathToFileURL(indexFile).href;

function setup() {
  const e = createElectronDouble({ userData: '/nowhere', appPath: '/app' });
  const service = new FakeStation(snapshot({ devices: [device()] }));
  const ours = new FakeWebContents();
  ours.mainFrame.url = indexUrl;
  const warnings: string[] = [];
  const ipc = registerStationIpc(e.ipcMain as unknown as Parameters<typeof registerStationIpc>[0], service, {
    indexFile, warn: (m) => warnings.push(m), isOwnContents: (c) => c.id === ours.id,
  });
  return { e, service, ours, warnings, ipc };
}

test('a valid command from the app page reaches the service and its result comes back', async () => {
  const { e, service, ours, warnings } = setup();
  const command = { type: 'acceptPackage', target: 'dev-1', packageId: 'PKG-1' } as const;
  assert.deepEqual(await e.ipcMain.invoke(IPC.execute, ours, ours.mainFrame, command), { ok: true, message: 'done' });
  assert.deepEqual(service.commands, [command]);
  const snap = await e.ipcMain.invoke(IPC.getSnapshot, ours, ours.mainFrame);
  assert.equal(SnapshotSchema.parse(snap).devices[0]!.name, 'Scanner 1');
  assert.deepEqual(warnings, []);
});

test('calls from another page, a subframe, another webContents or a vanished frame are refused', async () => {
  const { e, service, ours, warnings } = setup();
  const command = { type: 'retryNow', target: 'dev-1', taskId: 't' };

  const evilPage = new FakeFrame('https://evil.example/');
  const lookalike = new FakeFrame(pathToFileURL(path.join(path.sep, 'tmp', 'index.html')).href);
  const subframe = new FakeFrame(indexUrl, ours.mainFrame);
  const stranger = new FakeWebContents();
  stranger.mainFrame.url = indexUrl;

  const cases: Array<[string, FakeWebContents, FakeFrame | null, RegExp]> = [
    ['another page', Object.assign(new FakeWebContents(), { mainFrame: evilPage }), evilPage, /not a Dockhand window/],
    ['a frame that is gone', ours, null, /frame is gone/],
    ['a subframe of our page', ours, subframe, /subframe/],
    ['a webContents we did not create', stranger, stranger.mainFrame, /not a Dockhand window/],
  ];
  for (const [what, sender, frame, reason] of cases) {
    await assert.rejects(e.ipcMain.invoke(IPC.execute, sender, frame, command), reason, what);
    await assert.rejects(e.ipcMain.invoke(IPC.getSnapshot, sender, frame), reason, what);
  }
  // Our own window, but navigated elsewhere (the main frame's URL is what counts).
  ours.mainFrame.url = lookalike.url;
  await assert.rejects(e.ipcMain.invoke(IPC.execute, ours, ours.mainFrame, command), /is not the Dockhand UI/);
  assert.equal(service.commands.length, 0, 'nothing reached the service');
  assert.equal(warnings.length, 9, 'every refusal is logged');
  assert.ok(warnings.every((w) => w.startsWith('ipc: refused station:')));
});

test('invalid payloads are refused with the reason, and never reach the service', async () => {
  const { e, service, ours, warnings } = setup();
  const bad: unknown[][] = [
    [{ type: 'formatDisk' }],
    [{ type: 'acceptPackage', target: 'dev-1' }],
    [{ type: 'acceptPackage', target: '', packageId: 'P' }],
    [{ type: 'acceptPackage', target: 'x'.repeat(201), packageId: 'P' }],
    [{ type: 'updateSettings', settings: { concurrency: 1000 } }],
    ['acceptPackage'],
    [null],
    [],
    [{ type: 'forgetDevice', id: 'dev-1' }, 'extra'],
  ];
  for (const args of bad) {
    await assert.rejects(e.ipcMain.invoke(IPC.execute, ours, ours.mainFrame, ...args), /refused/, JSON.stringify(args));
  }
  await assert.rejects(e.ipcMain.invoke(IPC.getSnapshot, ours, ours.mainFrame, 'x'), /takes no arguments/);
  await assert.rejects(e.ipcMain.invoke(IPC.execute, ours, ours.mainFrame, { type: 'acceptPackage', target: 'dev-1' }), /packageId/);
  assert.equal(service.commands.length, 0);
  assert.equal(warnings.length, bad.length + 2);
});

test('a command that throws comes back as a failed result, not a broken promise', async () => {
  const { e, service, ours } = setup();
  service.answer = async () => { throw new Error('the package is not in the catalog'); };
  assert.deepEqual(await e.ipcMain.invoke(IPC.execute, ours, ours.mainFrame, { type: 'forgetDevice', id: 'dev-9' }),
    { ok: false, message: 'the package is not in the catalog' });
});

test('changes go to subscribed pages until they are destroyed; dispose removes everything', async () => {
  const { e, service, ours, ipc } = setup();
  const change: Change = { kind: 'devices', devices: [device({ state: 'undocked' })] };
  service.emit(change);
  assert.equal(ours.sent.length, 0, 'nothing before the page subscribes');
  assert.equal(await e.ipcMain.invoke(IPC.subscribe, ours, ours.mainFrame), true);
  assert.equal(await e.ipcMain.invoke(IPC.subscribe, ours, ours.mainFrame), true, 'subscribing twice (a reload) is harmless');
  service.emit(change);
  assert.deepEqual(ours.sent, [{ channel: IPC.change, args: [change] }]);
  ours.destroy();
  assert.equal(ipc.subscriberCount(), 0);
  service.emit(change);
  assert.equal(ours.sent.length, 1);

  ipc.dispose();
  assert.deepEqual(e.ipcMain.channels(), []);
  assert.equal(service.listenerCount(), 0);
});

test('the preload bridge is a StationClient over IPC: snapshot, commands, then changes', async () => {
  const { e, service, ours } = setup();
  // The renderer's end of the double's IPC: invoke → ipcMain handlers as our page; send → 'on' listeners.
  const rendererListeners = new Map<string, Array<(event: unknown, ...args: unknown[]) => void>>();
  ours.send = (channel: string, ...args: unknown[]) => {
    for (const l of rendererListeners.get(channel) ?? []) l({ sender: 'ipc' }, ...args);
  };
  const ipcRenderer = {
    invoke: (channel: string, ...args: unknown[]) => e.ipcMain.invoke(channel, ours, ours.mainFrame, ...args),
    on: (channel: string, l: (event: unknown, ...args: unknown[]) => void) => {
      rendererListeners.set(channel, [...(rendererListeners.get(channel) ?? []), l]);
    },
  };
  const warnings: string[] = [];
  const station = createStationBridge(ipcRenderer, (m) => warnings.push(m));

  assert.equal((await station.getSnapshot()).devices.length, 1);
  assert.deepEqual(await station.execute({ type: 'forgetDevice', id: 'dev-1' }), { ok: true, message: 'done' });
  await assert.rejects(station.execute({ type: 'nonsense' } as never), /refused/);

  const seen: Change[] = [];
  const stop = station.subscribe((c) => seen.push(c));
  station.subscribe(() => { throw new Error('a broken listener'); });
  await new Promise((r) => setImmediate(r)); // the subscribe request is an invoke
  service.emit({ kind: 'station', station: { ...service.view.station, online: false } });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.kind, 'station');
  assert.ok(warnings.some((w) => w.includes('a broken listener')), 'one failing listener does not stop the others');
  stop();
  service.emit({ kind: 'devices', devices: [] });
  assert.equal(seen.length, 1, 'unsubscribed');
  assert.throws(() => station.subscribe('nope' as never), /needs a function/);
});
