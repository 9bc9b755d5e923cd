// The bench board against the real thing: the reference server, a headless station with its web console,
// and eight real agents on pseudo-terminals (socat) — two that finish, one whose command exits with code 3,
// one waiting for a technician's acceptance, one the server moved to an address nobody answers (offline),
// one unplugged in the middle of its push, and two still working on a big download — in Debian's Chromium.
// Asserted: each tile's verdict in words and in its accessible name, failures first, one transfer row per
// push, the failure in the Queue and in Packages, the record exported from the board as CSV and as a PDF
// (rendered by poppler), the header while the server is stopped, and the dimmed board when the console
// loses the station. Screenshots at 1024×700 and 1920×1080, light and dark.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import * as admin from '../../server/admin.js';
import { renameSlot } from '../../electron/station/slots.js';
import { ClientStore } from '../../electron/store/client-store.js';
import { localTargetDb } from '../../electron/station/station.js';
import { startDockhand, startServerProcess } from '../helpers/processes.js';
import { ptyPair, type PtyPair } from '../helpers/pty.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { computedStyle, openConsole, startStationUi } from '../helpers/browser.js';
import { stationSocket } from '../helpers/station-socket.js';
import { pdfInk, pdfText } from '../helpers/pdf.js';
import { csvRecords } from '../helpers/csv.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

/** A loopback port nobody listens on (the offline device's server). */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface Bench { id: string; name: string; slot: string; pair: PtyPair }

const ROLES = ['done-1', 'done-2', 'fail', 'accept', 'offline', 'undock', 'work-1', 'work-2'] as const;
type Role = (typeof ROLES)[number];

async function startAgents(t: TestContext, dir: string): Promise<Record<Role, Bench>> {
  const benches = await Promise.all(ROLES.map(async (role, i) => {
    const pair = await ptyPair(t, dir, `bay${i + 1}`);
    const id = `SCANNER-00${41 + i}`;
    const name = `scanner-${41 + i}`;
    const agent = startDockhand(t, ['agent', '--port', pair.b, '--root', path.join(dir, `device-${i + 1}`), '--id', id, '--name', name]);
    await waitFor(`agent ${id}`, () => agent.out().includes('listening on'), 60_000);
    return [role, { id, name, slot: `Slot ${i + 1}`, pair }] as const;
  }));
  return Object.fromEntries(benches) as Record<Role, Bench>;
}

const tile = (page: Page, b: Bench) => page.locator(`li.tile[data-device="${b.id}"]`);

async function verdictOf(page: Page, b: Bench): Promise<string> {
  return (await tile(page, b).getAttribute('data-verdict')) ?? '';
}

