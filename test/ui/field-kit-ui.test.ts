// The field kit as a technician sees it, in a real browser (Debian's Chromium) with the real renderer and the
// real web console, fed by a station double (FixedStation: what the station says is tested against a real
// station in test/e2e/field-kit-*.test.ts; here, that the window says it): the header says "Server
// unreachable" with the kit's age, a device's tile "provisioned offline, N messages waiting for the server",
// its detail lets a technician pick another profile (the command that goes to the station), and Settings
// names profiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWebConsole } from '../../electron/station/web-console.js';
import { rendererDist } from '../../electron/station/cli.js';
import { benchSnapshot, FixedStation } from '../helpers/board-fixtures.js';
import { ensureRendererBuilt, openConsole } from '../helpers/browser.js';
import { waitFor } from '../helpers/tmp.js';

const AS_OF = '2026-12-01T14:02:00.000Z';

function offlineSnapshot() {
  const snap = benchSnapshot(4);
  snap.station.online = false;
  snap.station.contact = { state: 'unreachable', server: 'dm.example.com:8080', problem: 'the server dm.example.com:8080 refused the connection', retryAt: null, waiting: 3 };
  snap.station.fieldKit = {
    asOf: AS_OF, defaultProfile: 'scanner',
    profiles: [{ deviceId: 'SCANNER-TEMPLATE', name: 'scanner', polledAt: AS_OF, isDefault: true }, { deviceId: 'PRINTER-TEMPLATE', name: 'printer', polledAt: AS_OF, isDefault: false }],
  };
  snap.devices[0] = { ...snap.devices[0]!, provisionedOffline: true, kitProfile: 'scanner', messagesWaiting: 3, packages: [] };
  // One that already installed from the kit: too late to pick another profile (the station would refuse).
  assert.ok(snap.devices[1]!.packages.some((p) => p.result === 'installed'));
  snap.devices[1] = { ...snap.devices[1]!, provisionedOffline: true, kitProfile: 'scanner', messagesWaiting: 2 };
  return snap;
}

test('offline: the header gives the kit\'s age, a tile says provisioned offline, the detail picks a profile, Settings names profiles', async (t) => {
  await ensureRendererBuilt();
  const station = new FixedStation(offlineSnapshot());
  const web = await startWebConsole(station, { staticDir: rendererDist() });
  t.after(() => web.close());
  const ui = await openConsole(t, web.url);
  const { page } = ui;
  await ui.steps(async () => {
    const pills = page.getByRole('list', { name: 'Station state' });
    await pills.getByText('Server unreachable').waitFor();
    await pills.getByText('Offline: field kit from 1 Dec 14:02').waitFor(); // the browser runs in UTC
    const tile = page.locator('li.tile', { hasText: 'provisioned offline, 3 messages waiting for the server' });
    await tile.waitFor();
    await ui.shoot('field-kit-board');
    await tile.locator('button.tile-open').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('From profile scanner: provisioned offline, 3 messages waiting for the server.').waitFor();
    await dialog.getByLabel('Profile').selectOption('PRINTER-TEMPLATE');
    await dialog.getByRole('button', { name: 'Provision from this profile' }).click();
    const target = offlineSnapshot().devices[0]!.id;
    await waitFor('the command to reach the station', () => station.commands.some((c) => c.type === 'useKitProfile'));
    assert.deepEqual(station.commands.find((c) => c.type === 'useKitProfile'), { type: 'useKitProfile', target, profile: 'PRINTER-TEMPLATE' });
    await ui.shoot('field-kit-detail');
    await page.keyboard.press('Escape');
    await page.locator('li.tile', { hasText: 'provisioned offline, 2 messages waiting for the server' }).locator('button.tile-open').click();
    const started = page.getByRole('dialog');
    await started.getByText('From profile scanner: provisioned offline, 2 messages waiting for the server.').waitFor();
    assert.equal(await started.getByRole('button', { name: 'Provision from this profile' }).count(), 0, 'no picker once a package started');
    await page.keyboard.press('Escape');

    await page.getByRole('tab', { name: 'Settings' }).click();
    const add = page.getByLabel('New entry for field-kit profiles');
    await add.fill('printer');
    await add.press('Enter');
    await page.getByText('"printer" is not a profile; write NAME=DEVICE-ID').waitFor();
    await add.fill('printer=PRINTER-TEMPLATE');
    await add.press('Enter');
    await page.getByLabel('Default field-kit profile').fill('printer');
    await page.getByRole('button', { name: 'Save' }).click();
    await waitFor('the settings to reach the station', () => station.commands.some((c) => c.type === 'updateSettings'));
    assert.deepEqual(station.commands.find((c) => c.type === 'updateSettings'),
      { type: 'updateSettings', settings: { profiles: [{ name: 'printer', device: 'PRINTER-TEMPLATE' }], defaultProfile: 'printer' } });
    assert.deepEqual(ui.problems(), []);
  });
});
