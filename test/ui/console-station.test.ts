// The web console in a real browser against a real headless station and the reference server (no device):
// the whole console by keyboard — tabs with arrow keys, Accept on an optional package with Enter — in the
// dark theme the system asks for; then the Activity view's level filter and CSV export, the package cache
// with its SHA-256 copy button, and Settings saved through the station into its config file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockhand, startServerProcess } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { computedStyle, focusedAttribute, openConsole, startStationUi } from '../helpers/browser.js';

interface Pkg { name: string; file: string; body: string; extra: string[] }

/** A reference server with the given packages assigned to every device, and a station with its console. */
async function stationWith(t: { after(fn: () => unknown): void }, packages: Pkg[]) {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url: serverUrl } = await startServerProcess(t, serverData);
  for (const p of packages) {
    const file = path.join(dir, p.file);
    writeFileSync(file, p.body);
    const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', p.name, ...p.extra]);
    assert.equal(add.code, 0, add.err);
    assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', add.out.trim(), '--device', '*'])).code, 0);
  }
  const stationData = path.join(dir, 'station');
  const { url } = await startStationUi(t, ['--server', serverUrl, '--data', stationData, '--id', 'STATION-KB']);
  return { dir, serverData, stationData, url };
}

async function statuses(t: { after(fn: () => unknown): void }, serverData: string, device: string): Promise<string> {
  const log = JSON.parse((await dockhand(t, ['server', 'log', '--data', serverData, '--device', device, '--json'])).out) as Array<{ kind: string; messageID: number }>;
  return log.filter((e) => e.kind === 'status').map((e) => e.messageID).join();
}

const VIEWS = ['devices', 'queue', 'transfers', 'packages', 'activity', 'settings'];

test('by keyboard alone: tab into the views, move between them with arrow keys, accept an optional package with Enter', async (t) => {
  const s = await stationWith(t, [{ name: 'Optional manual', file: 'manual.txt', body: 'read me\n', extra: ['--required', 'no', '--dest', '\\Docs'] }]);
  const ui = await openConsole(t, s.url, { colorScheme: 'dark' });
  const { page } = ui;
  await ui.steps(async () => {
    await page.getByRole('tab', { name: /^Devices/ }).waitFor();
    assert.equal(await page.locator('html').getAttribute('data-theme'), null, 'no theme pinned: the system preference decides');
    assert.equal(await computedStyle(page.locator('body'), 'backgroundColor'), 'rgb(15, 20, 25)', 'prefers-color-scheme: dark applies');

    // Tab from the top of the page reaches the selected tab within a few presses, with a visible focus ring.
    const focused = page.locator(':focus');
    for (let i = 0; i < 6 && (await focusedAttribute(page, 'role')) !== 'tab'; i++) await page.keyboard.press('Tab');
    assert.equal(await focusedAttribute(page, 'role'), 'tab');
    assert.match(await focused.innerText(), /^Devices/);
    assert.equal(await computedStyle(focused, 'outlineStyle'), 'solid', 'keyboard focus is visible');
    assert.equal(await computedStyle(focused, 'outlineWidth'), '3px');

    // Arrow keys walk the tab list (wrapping), each opening its panel and recording it in the address.
    for (const view of [...VIEWS.slice(1), 'devices']) {
      await page.keyboard.press('ArrowRight');
      assert.equal(await focused.getAttribute('id'), `tab-${view}`);
      assert.equal(await focused.getAttribute('aria-selected'), 'true');
      assert.equal(await page.getByRole('tabpanel').getAttribute('aria-labelledby'), `tab-${view}`);
      assert.equal(new URL(page.url()).hash, `#${view}`);
      assert.equal(await page.getByRole('tab', { selected: false }).count(), VIEWS.length - 1);
    }
    await page.keyboard.press('End');
    assert.equal(await focused.getAttribute('id'), 'tab-settings');
    await page.keyboard.press('Home');
    assert.equal(await focused.getAttribute('id'), 'tab-devices');
    await page.keyboard.press('ArrowRight');
    assert.equal(await focused.getAttribute('id'), 'tab-queue');

    // The optional package waits for acceptance; Tab moves on into the queue and reaches its Accept button.
    const row = page.getByRole('row').filter({ hasText: 'Optional manual' });
    await row.filter({ hasText: 'waiting for acceptance' }).waitFor({ timeout: 30_000 });
    let name = '';
    for (let i = 0; i < 30 && !name.startsWith('Accept '); i++) {
      await page.keyboard.press('Tab');
      name = (await focusedAttribute(page, 'aria-label')) ?? '';
    }
    assert.equal(name, 'Accept Optional manual for this station');
    assert.equal(await computedStyle(focused, 'outlineStyle'), 'solid');
    await ui.shoot('keyboard-queue-accept-focused-dark');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Accept Optional manual for this station:' }).waitFor();

    // Accepted: the station downloads it and tells the server, and the queue says it is done.
    await row.filter({ hasText: 'done' }).waitFor({ timeout: 30_000 });
    await waitFor('the server to log the statuses', async () => (await statuses(t, s.serverData, 'STATION-KB')) === '11030,11031,11035', 30_000);
    assert.doesNotMatch(await row.innerText(), /waiting for acceptance/);
    await ui.shoot('keyboard-queue-accepted-dark');
    assert.deepEqual(ui.problems(), []);
  });
});