test('the bench board with eight real devices: verdicts, failures first, one row per push, record, server down, station lost', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { proc: server, url: serverUrl } = await startServerProcess(t, serverData);
  const bench = await startAgents(t, dir);

  // The catalog: two packages for every device, a firmware whose command exits with 3 for one, an optional
  // package for another, a 12 MiB image for the one unplugged mid-push, an 80 MiB voice pack for two: at the
  // station's 3 MB/s these take about a minute whatever the machine's speed, so the two are still working when
  // the record is exported (30 s into the test on CI; 48 MiB packs would end at about 35 s).
  const files = path.join(dir, 'files');
  const publish = async (name: string, file: string, body: Buffer | string, device: string, o: Partial<admin.AddPackageOptions> = {}) => {
    writeFileSync(path.join(dir, file), body);
    const p = await admin.addPackage(serverData, { name, file: path.join(dir, file), localDestination: '\\Apps', ...o });
    admin.assignPackage(serverData, p.id, device);
    return p.id;
  };
  void files;
  await publish('Base image', 'base.bin', randomBytes(200 * 1024), '*');
  await publish('Inventory app', 'app.sh', '#!/bin/sh\nexit 0\n', '*', { commandLine: 'app.sh --quiet' });
  const firmware = '#!/bin/sh\necho "flash failed: battery too low" >&2\nexit 3\n';
  const fw = await publish('Scanner firmware', 'fw.sh', firmware, bench.fail.id, { commandLine: 'fw.sh' });
  await publish('Extras', 'extras.bin', 'extras', bench.accept.id, { required: false });
  const maps = randomBytes(12 * MiB);
  const mapsId = await publish('Offline maps', 'maps.bin', maps, bench.undock.id);
  for (const w of [bench['work-1'], bench['work-2']]) await publish(`Voice pack for ${w.name}`, `voice-${w.id}.bin`, randomBytes(80 * MiB), w.id);
  // Polls every 3 s, a retry 1:40 after a failure; the station's own machine inventory every 5 s (it
  // waits in the outbox while the server is down); the offline device is sent to a dead address.
  admin.setSettings(serverData, { pollIntervalMs: 3000, retryIntervalMs: 100_000 });
  admin.setSettings(serverData, { machineInventory: { enabled: true }, reportIntervalMs: 5000 }, 'STATION-BOARD');
  admin.setSettings(serverData, { pollServer: `127.0.0.1:${await deadPort()}` }, bench.offline.id);

  // Slots named by the technician (all but the failing device's, which is named in the UI below).
  const stationData = path.join(dir, 'station');
  const store = new ClientStore(localTargetDb(stationData));
  for (const b of Object.values(bench)) if (b !== bench.fail) renameSlot(store, b.pair.a, b.slot);
  store.close();

  const { proc: station, url } = await startStationUi(t, ['--server', serverUrl, '--data', stationData, '--id', 'STATION-BOARD', '--allow-commands',
    '--rate-limit', '3M', '--concurrency', '16', ...Object.values(bench).flatMap((b) => ['--serial', b.pair.a])]);
  const socket = await stationSocket(t, url);
  const ui = await openConsole(t, url, { colorScheme: 'light', viewport: { width: 1920, height: 1080 } });
  const { page } = ui;
  await ui.steps(async () => {
    await page.locator('li.tile').nth(7).waitFor({ timeout: 60_000 });

    // Unplug the undock device in the middle of its push; meanwhile the Transfers view shows one row for it.
    await page.getByRole('tab', { name: /^Transfers/ }).click();
    const pushRows = page.locator('li.transfer').filter({ hasText: 'Offline maps' }).filter({ hasText: 'push' });
    const counts: number[] = [];
    await waitFor('the push of Offline maps to pass 1 MiB', async () => {
      counts.push(await pushRows.count());
      const progress = socket.changes.filter((c) => c.kind === 'progress' && c.transfer.leg === 'push' && c.transfer.target === bench.undock.id).at(-1);
      return progress?.kind === 'progress' && progress.transfer.bytesDone > MiB;
    }, 90_000, 50);
    counts.push(await pushRows.count());
    await bench.undock.pair.unplug();
    assert.ok(counts.some((n) => n === 1), 'the push had its row');
    assert.ok(counts.every((n) => n <= 1), `one transfer row per push, never more (${counts.join(',')})`);
    await pushRows.filter({ hasText: 'Waiting for dock' }).waitFor({ timeout: 20_000 });
    assert.equal(await pushRows.count(), 1, 'after the unplug, the kept checkpoint is the one row');
    await ui.shoot('board-transfers-light');

    await page.getByRole('tab', { name: /^Devices/ }).click();
    const expect: Array<[Role, string, RegExp]> = [
      ['done-1', 'done', /^Slot 1, scanner-41: Done: 2 packages installed$/],
      ['done-2', 'done', /^Slot 2, scanner-42: Done: 2 packages installed$/],
      ['fail', 'failed', /^bay3-a, scanner-43: Failed: Scanner firmware, command exited with code 3$/],
      ['accept', 'waiting', /^Slot 4, scanner-44: Waiting for acceptance of Extras$/],
      ['offline', 'waiting', /^Slot 5, scanner-45: Waiting for the server, retrying in .+$/],
      ['undock', 'undocked', /^Slot 6, scanner-46: Undocked mid-transfer: Offline maps, resumes at \d+\.\d MiB of 12\.0 MiB; dock it again$/],
      ['work-1', 'working', /^Slot 7, scanner-47: Working: package \d of 3, (downloading|pushing) Voice pack for scanner-47(, \d+ %)?$/],
      ['work-2', 'working', /^Slot 8, scanner-48: Working: package \d of 3, (downloading|pushing) Voice pack for scanner-48(, \d+ %)?$/],
    ];
    for (const [role, verdict, name] of expect) {
      await waitFor(`${role} to be ${verdict}`, async () => (await verdictOf(page, bench[role])) === verdict, 90_000, 100);
      const article = tile(page, bench[role]).getByRole('article');
      assert.match((await article.getAttribute('aria-label')) ?? '', name, `${role}'s accessible name carries its verdict`);
      await page.getByRole('article', { name }).waitFor();
    }
    // The verdict in words on the tile too (not colour alone), and failures first.
    assert.match(await tile(page, bench.fail).innerText(), /Failed[\s\S]*Scanner firmware: command exited with code 3/);
    assert.match(await tile(page, bench.undock).innerText(), /Undocked[\s\S]*mid-transfer: Offline maps, resumes at/);
    const order = await page.locator('li.tile').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { verdict: string } }).dataset.verdict));
    assert.deepEqual(order.slice(0, 2), ['failed', 'undocked'], `failures first (${order.join(', ')})`);
    const rank = { failed: 0, undocked: 1, waiting: 2, working: 3, done: 4 } as Record<string, number>;
    assert.deepEqual(order, [...order].sort((a, b) => rank[a]! - rank[b]!));

    // The failing device in full: its slot named here, every package with its result and exit code.
    await tile(page, bench.fail).locator('button.tile-open').click();
    const dialog = page.getByRole('dialog', { name: /scanner-43/ });
    await dialog.waitFor();
    await dialog.getByLabel('Slot name').fill('Slot 3');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'is now called "Slot 3"' }).waitFor();
    const fwRow = dialog.getByRole('row').filter({ hasText: 'Scanner firmware' });
    assert.match(await fwRow.innerText(), /Failed[\s\S]*command exited with code 3[\s\S]*3/);
    assert.match(await dialog.innerText(), /Next step:/);
    await ui.shoot('board-detail-failed-1920-light');
    await page.keyboard.press('Escape');
    await page.getByRole('article', { name: /^Slot 3, scanner-43: Failed/ }).waitFor();
    await ui.shoot('board-8-1920x1080-light');
    await page.getByLabel('Theme').selectOption('dark');
    await ui.shoot('board-8-1920x1080-dark');
    await page.setViewportSize({ width: 1024, height: 700 });
    await ui.shoot('board-8-1024x700-dark');
    await page.getByLabel('Theme').selectOption('light');
    await ui.shoot('board-8-1024x700-light');

    // The Queue says failed (red, with the reason), never done; Packages gives the result per device.
    await page.getByRole('tab', { name: /^Queue/ }).click();
    const fwTask = page.getByRole('row').filter({ hasText: 'Scanner firmware' }).filter({ hasText: 'scanner-43' });
    assert.match(await fwTask.innerText(), /failed[\s\S]*Failed: command exited with code 3/);
    assert.equal(await computedStyle(fwTask.locator('.pill'), 'color'), 'rgb(180, 35, 24)', 'the failed pill is red');
    await ui.shoot('board-queue-1024-light');
    await page.getByRole('tab', { name: /^Packages/ }).click();
    const fwPackage = page.getByRole('row').filter({ hasText: 'Scanner firmware' });
    assert.match(await fwPackage.innerText(), /0 installed[\s\S]*1 failed[\s\S]*scanner-43 \(Slot 3\): failed: command exited with code 3/);
    assert.match(await page.getByRole('row').filter({ hasText: 'Inventory app' }).innerText(), /installed/);
    await ui.shoot('board-packages-1024-light');

    // Today's batch, exported from the board: CSV and PDF of every device.
    await page.getByRole('tab', { name: /^Devices/ }).click();
    await page.getByLabel('Select all').check();
    const [csvFile] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /as CSV$/ }).first().click()]);
    const csv = readFileSync((await csvFile.path())!, 'utf8');
    assert.match(csvFile.suggestedFilename(), /^dockhand-record-8-devices-\d{8}-\d{4}\.csv$/);
    const records = csvRecords(csv);
    const fwRecord = records.find((r) => r['package name'] === 'Scanner firmware')!;
    assert.deepEqual([fwRecord['station'], fwRecord['device id'], fwRecord['device name'], fwRecord['slot'], fwRecord['package id'], fwRecord['sha256']],
      ['STATION-BOARD', 'SCANNER-0043', 'scanner-43', 'Slot 3', fw, sha(firmware)]);
    assert.deepEqual([fwRecord['result'], fwRecord['failed phase'], fwRecord['exit code'], fwRecord['reason']], ['failed', 'command', '3', 'command exited with code 3']);
    assert.match(fwRecord['verdict']!, /^Failed: Scanner firmware/);
    const app41 = records.find((r) => r['device id'] === 'SCANNER-0041' && r['package name'] === 'Inventory app')!;
    assert.deepEqual([app41['result'], app41['exit code']], ['success', '0'], 'a success with its exit code');
    assert.equal(new Set(records.map((r) => r['device id'])).size, 8, 'every selected device is in the record');
    const [pdfFile] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /as PDF$/ }).first().click()]);
    const pdf = readFileSync((await pdfFile.path())!);
    const text = pdfText(pdf);
    const pages = text.split('\f').filter((p) => p.trim());
    assert.equal(pages.length, 9, 'a batch summary page, then a page per device');
    assert.match(pages[0]!, /Batch summary[\s\S]*8 devices: 1 failed, 1 undocked mid-transfer, 2 waiting, 2 working, 2 done/);
    assert.match(text, /scanner-43[\s\S]*FAILED[\s\S]*command exited with code 3/);
    assert.ok(text.includes(sha(firmware)), 'the firmware\'s full SHA-256 is in the PDF');
    const ink = pdfInk(pdf, 'board-record-batch-page-1');
    assert.ok(ink.every((share) => share > 0.005), `no blank page (${ink.map((x) => x.toFixed(3)).join(', ')})`);

    // The server goes down: the header says so with the next retry, and the messages that wait.
    server.kill('SIGTERM');
    await server.exited;
    const unreachable = page.locator('.status-pills .pill.bad');
    await unreachable.filter({ hasText: /^Server unreachable, retrying in 1:[0-4]\d$/ }).waitFor({ timeout: 30_000 });
    await page.locator('.status-pills .pill.warn').filter({ hasText: /^\d+ messages? waiting$/ }).waitFor({ timeout: 30_000 });
    assert.match((await unreachable.getAttribute('aria-label')) ?? '', /^Server 127\.0\.0\.1:\d+ unreachable, retrying in 1:\d\d\. .*127\.0\.0\.1/);
    await ui.shoot('board-server-down-1024-light');

    // The console loses the station: the board stays, dimmed, and says it is the last known state.
    station.kill('SIGKILL');
    await page.locator('.status-pills').getByText('Station lost').waitFor({ timeout: 20_000 });
    await page.getByRole('alert').filter({ hasText: 'Lost the station: the views show its last known state' }).waitFor();
    assert.equal(await computedStyle(tile(page, bench.fail).locator('button.tile-open'), 'opacity'), '0.5');
    await ui.shoot('board-station-lost-1024-light');
    assert.deepEqual(ui.problems().filter((p) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(p)), [], 'no page errors and no CSP violations');
  });
  void maps;
  void mapsId;
});
