// Large documents parsed in the parse worker, where they arrive for real: the station reading a long poll
// answer from a server over loopback HTTP, the reference server reading a large software inventory from a
// device; and the worker's end — at station close in-process, and a `dockhand station --once` process that
// exits by itself after parsing off-thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildFileReport, buildPollResponse } from '../../shared/protocol/index.js';
import type { FileReport } from '../../shared/protocol/types.js';
import { closeParseWorker, OFF_THREAD_FROM, parseWorkerState } from '../../electron/protocol/parse-off-thread.js';
import { Station } from '../../electron/station/station.js';
import { startServer } from '../../server/http-server.js';
import * as admin from '../../server/admin.js';
import { startDockhand } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

/** A management server that answers every poll with `answer` and nothing else. */
async function pollServer(t: { after(fn: () => unknown): void }, answer: string): Promise<string> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.headers['x-device-action'] === 'Poll') res.end(answer);
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/devicemgmt/server.aspx`;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `9A437CA5-5B17-4486-9E87-${String(i).padStart(12, '0')}`);

test('the station reads a long poll answer in the parse worker, and the worker ends when the station closes', async (t) => {
  const dir = tempDir(t);
  const answer = buildPollResponse({ Settings: {}, ApplicablePackages: ids(2000) });
  assert.ok(answer.length > OFF_THREAD_FROM);
  const server = await pollServer(t, answer);
  const station = await Station.open({ dataDir: path.join(dir, 'station'), server, id: 'PARSE-WORKER-1' });
  t.after(() => station.close());
  const before = parseWorkerState();

  // The poll only (the first task due), not the instruction requests it schedules.
  assert.equal(station.local.lanes.startDue(), true, 'the poll started');
  await station.local.lanes.idle();
  const after = parseWorkerState();
  assert.equal(after.parsedOffThread, before.parsedOffThread + 1, 'the answer was parsed in the worker');
  assert.equal(after.running, true, 'the worker stays for the next large answer while the station runs');
  assert.equal(station.local.store.packages().length, 2000);

  station.close();
  assert.equal(parseWorkerState().running, false, 'closing the station ended the worker');
});

test('dockhand station --once exits by itself after parsing a long poll answer off the event loop', async (t) => {
  const dir = tempDir(t);
  // No package to fetch, so the run ends after the poll; the comment makes the answer large.
  const answer = buildPollResponse({ Settings: {}, ApplicablePackages: [] })
    .replace('<ApplicablePackages', `<!-- ${'padding '.repeat(OFF_THREAD_FROM / 4)} --><ApplicablePackages`);
  const server = await pollServer(t, answer);
  const run = startDockhand(t, ['station', '--server', server, '--data', path.join(dir, 'station'), '--id', 'PARSE-WORKER-2', '--once']);
  // A worker left running would keep the process alive: it must exit on its own, long before this.
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => { timer = setTimeout(() => resolve('hung'), 90_000); });
  const code = await Promise.race([run.exited, hung]);
  clearTimeout(timer);
  assert.equal(code, 0, `${run.out()}${run.err()}`);
  assert.match(run.out(), /polled .*: 0 package\(s\) listed/);
});

test('the reference server parses a large software inventory in the worker; a malformed one gets its line and column', async (t) => {
  const dir = tempDir(t);
  const server = await startServer({ dataDir: path.join(dir, 'server'), host: '127.0.0.1', port: 0 });
  t.after(() => server.close());
  const report: FileReport = { Directories: [{ Name: '\\Windows', Directories: [], Files: Array.from({ length: 5000 }, (_, i) => ({
    Name: `file-${i}.dll`, Size: i, Version: '1.0.0', Company: 'Contoso', Created: '2025-01-06 09:00:00',
  })) }] };
  const xml = buildFileReport(report);
  assert.ok(xml.length > OFF_THREAD_FROM);
  const post = (body: string) => fetch(`${server.url}/devicemgmt/server.aspx`, {
    method: 'POST', body,
    headers: { 'X-Device-Action': 'Report', 'X-Device-ReportType': 'SoftwareInventory', 'X-Device-UUID': 'DEV-PARSE', 'Content-Type': 'text/xml' },
  });

  const before = parseWorkerState().parsedOffThread;
  const ok = await post(xml);
  assert.equal(ok.status, 200, await ok.text());
  assert.equal(parseWorkerState().parsedOffThread, before + 1, 'parsed in the worker');
  const stored = admin.readLog(path.join(dir, 'server')).find((e) => e.kind === 'softwareInventory');
  assert.ok(stored?.kind === 'softwareInventory');
  assert.deepEqual(stored.report, report);

  const broken = xml.replace('<File Name="file-4321.dll"', '<File Name="file-4321.dll" Name="twice"');
  const line = broken.slice(0, broken.indexOf('Name="twice"')).split('\n').length;
  const refused = await post(broken);
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), new RegExp(`^FileReport: not well-formed XML at line ${line}, column \\d+: Attribute 'Name' is repeated`));
  assert.equal(parseWorkerState().parsedOffThread, before + 2);
});

test('a device is answered at once when the parse worker ends mid-parse, and its next report is read', async (t) => {
  const dir = tempDir(t);
  const server = await startServer({ dataDir: path.join(dir, 'server'), host: '127.0.0.1', port: 0 });
  t.after(() => server.close());
  // Large enough that the worker is still reading it when it is ended (a second or more).
  const xml = buildFileReport({ Directories: [{ Name: '\\Windows', Directories: [], Files: Array.from({ length: 60_000 }, (_, i) => ({
    Name: `file-${i}.dll`, Size: i, Version: '1.0.0', Company: 'Contoso', Created: '2025-01-06 09:00:00',
  })) }] });
  const post = () => fetch(`${server.url}/devicemgmt/server.aspx`, {
    method: 'POST', body: xml, headers: { 'X-Device-Action': 'Report', 'X-Device-ReportType': 'SoftwareInventory', 'X-Device-UUID': 'DEV-CUT' },
  });
  const before = parseWorkerState().parsedOffThread;
  const cut = post();
  await waitFor('the report to reach the parse worker', () => parseWorkerState().parsedOffThread > before);
  await closeParseWorker();
  const answer = await cut;
  assert.equal(answer.status, 500, 'an internal error, answered now (not left to the idle timeout)');
  assert.equal((await answer.text()).trim(), 'internal server error');
  const again = await post();
  assert.equal(again.status, 200, await again.text());
  assert.equal(admin.readLog(path.join(dir, 'server')).filter((e) => e.kind === 'softwareInventory').length, 1);
});
