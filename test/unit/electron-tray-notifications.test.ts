// The tray shows the station at a glance; notifications say when a device's package finished or failed.
// Both follow the snapshot + change stream; Electron is the double.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStationTray, trayTooltip } from '../../electron/main/tray.js';
import { createNotifier, finishNotes } from '../../electron/main/notifications.js';
import { applyChange } from '../../electron/main/station-view.js';
import { createElectronDouble, device, snapshot, task, transfer } from '../helpers/electron-double.js';

test('the tray tooltip and menu reflect the snapshot: online, docked devices, active transfers', () => {
  const e = createElectronDouble({ userData: '/x', appPath: '/x' });
  const actions = { shown: 0, quit: 0 };
  const tray = createStationTray(e.asElectron(), '/x/tray.png', { show: () => { actions.shown += 1; }, quit: () => { actions.quit += 1; } });
  const view = snapshot({
    devices: [device(), device({ id: 'dev-2', name: 'Scanner 2' }), device({ id: 'dev-3', state: 'undocked' })],
    transfers: [transfer(), transfer({ id: 'tr-2', state: 'waiting' })],
  });
  tray.update(view);
  const fake = e.trays[0]!;
  assert.equal(fake.tooltip, 'Dockhand — Online · 2 devices docked · 1 active transfer');
  const labels = fake.menu!.items.map((i) => i.label ?? i.type);
  assert.deepEqual(labels, ['Online', '2 devices docked', '1 active transfer', 'separator', 'Show Dockhand', 'Quit Dockhand']);
  assert.ok(fake.menu!.items.slice(0, 3).every((i) => i.enabled === false), 'status lines are not clickable');
  fake.clickItem('Show Dockhand');
  fake.emit('click');
  fake.clickItem('Quit Dockhand');
  assert.deepEqual(actions, { shown: 2, quit: 1 });

  const offline = applyChange(view, { kind: 'station', station: { ...view.station, online: false } });
  const undocked = applyChange(offline, { kind: 'devices', devices: [] });
  const failed = applyChange(undocked, { kind: 'tasks', tasks: [task({ state: 'failed' })] });
  tray.update(failed);
  assert.equal(fake.tooltip, 'Dockhand — Offline — work is queued · 0 devices docked · 1 active transfer · 1 failed task');
  tray.destroy();
  assert.equal(fake.destroyed, true);
});

test('progress changes update one transfer in place; the tooltip follows transfers finishing', () => {
  let view = snapshot({ transfers: [transfer(), transfer({ id: 'tr-2' })] });
  assert.match(trayTooltip(view), /2 active transfers/);
  view = applyChange(view, { kind: 'progress', transfer: transfer({ id: 'tr-2', state: 'done', bytesDone: 100 }) });
  assert.equal(view.transfers.length, 2);
  assert.match(trayTooltip(view), /1 active transfer$/);
  view = applyChange(view, { kind: 'progress', transfer: transfer({ id: 'tr-3' }) });
  assert.equal(view.transfers.length, 3);
});

test('a device finishing and a device failing each raise one notification', () => {
  const before = snapshot({
    devices: [device(), device({ id: 'dev-2', name: 'Scanner 2' })],
    tasks: [task(), task({ id: 'task-2', target: 'dev-2', targetName: 'Scanner 2', package: 'PKG-2', packageName: null })],
  });
  const withResult = applyChange(before, { kind: 'devices', devices: [device({ lastResult: 'installed, exit code 0' }), before.devices[1]!] });
  const after = applyChange(withResult, {
    kind: 'tasks',
    tasks: [task({ state: 'done' }), task({ id: 'task-2', target: 'dev-2', targetName: 'Scanner 2', package: 'PKG-2', packageName: null, state: 'failed', lastError: 'the device ran out of space' })],
  });
  const notes = finishNotes(withResult, after);
  assert.deepEqual(notes, [
    { title: 'Scanner 1: Inventory app finished', body: 'installed, exit code 0', failed: false },
    { title: 'Scanner 2: PKG-2 failed', body: 'the device ran out of space', failed: true },
  ]);
  assert.deepEqual(finishNotes(after, after), [], 'nothing new, nothing said');
  const again = applyChange(after, { kind: 'tasks', tasks: [...after.tasks] });
  assert.deepEqual(finishNotes(after, again), [], 'a repeated state is not a new ending');
});

test('polls and inventories do not notify; tasks already finished in the first snapshot do not either', () => {
  const before = snapshot({ tasks: [task({ id: 'old', state: 'done' }), task({ id: 'poll', kind: 'poll', state: 'running' })] });
  const after = applyChange(before, { kind: 'tasks', tasks: [task({ id: 'old', state: 'done' }), task({ id: 'poll', kind: 'poll', state: 'done' })] });
  assert.deepEqual(finishNotes(before, after), []);
});

test('a burst of endings becomes one summary', () => {
  const before = snapshot();
  const tasks = [1, 2, 3, 4, 5].map((n) => task({ id: `t${n}`, target: `dev-${n}`, state: n === 5 ? 'failed' : 'done' }));
  const notes = finishNotes(before, applyChange(before, { kind: 'tasks', tasks }));
  assert.deepEqual(notes, [{ title: 'Dockhand: 4 finished, 1 failed', body: 'Open Dockhand to see each device.', failed: true }]);
});

test('the notifier shows notes through Notification and brings the window back on click', () => {
  const e = createElectronDouble({ userData: '/x', appPath: '/x' });
  let clicked = 0;
  const notifier = createNotifier(e.asElectron(), { icon: '/x/app.png', onClick: () => { clicked += 1; } });
  notifier.notify({ title: 'Scanner 2: PKG-2 failed', body: 'no space', failed: true });
  assert.equal(e.notifications.length, 1);
  const n = e.notifications[0]!;
  assert.equal(n.shown, true);
  assert.deepEqual([n.options.title, n.options.body, n.options.urgency], ['Scanner 2: PKG-2 failed', 'no space', 'critical']);
  n.emit('click');
  assert.equal(clicked, 1);

  const silent = createElectronDouble({ userData: '/x', appPath: '/x', notificationsSupported: false });
  createNotifier(silent.asElectron(), { onClick: () => {} }).notify({ title: 't', body: 'b', failed: false });
  assert.equal(silent.notifications.length, 0, 'no notification service: nothing, and no crash');
});
