// Bad input from a server: the engine names the problem in words a technician can act on, keeps its queue
// and checkpoints, refuses anything that would write outside its folder, and goes on.
//
// The server here is a scripted test double — "hostile-test-server", named as such in its Server header —
// because the reference server refuses to produce these documents. It listens on 127.0.0.1 only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildInstructions, buildPackageLocation, buildPollResponse, parseStatus } from '../../shared/protocol/index.js';
import type { PackageInstructions } from '../../shared/protocol/types.js';
import { Station } from '../../electron/station/station.js';
import { ManualClock } from '../../electron/engine/clock.js';
import { readStatus } from '../../electron/station/status.js';
import { tempDir } from '../helpers/tmp.js';

interface Script {
  poll?: () => string;
  instructions?: () => string;
  location?: (base: string) => string;
  file?: (res: http.ServerResponse) => void;
}

async function hostileServer(t: { after(fn: () => unknown): void }, script: Script) {
  const statuses: Array<{ messageID: number; params: Record<string, string> }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Server', 'hostile-test-server');
      const base = `http://${req.headers.host}`;
      if (req.method === 'GET') return script.file ? script.file(res) : res.end('x');
      const body = Buffer.concat(chunks).toString('utf8');
      switch (req.headers['x-device-action']) {
        case 'Poll': return res.end(script.poll?.() ?? buildPollResponse({ Settings: {}, ApplicablePackages: [] }));
        case 'InstructionRequest': return res.end(script.instructions?.() ?? '');
        case 'LocationRequest': return res.end(script.location?.(base) ?? '');
        case 'Status':
          for (const m of parseStatus(body).StatusMessages) {
            statuses.push({ messageID: m.messageID, params: Object.fromEntries(m.Parameters.map((p) => [p.name, p.value])) });
          }
          return res.end();
        default: return res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/devicemgmt/server.aspx`, statuses };
}

const PKG = '11111111-2222-3333-4444-555555555555';
const pkg = (over: Partial<PackageInstructions> = {}): PackageInstructions => ({
  ID: PKG, Required: true, Name: 'Hostile', LocalDestination: '\\Temp', SourceFiles: true, ...over,
});
const poll = () => buildPollResponse({ Settings: { ClientSettings: { FailureRetryCount: 1, FailureRetryInterval: 1000 } }, ApplicablePackages: [PKG] });
const location = (file: string) => (base: string) => buildPackageLocation({ PackageID: PKG, Locations: [{ metric: 1, URL: `${base}/p/${file}`, Subnets: [] }] });

async function station(t: { after(fn: () => unknown): void }, server: string) {
  const dir = tempDir(t);
  const clock = new ManualClock(Date.now());
  const s = await Station.open({ dataDir: path.join(dir, 'data'), root: path.join(dir, 'root'), server, id: 'HOSTILE-TEST', clock, allowCommands: true });
  t.after(() => s.close());
  return { s, clock, dir, root: path.join(dir, 'root'), data: path.join(dir, 'data') };
}

/** Every file under `dir`, relative. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

test('a malformed poll response is named (document, element path, problem) and the poll is retried', async (t) => {
  const srv = await hostileServer(t, { poll: () => '<PollResponse><ApplicablePackages><Package ID="x"></ApplicablePackages>' });
  const { s, data } = await station(t, srv.url);
  await s.runUntilIdle();
  const task = readStatus(data).tasks.find((x) => x.kind === 'poll')!;
  assert.equal(task.state, 'queued', 'the poll never expires');
  assert.match(task.lastError, /PollResponse/);
  assert.match(task.waitingFor, /retrying in/);
  assert.ok(s.problems().some((p) => /PollResponse/.test(p)));
});

test('an oversize answer is refused without being read into memory whole', async (t) => {
  const srv = await hostileServer(t, { poll: () => `<PollResponse>${' '.repeat(6 * 1024 * 1024)}</PollResponse>` });
  const { s, data } = await station(t, srv.url);
  await s.runUntilIdle();
  assert.match(readStatus(data).tasks.find((x) => x.kind === 'poll')!.lastError, /larger than/);
});

test('a LocalDestination that climbs out of the root is refused and reported as 11032; nothing is written outside', async (t) => {
  const srv = await hostileServer(t, {
    poll, instructions: () => buildInstructions({ Packages: [pkg({ LocalDestination: '..\\..\\..\\outside' })] }),
    location: location('evil.sh'), file: (res) => res.end('#!/bin/sh\ntouch /tmp/pwned\n'),
  });
  const { s, dir } = await station(t, srv.url);
  await s.runUntilIdle();
  assert.deepEqual(srv.statuses.map((x) => x.messageID), [11030, 11032]);
  assert.match(srv.statuses[1]!.params.Reason ?? '', /outside/);
  assert.deepEqual(files(path.join(dir, 'root')), []);
  assert.equal(existsSync(path.join(dir, 'outside')), false);
  assert.equal(existsSync(path.join(path.dirname(dir), 'outside')), false);
});

test('a package file name that is a path (..%2F..%2F) is refused', async (t) => {
  const srv = await hostileServer(t, {
    poll, instructions: () => buildInstructions({ Packages: [pkg()] }),
    location: location('..%2F..%2Fescape.sh'), file: (res) => res.end('x'),
  });
  const { s, dir } = await station(t, srv.url);
  await s.runUntilIdle();
  assert.deepEqual(srv.statuses.map((x) => x.messageID), [11030, 11032]);
  assert.deepEqual(files(path.join(dir, 'root')), []);
  assert.equal(existsSync(path.join(dir, 'escape.sh')), false);
});

test('a lying PackageSize fails verification, is retried, and ends as 11032 naming both sizes; no command runs', async (t) => {
  const srv = await hostileServer(t, {
    poll, instructions: () => buildInstructions({ Packages: [pkg({ PackageSize: 10, CommandLine: 'run.sh' })] }),
    location: location('run.sh'), file: (res) => res.end('#!/bin/sh\ntouch ran\n#padding to more than ten bytes\n'),
  });
  const { s, clock, root } = await station(t, srv.url);
  await s.runUntilIdle();
  clock.advance(1000); // FailureRetryCount 1, interval 1 s: one retry, then give up
  await s.runUntilIdle();
  const ids = srv.statuses.map((x) => x.messageID);
  assert.deepEqual(ids, [11030, 11032]);
  assert.match(srv.statuses[1]!.params.Reason ?? '', /10/);
  assert.equal(existsSync(path.join(root, 'Temp', 'ran')), false);
});

test('a published SHA-256 that does not match stops the package before its command runs', async (t) => {
  const srv = await hostileServer(t, {
    poll, instructions: () => buildInstructions({ Packages: [pkg({ SHA256: 'a'.repeat(64), CommandLine: 'run.sh' })] }),
    location: location('run.sh'), file: (res) => res.end('#!/bin/sh\ntouch ran\n'),
  });
  const { s, clock, root } = await station(t, srv.url);
  await s.runUntilIdle();
  clock.advance(1000);
  await s.runUntilIdle();
  assert.deepEqual(srv.statuses.map((x) => x.messageID), [11030, 11032]);
  assert.match(srv.statuses[1]!.params.Reason ?? '', /SHA-256|sha256|hash/i);
  assert.equal(existsSync(path.join(root, 'Temp', 'ran')), false);
  assert.equal(existsSync(path.join(root, 'Temp', 'run.sh')), false);
});

test('an SMB-only location is explained, not attempted', async (t) => {
  const srv = await hostileServer(t, {
    poll, instructions: () => buildInstructions({ Packages: [pkg()] }),
    location: () => buildPackageLocation({ PackageID: PKG, Locations: [{ metric: 1, SMBPath: '\\\\srv\\pkg', Subnets: [] }] }),
  });
  const { s, clock } = await station(t, srv.url);
  await s.runUntilIdle();
  clock.advance(1000);
  await s.runUntilIdle();
  assert.deepEqual(srv.statuses.map((x) => x.messageID), [11032]);
  assert.match(srv.statuses[0]!.params.Reason ?? '', /SMB/);
});
