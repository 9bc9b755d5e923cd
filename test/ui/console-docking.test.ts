// The web console in a real browser, against a real headless station, the reference server and a real
// agent on a pseudo-terminal: the station's cradled-only task waits for a dock; the device docks and its
// card appears; its download is cut by a fault proxy and the console shows where it will resume; Retry now
// resumes it from that byte, the bar advances past the marker, and the device gets the exact file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { dockhand, startDockhand } from '../helpers/processes.js';
import { ptyPair } from '../helpers/pty.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { computedStyle, openConsole, progressValue, startStationUi } from '../helpers/browser.js';

const SIZE = 1536 * 1024;
const CUT = 512 * 1024 + 123;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A loopback port free right now, so the proxy can name the server's address before the server starts. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('a docking device: waiting for dock, its card, a cut download resumed from its checkpoint, the file delivered', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  // Package bytes travel through the proxy (the server's --public-url); control documents go direct.
  const serverPort = await freePort();
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: serverPort });
  t.after(() => proxy.close());
  const server = startDockhand(t, ['server', '--data', serverData, '--host', '127.0.0.1', '--port', String(serverPort), '--public-url', proxy.url]);
  const serverUrl = (await waitFor('the server to listen', () => /listening on (http:\/\/\S+)/.exec(server.out()), 30_000))[1]!;

  const bytes = randomBytes(SIZE);
  const file = path.join(dir, 'image.bin');
  writeFileSync(file, bytes);
  const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', 'Scanner image',
    '--flags', '04 00 00 00', '--dest', '\\Images']);
  assert.equal(add.code, 0, add.err);
  const packageId = add.out.trim();
  assert.equal((await dockhand(t, ['server', 'assign', '--data', serverData, '--package', packageId, '--device', '*'])).code, 0);

  const pair = await ptyPair(t, dir, 'cradle');
  const { url } = await startStationUi(t, ['--server', serverUrl, '--data', path.join(dir, 'station'), '--id', 'STATION-UI',
    // 128 KiB/s: the resumed download then lasts 8 s, time enough on a slow machine to watch its row move
    // before it ends and the row goes.
    '--serial', pair.a, '--rate-limit', '128K']);
  const ui = await openConsole(t, url, { colorScheme: 'light' });
  const { page } = ui;
  await ui.steps(async () => {
    // The station's own copy of the cradled-only package waits for a dock, in words.
    await page.getByRole('tab', { name: /^Queue/ }).click();
    const stationRow = page.getByRole('row').filter({ hasText: 'this station' }).filter({ hasText: 'Scanner image' });
    await stationRow.filter({ hasText: 'waiting for dock' }).waitFor({ timeout: 30_000 });
    await ui.shoot('docking-queue-waiting-for-dock-light');
    await page.getByRole('tab', { name: /^Devices/ }).click();
    await page.getByText('No device has docked yet').waitFor();

    // The device docks; its first package download is cut after CUT body bytes.
    // The connections after the cut are refused until the technician presses Retry: the station may try
    // again on its own (any later contact with the server — a field-kit refresh, a poll — wakes it), and the
    // test needs the wait to last until it has read it.
    proxy.setPlans([{ cutAfterBodyBytes: CUT }, ...Array.from({ length: 50 }, () => ({ refuse: true }))]);
    const agentRoot = path.join(dir, 'device');
    const agent = startDockhand(t, ['agent', '--port', pair.b, '--root', agentRoot, '--id', 'DEV-UI-1', '--name', 'scanner-7']);
    await waitFor('the agent to listen', () => agent.out().includes('listening on'), 30_000);
    const card = page.getByRole('article', { name: /^cradle-a, scanner-7: / });
    await card.waitFor({ timeout: 30_000 });
    assert.match(await card.innerText(), /cradle-a[\s\S]*scanner-7/);

    // After the cut: the queue says why the device's download waits, the transfer shows its checkpoint.
    await page.getByRole('tab', { name: /^Queue/ }).click();
    const deviceRow = page.getByRole('row').filter({ hasText: 'scanner-7' }).filter({ hasText: 'Scanner image' }).filter({ hasText: 'Download' });
    await deviceRow.filter({ hasText: /the server cannot be reached .*retrying in/ }).waitFor({ timeout: 60_000 });
    await page.getByRole('tab', { name: /^Transfers/ }).click();
    const download = page.locator('li.transfer').filter({ hasText: 'Scanner image' }).filter({ hasText: 'download' });
    await waitFor('the bar to stand at the checkpoint', async () => (await progressValue(download.locator('progress'))) === CUT, 20_000);
    await ui.shoot('docking-transfers-checkpoint-light');

    // Retry now, by the button a technician would press; the download resumes from the checkpoint.
    proxy.setPlans([]);
    await page.getByRole('tab', { name: /^Queue/ }).click();
    await page.getByRole('button', { name: 'Retry download of Scanner image for scanner-7 now' }).click();
    await page.getByRole('status').filter({ hasText: 'retrying now' }).waitFor();
    await page.getByRole('tab', { name: /^Transfers/ }).click();
    const resumed = download.filter({ hasText: 'resumed at 512 KiB' });
    await resumed.waitFor({ timeout: 30_000 });
    await resumed.locator('.resume-marker').waitFor();
    const bar = resumed.locator('progress');
    const first = await progressValue(bar);
    assert.ok(first >= CUT, `the resumed bar starts at the checkpoint (${first})`);
    await waitFor('the bar to advance', async () => (await progressValue(bar)) > first + 64 * 1024, 20_000);
    assert.match(await resumed.innerText(), /of 1\.5 MiB[\s\S]*\/s[\s\S]*ETA/);
    await ui.shoot('docking-transfers-resumed-light');

    // The device gets the exact file and the server hears the three statuses for it.
    const delivered = path.join(agentRoot, 'Images', 'image.bin');
    await waitFor('the file on the device', () => existsSync(delivered) && readFileSync(delivered).length === SIZE, 60_000);
    assert.equal(sha(readFileSync(delivered)), sha(bytes));
    await page.getByRole('tab', { name: /^Queue/ }).click();
    await deviceRow.filter({ hasText: 'done' }).waitFor({ timeout: 30_000 });
    const gets = proxy.stats().connections.flatMap((c) => c.requests.filter((r) => r.method === 'GET'));
    assert.equal(gets.length, 2, 'one cut download and one resume');
    assert.equal(gets[1]!.headers.range, `bytes=${CUT}-`);
    assert.equal(proxy.stats().totalResponseBodyBytes, SIZE, 'no byte was sent twice');
    await waitFor('the server to log the device\'s statuses', async () => {
      const log = JSON.parse((await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'DEV-UI-1', '--json'])).out) as Array<{ kind: string; messageID: number }>;
      return log.filter((e) => e.kind === 'status').map((e) => e.messageID).join() === '11030,11031,11035';
    }, 30_000);

    // The card tells the result; the same views in the dark theme, chosen in the header.
    await page.getByRole('tab', { name: /^Devices/ }).click();
    await page.getByRole('article', { name: 'cradle-a, scanner-7: Done: 1 package installed' }).waitFor({ timeout: 20_000 });
    await ui.shoot('docking-devices-light');
    await page.getByLabel('Theme').selectOption('dark');
    assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
    assert.equal(await computedStyle(page.locator('body'), 'backgroundColor'), 'rgb(15, 20, 25)', 'the dark palette applies');
    await ui.shoot('docking-devices-dark');
    await page.getByRole('tab', { name: /^Queue/ }).click();
    await ui.shoot('docking-queue-dark');
    assert.deepEqual(ui.problems(), [], 'no page errors and no CSP violations');
  });
});
