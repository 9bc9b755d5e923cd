// The real station engine against what real Windows CE deployments look like, over loopback HTTP: a double
// of the one public server written against a real CE 4.21 device (test/helpers/stock-ce-server.ts), which
// serves its recorded poll answer as text/html with empty filter items in disabled report blocks and answers
// the messages it does not know with a line of text; and web pages where a server should be (a captive
// portal's login page, a proxy's error page).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Station } from '../../electron/station/station.js';
import { ManualClock } from '../../electron/engine/clock.js';
import { readSettings } from '../../electron/engine/client-settings.js';
import { platformCode } from '../../electron/engine/local/machine-inventory.js';
import { buildStatus, parseFileReport, parseInventory, parsePollRequest } from '../../shared/protocol/index.js';
import { startStockCeServer, type StockServer } from '../helpers/stock-ce-server.js';
import { tempDir } from '../helpers/tmp.js';

const ID = '26CB0000-1807-1211-1502-7368747269AA';
const MIN = 60_000;

async function station(t: Parameters<typeof tempDir>[0], server: string): Promise<{ station: Station; clock: ManualClock; dir: string }> {
  const dir = tempDir(t);
  const clock = new ManualClock(Date.UTC(2025, 0, 6, 9, 0, 0));
  const s = await Station.open({ dataDir: path.join(dir, 'data'), root: path.join(dir, 'root'), server, id: ID, clock });
  t.after(() => s.close());
  return { station: s, clock, dir };
}

async function stock(t: Parameters<typeof tempDir>[0]): Promise<StockServer> {
  const server = await startStockCeServer();
  t.after(() => server.close());
  return server;
}

const logLines = (s: Station, level?: string): string[] =>
  s.local.store.logs(1000).filter((l) => level === undefined || l.level === level).map((l) => l.message);