test('activity filter and CSV export, the cache with its SHA-256, and settings saved into the station', async (t) => {
  const script = '#!/bin/sh\necho set up > done.txt\n';
  const s = await stationWith(t, [{ name: 'Setup script', file: 'setup.sh', body: script, extra: ['--command', 'setup.sh', '--dest', '\\Apps'] }]);
  const ui = await openConsole(t, s.url, { colorScheme: 'light' });
  const { page, context } = ui;
  await ui.steps(async () => {
    // Commands are not allowed on this station: a warning with the next step a technician can take.
    await page.getByRole('tab', { name: /^Activity/ }).click();
    const warning = page.getByRole('row').filter({ hasText: 'commands are not allowed' });
    await warning.first().waitFor({ timeout: 30_000 });
    assert.match(await warning.first().innerText(), /warning[\s\S]*Next step: Allow commands in Settings/);
    const rows = page.locator('table.activity tbody tr');
    const infoRows = rows.filter({ has: page.locator('.pill', { hasText: /^info$/ }) });
    assert.ok(await infoRows.count() > 0);
    await page.getByRole('checkbox', { name: 'Information' }).uncheck();
    await waitFor('only warnings and errors', async () => (await rows.count()) > 0 && (await infoRows.count()) === 0);
    await ui.shoot('activity-warnings-light');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    assert.match(download.suggestedFilename(), /^dockhand-activity-\d{8}-\d{4}\.csv$/);
    const csvPath = path.join(s.dir, 'export.csv');
    await download.saveAs(csvPath);
    const lines = readFileSync(csvPath, 'utf8').split('\r\n').filter(Boolean);
    assert.equal(lines[0], '\ufefftime,level,target,package,message,next step');
    assert.ok(lines.length >= 2);
    assert.ok(lines.slice(1).every((l) => /^[^,]+,(warn|error),/.test(l)), 'the export follows the filter');
    assert.ok(lines.some((l) => l.includes('commands are not allowed') && l.includes('Allow commands in Settings')));

    // The cache: the package with its full SHA-256 on the clipboard at one press.
    await page.getByRole('tab', { name: /^Packages/ }).click();
    const sha = createHash('sha256').update(script).digest('hex');
    const pkgRow = page.getByRole('row').filter({ hasText: 'Setup script' });
    await pkgRow.waitFor();
    assert.match(await pkgRow.innerText(), new RegExp(`setup\\.sh[\\s\\S]*in the cache[\\s\\S]*${script.length} B[\\s\\S]*${sha.slice(0, 8)}…${sha.slice(-8)}[\\s\\S]*used by this station`));
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await pkgRow.getByRole('button', { name: 'Copy the SHA-256 of Setup script' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied the SHA-256 of Setup script' }).waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), sha);
    await ui.shoot('packages-light');

    // Settings: a bad value is refused in words, next to the field; good values go to the station.
    await page.getByRole('tab', { name: /^Settings/ }).click();
    const server = page.getByLabel('Management server');
    const original = await server.inputValue();
    await server.fill('ftp://nowhere');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Settings not saved' }).waitFor();
    assert.equal(await server.getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#set-server-err').innerText(), /http:\/\/ or https:\/\//);
    await server.fill(original);
    assert.equal(await page.locator('#set-server-err').count(), 0, 'the complaint goes once the field is edited');

    const port = path.join(s.dir, 'tty-bench');
    await page.getByLabel('Allow commands').check();
    await page.getByLabel('Download rate limit (KiB/s)').fill('512');
    await page.getByLabel('New entry for serial ports').fill(port);
    await page.getByLabel('New entry for serial ports').press('Enter');
    await page.getByLabel('New entry for usb filters').fill('0x1209:0xD0C4');
    await page.getByRole('group', { name: 'USB filters' }).getByRole('button', { name: 'Add' }).click();
    await ui.shoot('settings-edited-light');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Save settings: settings saved' }).waitFor();
    await page.getByRole('status').filter({ hasText: `Watch serial port ${port}: watching ${port}` }).waitFor();
    assert.equal(await page.getByRole('alert').filter({ hasText: 'Settings not saved' }).count(), 0, 'the success replaces the earlier complaint');
    const config = await waitFor('the config file to change', () => {
      const c = JSON.parse(readFileSync(path.join(s.stationData, 'station.json'), 'utf8')) as Record<string, unknown>;
      return c.allowCommands === true ? c : null;
    });
    assert.equal(config.rateLimit, 512 * 1024);
    assert.deepEqual(config.serialPorts, [port]);
    assert.deepEqual(config.usb, ['1209:d0c4']);
    // The form follows the station again: nothing unsaved, the values as the station now reports them.
    await waitFor('the form to follow the station', async () => !(await page.getByText('Unsaved changes.').isVisible()) &&
      !(await page.getByText('waiting for the station to confirm').isVisible()));
    assert.ok(await page.getByRole('button', { name: 'Save', exact: true }).isDisabled());
    assert.equal(await page.getByLabel('Download rate limit (KiB/s)').inputValue(), '512');
    assert.equal(await page.getByRole('list', { name: 'Serial ports' }).innerText(), `${port}\nForget`);
    await ui.shoot('settings-saved-light');

    // Forgetting the port goes to the station the same way.
    await page.getByRole('button', { name: `Forget ${port}` }).click();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: `no longer watching ${port}` }).waitFor();
    await waitFor('the port to be forgotten', () => (JSON.parse(readFileSync(path.join(s.stationData, 'station.json'), 'utf8')) as { serialPorts: string[] }).serialPorts.length === 0);
    await page.getByRole('list', { name: 'Serial ports' }).waitFor({ state: 'detached' });
    await page.getByText('waiting for the station to confirm').waitFor({ state: 'hidden', timeout: 15_000 });

    await page.getByLabel('Theme').selectOption('dark');
    await ui.shoot('settings-dark');
    await page.getByRole('tab', { name: /^Activity/ }).click();
    await ui.shoot('activity-dark');
    assert.deepEqual(ui.problems(), []);
  });
});

test('without a server the station runs its demo catalog, the header says DEMO, and every view fits 1024×700 in both themes', async (t) => {
  const dir = tempDir(t);
  const { url } = await startStationUi(t, ['--data', path.join(dir, 'station'), '--id', 'STATION-DEMO']);
  const ui = await openConsole(t, url, { colorScheme: 'light' });
  const { page } = ui;
  await ui.steps(async () => {
    const badge = page.getByRole('note').filter({ hasText: 'DEMO' });
    await badge.waitFor({ timeout: 30_000 });
    assert.match(await badge.innerText(), /demo server and catalog — not a real deployment/);
    await page.getByRole('tab', { name: /^Packages/ }).click();
    await page.getByRole('row').filter({ hasText: 'Demo: Welcome readme' }).waitFor({ timeout: 30_000 });
    for (const theme of ['light', 'dark']) {
      await page.getByLabel('Theme').selectOption(theme);
      for (const view of VIEWS) {
        await page.getByRole('tab', { name: new RegExp(`^${view}`, 'i') }).click();
        await page.locator(`#panel-${view}`).waitFor();
        assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, `${view} (${theme}) needs no sideways scrolling`);
        const tabs = await page.getByRole('tablist').boundingBox();
        assert.ok(tabs && tabs.y + tabs.height <= 110, `${view} (${theme}): header and tabs leave the screen to the view`);
        await ui.shoot(`demo-${view}-${theme}`);
      }
    }
    assert.deepEqual(ui.problems(), []);
  });
});
