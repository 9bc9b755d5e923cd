// Hostile and broken input against the real server process: malformed and oversize bodies, hostile
// file collection names, raw protocol garbage. The server answers 400/413, writes only inside its
// data folder, and keeps serving. Also: clean shutdown on signals and exit code 2 for bad CLI values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildInstructionsRequest, buildPollResponse } from '../../shared/protocol/index.js';
import { httpRequest, runDockhand, spawnServerProcess } from '../../server/process-harness.js';
import type { LogEntry } from '../../server/received-log.js';
import { tempDir } from '../helpers/tmp.js';
import { rawExchange } from '../helpers/raw-http.js';

const ENDPOINT = '/devicemgmt/server.aspx';
const POLL = '<DevicePoll><ManagementSystem><Name>n</Name><Version>1</Version></ManagementSystem><Identification><ID>D1</ID>' +
  '<DeviceName>d</DeviceName><Platform>p</Platform><Processor>586</Processor><CodePage>1252</CodePage>' +
  '<SystemDefaultLCID>1033</SystemDefaultLCID></Identification><Connection/></DevicePoll>';

/** Every file under `dir`, relative, '/'-separated. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(path.join(dir, p)).isFile())
    .map((p) => p.split(path.sep).join('/'))
    .sort();
}

test('malformed and oversize bodies get 400 and 413 and the server keeps serving', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const server = await spawnServerProcess(data, ['--max-collect-bytes', '4096']);
  t.after(() => server.stop());
  const post = (headers: Record<string, string>, body: string | Buffer) =>
    httpRequest(server.url + ENDPOINT, { method: 'POST', headers: { 'X-Device-UUID': 'D1', ...headers }, body });
  const healthy = async () => assert.equal((await post({ 'X-Device-Action': 'Poll' }, POLL)).status, 200);

  const broken = await post({ 'X-Device-Action': 'Poll' }, '<DevicePoll><Identification>');
  assert.equal(broken.status, 400);
  assert.match(broken.text, /^DevicePoll: /, 'the ProtocolError message names the document');
  const missing = await post({ 'X-Device-Action': 'Poll' }, '<DevicePoll><ManagementSystem><Name>n</Name><Version>1</Version></ManagementSystem></DevicePoll>');
  assert.equal(missing.status, 400);
  assert.match(missing.text, /Identification/);
  const wrongDoc = await post({ 'X-Device-Action': 'Poll' }, buildInstructionsRequest({ PackageID: '9A437CA5-5B17-4486-9E87-260742074A72' }));
  assert.equal(wrongDoc.status, 400);
  const serverDoc = await post({}, buildPollResponse({ Settings: {}, ApplicablePackages: [] }));
  assert.equal(serverDoc.status, 400);
  assert.match(serverDoc.text, /PollResponse/);
  assert.equal((await post({}, 'not xml at all')).status, 400);
  assert.equal((await post({}, '')).status, 400);
  assert.equal((await post({}, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><DevicePoll>&a;</DevicePoll>')).status, 400);
  await healthy();

  const huge = await post({ 'X-Device-Action': 'Poll' }, `<DevicePoll>${' '.repeat(2 * 1024 * 1024)}</DevicePoll>`);
  assert.equal(huge.status, 413);
  await healthy();

  const bigFile = await post({ 'X-Device-Action': 'Report', 'X-Device-ReportType': 'FileCollection',
    'X-Device-FullyQualifiedFilename': '\\big.bin', 'X-Device-UUID': 'D1' }, Buffer.alloc(10_000, 7));
  assert.equal(bigFile.status, 413);
  const okFile = await post({ 'X-Device-Action': 'Report', 'X-Device-ReportType': 'FileCollection',
    'X-Device-FullyQualifiedFilename': '\\small.bin', 'X-Device-UUID': 'D1' }, Buffer.alloc(4096, 7));
  assert.equal(okFile.status, 200);
  const noName = await post({ 'X-Device-Action': 'Report', 'X-Device-ReportType': 'FileCollection' }, 'x');
  assert.equal(noName.status, 400);
  // an oversize declared length is refused before any byte of the body is read
  const declared = await rawExchange(server.port, `POST ${ENDPOINT} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Device-UUID: D1\r\nX-Device-Action: Report\r\n` +
    'X-Device-ReportType: FileCollection\r\nX-Device-FullyQualifiedFilename: \\x\r\nContent-Length: 300000000\r\n\r\nabc');
  assert.match(declared, /^HTTP\/1\.1 413 /);

  assert.match(await rawExchange(server.port, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.equal((await httpRequest(server.url + ENDPOINT)).status, 405);
  assert.equal((await httpRequest(`${server.url}/elsewhere`)).status, 404);
  const health = await httpRequest(`${server.url}/health`);
  assert.equal(health.status, 200, 'the load balancer health check');
  assert.match(health.text, /^ok: database readable, 0 packages/);
  assert.equal((await httpRequest(`${server.url}/health`, { method: 'POST' })).status, 405);
  await healthy();

  const collected = filesUnder(path.join(data, 'collected'));
  assert.equal(collected.length, 1, `only the accepted upload is kept, no partial files: ${collected.join(', ')}`);
  assert.match(collected[0] ?? '', /^D1\/[^/]+-small\.bin$/);
});

test('a hostile X-Device-FullyQualifiedFilename or device ID never chooses where the server writes', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const server = await spawnServerProcess(data);
  t.after(() => server.stop());
  const names = ['..\\..\\etc\\passwd', '/etc/passwd', 'C:\\x', '\\\\server\\share\\..\\..\\..\\y', '..', '\\', 'a/../../../../tmp/z',
    'C:', '.hidden', 'con:stream$DATA', '\\dir\\ünïcödé name.txt'];
  for (const [i, name] of names.entries()) {
    const r = await httpRequest(server.url + ENDPOINT, { method: 'POST', body: `payload ${i}`, headers: {
      'X-Device-Action': 'Report', 'X-Device-ReportType': 'FileCollection', 'X-Device-UUID': i % 2 ? '../../evil' : 'DEV',
      'X-Device-FullyQualifiedFilename': Buffer.from(name, 'utf8').toString('latin1'),
    } });
    assert.equal(r.status, 200, `${name}: ${r.text}`);
  }
  // NUL cannot be part of an HTTP header: refused by the HTTP layer, nothing stored
  const nul = await rawExchange(server.port, `POST ${ENDPOINT} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Device-UUID: D1\r\nX-Device-Action: Report\r\n` +
    'X-Device-ReportType: FileCollection\r\nX-Device-FullyQualifiedFilename: \\a\\b\u0000c.txt\r\nContent-Length: 3\r\n' +
    'Connection: close\r\n\r\nabc');
  assert.match(nul, /^HTTP\/1\.1 400 /);

  assert.deepEqual(readdirSync(dir), ['data'], 'nothing appeared beside the data folder');
  const log = JSON.parse((await runDockhand(['server', 'log', '--data', data, '--json'])).stdout) as LogEntry[];
  assert.equal(log.length, names.length);
  const stored = filesUnder(path.join(data, 'collected'));
  assert.equal(stored.length, names.length);
  for (const [i, e] of log.entries()) {
    assert.ok(e.kind === 'fileCollection');
    assert.match(e.storedAs, /^collected\/[A-Za-z0-9_-][A-Za-z0-9._-]*\/[0-9T]+-[0-9a-f]+-[A-Za-z0-9_-][A-Za-z0-9._-]*$/, e.storedAs);
    assert.ok(stored.includes(e.storedAs.replace(/^collected\//, '')));
    assert.equal(e.size, `payload ${i}`.length);
  }
  assert.equal(log[0]?.kind === 'fileCollection' && log[0].devicePath, '..\\..\\etc\\passwd', 'the log keeps what the device claimed');
  assert.equal(log[1]?.deviceId, '../../evil');
  const last = log.at(-1);
  assert.equal(last?.kind === 'fileCollection' && last.devicePath, '\\dir\\ünïcödé name.txt', 'UTF-8 header bytes are read back as text');
});

test('the server prints one listening line and stops cleanly on SIGTERM and SIGINT', async (t) => {
  const dir = tempDir(t);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const server = await spawnServerProcess(path.join(dir, signal));
    t.after(() => server.stop());
    let stdout = '';
    server.child.stdout?.on('data', (d: string) => { stdout += d; });
    assert.equal((await httpRequest(server.url + ENDPOINT, { method: 'POST', headers: { 'X-Device-UUID': 'D1' }, body: POLL })).status, 200);
    const exit = await server.stop(signal);
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr());
    assert.equal(stdout, '', 'nothing after the listening line on stdout');
    await assert.rejects(httpRequest(server.url + ENDPOINT, { method: 'POST', headers: { 'X-Device-UUID': 'D1' }, body: POLL }));
  }
});

test('bad usage and bad values exit the real process with code 2 and one line naming the problem', async (t) => {
  // the full list of cases runs in-process in test/unit/server-cli.test.ts; these check the process exit code
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const file = path.join(dir, 'ok.cab');
  writeFileSync(file, 'x');
  const cases: Array<[string[], RegExp]> = [
    [['server', 'package', 'add', '--data', data, '--file', file, '--name', 'N', '--flags', 'zz'], /--flags: .*'zz'/],
    [['server', 'settings', '--data', data, '--poll-interval', '5min'], /--poll-interval: /],
    [['server', 'package', 'remove', '--data', data, '--package', '9A437CA5-5B17-4486-9E87-260742074A72'], /no package/],
    [['server', '--data', data, '--port', '70000'], /--port must be 0–65535/],
    [['server', '--port', '0'], /--data DIR is required/],
  ];
  const results = await Promise.all(cases.map(([args]) => runDockhand(args)));
  for (const [i, [args, message]] of cases.entries()) {
    const r = results[i];
    assert.ok(r);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.equal(r.stdout, '');
  }
  assert.equal((await runDockhand(['server', '--help'])).code, 0);
});