test('the public CE server\'s poll answer applies, and the machine inventory it asks for is sent', async (t) => {
  const server = await stock(t);
  // As its admin page does when "Enable hardware report" is ticked.
  server.pollAnswer = server.pollAnswer.replace(/(<MachineInventorySettings version="1.0">\s*<Enabled>)false/, '$1true');
  const { station: s, clock } = await station(t, server.url);
  await s.runUntilIdle();

  // What the station sent, the way the real device sends it.
  const poll = server.requests[0]!;
  assert.equal(poll.action, 'Poll');
  assert.equal(poll.uuid, ID);
  assert.equal(poll.headers['x-device-auth'], '', 'headers stay empty on a first poll, as documented');
  assert.equal(poll.headers['x-device-timestamp'], '');
  const request = parsePollRequest(poll.body);
  assert.deepEqual(request.Connection, { AuthorizationToken: '0', Timestamp: '0' });
  assert.equal(request.ManagementSystem.Name, 'Dockhand');
  const order = ['<ID>', '<DeviceName>', '<Platform>', '<Processor>', '<NetworkAdapter>', '<CodePage>', '<SystemDefaultLCID>']
    .filter((tag) => poll.body.includes(tag)).map((tag) => poll.body.indexOf(tag));
  assert.ok(order.length >= 6, poll.body);
  assert.deepEqual(order, [...order].sort((a, b) => a - b), `the real device's element order: ${poll.body}`);

  // Everything in the answer applied; nothing refused.
  const settings = readSettings(s.local.store);
  assert.equal(settings.pollIntervalMs, MIN);
  assert.equal(settings.retryCount, 10);
  assert.equal(settings.retryIntervalMs, 10 * MIN);
  assert.equal(settings.server, server.url, 'PollServer 127.0.0.1:<port> → http://127.0.0.1:<port>/devicemgmt/server.aspx');
  assert.deepEqual(s.problems(), []);
  assert.deepEqual(logLines(s, 'error'), []);

  // The inventory went out, as a real device writes it.
  const reports = server.requests.filter((r) => r.action === 'Report' && r.reportType === 'MachineInventory');
  assert.equal(reports.length, 1);
  const inventory = parseInventory(reports[0]!.body);
  assert.doesNotMatch(reports[0]!.body, /^<\?xml|xmlns/, 'no declaration and no namespace');
  const volume = inventory.Items.find((i) => i.name === 'Device_FileSystem');
  assert.deepEqual(volume?.Properties[0], { name: 'Name', value: 'root' });
  const platform = inventory.Items.find((i) => i.name === 'Device_OS')?.Properties.find((p) => p.name === 'Platform')?.value;
  assert.equal(platform, String(platformCode()));
  assert.equal(s.local.store.outbox(['queued', 'rejected']).length, 0);

  // The two empty filter items are noted once, with their paths; a second poll does not repeat them.
  const ignored = () => logLines(s, 'warn').filter((m) => /ignored part of the server's PollResponse/.test(m));
  assert.equal(ignored().length, 2, logLines(s).join('\n'));
  assert.ok(ignored().some((m) => m.includes('/PollResponse/Settings/SoftwareInventorySettings/FileFilterItem[1]/Filter')), ignored().join('\n'));
  assert.ok(ignored().every((m) => m.includes(`127.0.0.1:${server.port}`)));
  clock.advance(MIN + 1000);
  await s.runUntilIdle();
  assert.equal(server.requests.filter((r) => r.action === 'Poll').length, 2);
  assert.equal(server.requests.filter((r) => r.reportType === 'MachineInventory').length, 2, 'the report interval is one minute');
  assert.equal(ignored().length, 2, 'noted once per session, not on every poll');
});

test('a poll answer in UTF-16, with a byte order mark or told by its first character, applies as a real device reads it', async (t) => {
  for (const encoding of ['utf-16le-bom', 'utf-16be'] as const) {
    const server = await stock(t);
    server.pollEncoding = encoding;
    server.pollAnswer = `<?xml version="1.0" encoding="utf-16"?>\r\n${server.pollAnswer}`
      .replace(/(<MachineInventorySettings version="1.0">\s*<Enabled>)false/, '$1true')
      .replace(/<PollInterval>[^<]*<\/PollInterval>/, '<PollInterval>0000-00-00 00:07:00</PollInterval>');
    const { station: s } = await station(t, server.url);
    await s.runUntilIdle();
    assert.deepEqual(s.problems(), [], encoding);
    assert.deepEqual(logLines(s, 'error'), [], encoding);
    assert.equal(readSettings(s.local.store).pollIntervalMs, 7 * MIN, `${encoding}: the answer's settings applied`);
    assert.equal(server.requests.filter((r) => r.reportType === 'MachineInventory').length, 1, `${encoding}: the report it asks for went out`);
  }
});

test('text answers to reports and status messages are delivered, and the server\'s words reach the technician', async (t) => {
  const server = await stock(t);
  server.pollAnswer = server.pollAnswer
    .replace(/(<SoftwareInventorySettings version="1.0">\s*<Enabled>)false/, '$1true')
    .replace('<Filter></Filter>\n        <Path></Path>', '<Filter>*.txt</Filter>\n        <Path>\\</Path>');
  const { station: s, clock } = await station(t, server.url);
  await s.runUntilIdle();

  const software = server.requests.filter((r) => r.reportType === 'SoftwareInventory');
  assert.equal(software.length, 1);
  assert.deepEqual(parseFileReport(software[0]!.body).Directories.map((d) => d.Name), ['\\']);
  assert.equal(s.local.store.outbox(['queued', 'rejected']).length, 0, 'a 2xx with text is delivered, not retried');
  const warned = logLines(s, 'warn').filter((m) => /answered the software inventory report with/.test(m));
  assert.deepEqual(warned, [`the server 127.0.0.1:${server.port} answered the software inventory report with 'Unknown X-Device-Reporttype: ` +
    'SoftwareInventory\'; it counts as delivered and is not sent again, but the server may not have understood it (check that it handles ' +
    'this kind of message)']);

  // A status message meets the stock server's "Unknown X-Device-Action field: Status".
  s.local.store.enqueue({
    action: 'Status', reportType: null, fileName: null, contentType: 'text/xml; charset=utf-8', summary: 'status 11030 for PKG-1',
    body: Buffer.from(buildStatus({ StatusMessages: [{ packageID: 'PKG-1', messageID: 11030, timestamp: '2025-01-06 09:00:00', Parameters: [] }] })),
  }, clock.now());
  s.wake();
  await s.runUntilIdle();
  assert.equal(server.requests.filter((r) => r.action === 'Status').length, 1);
  assert.equal(s.local.store.outbox(['queued', 'rejected']).length, 0);
  assert.ok(logLines(s, 'warn').some((m) => m.includes("answered the status 11030 for PKG-1 with 'Unknown X-Device-Action field: Status'")),
    logLines(s).join('\n'));
});

/** A loopback server that answers every POST with `status` and an HTML page. */
async function pageServer(t: Parameters<typeof tempDir>[0], status: number, page: string): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'Content-Type': 'text/html' });
      res.end(page);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/devicemgmt/server.aspx`;
}

test('a captive portal or an HTML error page is named in one clean line, never logged raw', async (t) => {
  const portal = await pageServer(t, 200, `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Guest Wi-Fi</title>
    <script>window.location.hash = "<login>";</script></head><body><h1>Please sign in</h1><form method="post"><input name="user"></form></body></html>`);
  const { station: s } = await station(t, portal);
  await s.runUntilIdle();
  const line = logLines(s).find((m) => /HTML page/.test(m));
  assert.ok(line, logLines(s).join('\n'));
  assert.match(line, /answered with an HTML page, not a Device Management document — a login or captive portal\? \(first words: 'Guest Wi-Fi — Please sign in'\)/);
  assert.doesNotMatch(line, /DOCTYPE|ENTITY/);
  for (const message of logLines(s)) assert.doesNotMatch(message, /<[a-z!/]/i, 'no markup in the log');

  const proxy = await pageServer(t, 502, '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
    '<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n');
  const { station: p } = await station(t, proxy);
  await p.runUntilIdle();
  const failed = logLines(p).find((m) => /answered 502/.test(m));
  assert.ok(failed, logLines(p).join('\n'));
  assert.match(failed, /answered 502: an HTML page \('502 Bad Gateway — nginx\/1\.24\.0'\)/);
  for (const message of logLines(p)) assert.doesNotMatch(message, /<[a-z!/]/i, 'no markup in the log');
});
