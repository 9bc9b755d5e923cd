// The headless station as an integrator runs it: real `dockhand server` and `dockhand station` processes,
// their command lines and exit codes, `station status --json`, and a `kill -9` in the middle of a download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { dockhand, startDockhand, startServerProcess } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { readStatus } from '../../electron/station/status.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function publish(t: Parameters<typeof dockhand>[0], serverData: string, file: string, extra: string[] = []): Promise<string> {
  const add = await dockhand(t, ['server', 'package', 'add', '--data', serverData, '--file', file, '--name', path.basename(file), ...extra]);
  assert.equal(add.code, 0, add.err);
  const id = add.out.trim();
  const assign = await dockhand(t, ['server', 'assign', '--data', serverData, '--package', id, '--device', '*']);
  assert.equal(assign.code, 0, assign.err);
  return id;
}

test('station --once runs the whole flow against a server process and exits 0; status --json lists it', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url } = await startServerProcess(t, serverData);
  const file = path.join(dir, 'hello.sh');
  writeFileSync(file, '#!/bin/sh\necho hello > hello.txt\n');
  const id = await publish(t, serverData, file, ['--dest', '\\Temp', '--command', 'hello.sh']);

  const data = path.join(dir, 'station');
  const run = await dockhand(t, ['station', '--server', url, '--data', data, '--id', 'CLI-STATION-1', '--allow-commands', '--once']);
  assert.equal(run.code, 0, run.err + run.out);
  assert.equal(readFileSync(path.join(data, 'root', 'Temp', 'hello.txt'), 'utf8'), 'hello\n');

  const status = await dockhand(t, ['station', 'status', '--data', data, '--json']);
  assert.equal(status.code, 0);
  const view = JSON.parse(status.out);
  assert.equal(view.targets[0].id, 'CLI-STATION-1');
  const download = view.tasks.find((x: { kind: string }) => x.kind === 'download');
  assert.equal(download.package, id);
  assert.equal(download.state, 'done');
  assert.ok(view.tasks.some((x: { kind: string; state: string }) => x.kind === 'poll' && x.state === 'queued'));

  const log = await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'CLI-STATION-1', '--json']);
  const messages = JSON.parse(log.out).filter((e: { kind: string }) => e.kind === 'status').map((e: { messageID: number }) => e.messageID);
  assert.deepEqual(messages, [11030, 11031, 11035]);
});

/** A loopback port that was free a moment ago (the server under test is started on it later). */
function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

test('station --once exits non-zero with a one-line reason when the server cannot be reached, and keeps its queue', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const data = path.join(dir, 'station');
  const run = await dockhand(t, ['station', '--server', `http://127.0.0.1:${port}`, '--data', data, '--once']);
  assert.equal(run.code, 1);
  const lines = run.err.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /refused the connection/);
  const poll = readStatus(data).tasks.find((x) => x.kind === 'poll')!;
  assert.equal(poll.state, 'queued');
  assert.match(poll.waitingFor, /retrying in/);
});

test('station --once polls at start even when the last run failed: non-zero while the server refuses, 0 once it answers', async (t) => {
  const dir = tempDir(t);
  // First a server that answers every poll with 503 (a failure that spends a retry, three minutes out).
  let refused = 0;
  const refuser = http.createServer((req, res) => {
    refused += 1;
    req.resume();
    res.writeHead(503, { 'Content-Type': 'text/plain' }).end('busy');
  });
  await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
  t.after(() => refuser.close());
  const port = (refuser.address() as net.AddressInfo).port;
  const data = path.join(dir, 'station');
  const args = ['station', '--server', `http://127.0.0.1:${port}`, '--data', data, '--id', 'ONCE-1', '--once'];
  assert.equal((await dockhand(t, args)).code, 1);
  // The poll's retry is minutes away, but --once asks the server now; it still refuses, and the run says so.
  const second = await dockhand(t, args);
  assert.equal(refused, 2, 'the second run contacted the server');
  assert.equal(second.code, 1, 'a failed poll is a failed run, even when its retry was not due');
  assert.equal(second.err.trim().split('\n').length, 1);
  assert.match(second.err, /answered 503/);
  await new Promise<void>((resolve) => refuser.close(() => resolve()));

  const serverData = path.join(dir, 'server');
  const server = startDockhand(t, ['server', '--data', serverData, '--host', '127.0.0.1', '--port', String(port)]);
  await waitFor('the server to listen', () => server.out().includes('listening on'), 30_000);
  const third = await dockhand(t, args);
  assert.equal(third.code, 0, third.err + third.out);
  const log = await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'ONCE-1', '--json']);
  assert.equal(JSON.parse(log.out).filter((e: { kind: string }) => e.kind === 'poll').length, 1, 'the third run polled at once');
});

test('bad command lines are refused with exit code 2 and a clear message', async (t) => {
  for (const args of [['station', '--bogus'], ['station', '--server', 'ftp://x'], ['station', '--rate-limit', 'fast'], ['station', '--bandwidth', 'huge']]) {
    const r = await dockhand(t, args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /dockhand station: /);
  }
});

test('kill -9 in the middle of a download: the restarted station resumes from its checkpoint and completes', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url, proc: server } = await startServerProcess(t, serverData);
  const bytes = randomBytes(3 * 1024 * 1024);
  const file = path.join(dir, 'big.bin');
  writeFileSync(file, bytes);
  const id = await publish(t, serverData, file, ['--dest', '\\Data']);
  const data = path.join(dir, 'station');

  // Slowed to 512 KiB/s so the kill lands mid-transfer.
  const first = startDockhand(t, ['station', '--server', url, '--data', data, '--id', 'KILL-9', '--rate-limit', '512K']);
  const partial = await waitFor('part of the package to be on disk', () => {
    try {
      const x = readStatus(data).transfers.find((tr) => tr.package === id);
      return x && x.bytesDone > 256 * 1024 && x.bytesDone < bytes.length ? x : null;
    } catch {
      return null; // the database is being created
    }
  }, 30_000, 50);
  first.kill('SIGKILL');
  assert.equal(await first.exited, null, 'killed, not exited');
  const afterKill = readStatus(data);
  const resumePoint = afterKill.transfers.find((tr) => tr.package === id)!.resumePoint;
  assert.ok(resumePoint >= partial.bytesDone, 'the checkpoint survived the kill');
  assert.ok(resumePoint < bytes.length);

  const second = await dockhand(t, ['station', '--server', url, '--data', data, '--id', 'KILL-9', '--once']);
  assert.equal(second.code, 0, second.err + second.out);
  const resumed = /resumed from byte (\d+)/.exec(second.out);
  assert.ok(resumed, `the second run says it resumed:\n${second.out}`);
  assert.ok(Number(resumed[1]) >= resumePoint, 'resumed at (or after) the byte recorded before the kill');
  assert.equal(sha(readFileSync(path.join(data, 'root', 'Data', 'big.bin'))), sha(bytes));

  const log = await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'KILL-9', '--json']);
  const messages = JSON.parse(log.out).filter((e: { kind: string }) => e.kind === 'status').map((e: { messageID: number }) => e.messageID);
  assert.deepEqual(messages, [11030, 11031, 11035], 'no status message was lost or sent twice across the crash');
  assert.doesNotMatch(server.err(), /duplicate status message/, 'the server stores a repeat once; it says so on stderr');
});

test('kill -9 the moment 11030 is delivered, mid-download: the restart neither repeats nor skips a status message', async (t) => {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const { url, proc: server } = await startServerProcess(t, serverData);
  const bytes = randomBytes(2 * 1024 * 1024);
  const file = path.join(dir, 'image.bin');
  writeFileSync(file, bytes);
  const id = await publish(t, serverData, file, ['--dest', '\\Data']);
  const data = path.join(dir, 'station');
  const first = startDockhand(t, ['station', '--server', url, '--data', data, '--id', 'KILL-11030', '--rate-limit', '256K']);
  // The station prints a line once a message is delivered and recorded as sent: kill on that line.
  await waitFor('11030 to be delivered', () => first.out().includes(`sent status 11030 for ${id}`), 30_000, 5);
  first.kill('SIGKILL');
  assert.equal(await first.exited, null, 'killed, not exited');
  assert.notEqual(readStatus(data).tasks.find((x) => x.kind === 'download')?.state, 'done', 'killed before the event ended');

  const second = await dockhand(t, ['station', '--server', url, '--data', data, '--id', 'KILL-11030', '--once']);
  assert.equal(second.code, 0, second.err + second.out);
  assert.equal(sha(readFileSync(path.join(data, 'root', 'Data', 'image.bin'))), sha(bytes));
  const log = await dockhand(t, ['server', 'log', '--data', serverData, '--device', 'KILL-11030', '--json']);
  const messages = JSON.parse(log.out).filter((e: { kind: string }) => e.kind === 'status').map((e: { messageID: number }) => e.messageID);
  assert.deepEqual(messages, [11030, 11031, 11035]);
  // The server stores a message delivered twice once (its log above cannot show it) and says so on stderr;
  // 11030 was recorded as sent before the kill and nothing else was on its way, so nothing may come again.
  assert.doesNotMatch(server.err(), /duplicate status message/, 'no message reached the server twice');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`a running station with its web console stops on ${signal} once its work is idle, and exits 0`, async (t) => {
    // Ctrl-C stops every session at once; the station's run loop must then wait for its signal rather than
    // spin on loops that have all ended (that spin starved the event loop and the process never exited).
    const dir = tempDir(t);
    const serverData = path.join(dir, 'server');
    const { url } = await startServerProcess(t, serverData);
    const station = startDockhand(t, ['station', '--server', url, '--data', path.join(dir, 'station'), '--ui', '--ui-port', '0']);
    await waitFor('the station to poll and its console to listen', () => /web console: http/.test(station.out()) && /polled /.test(station.out()), 60_000);
    station.child.kill(signal);
    const code = await Promise.race([station.exited, new Promise<string>((r) => setTimeout(() => r('still running 20 s later'), 20_000))]);
    assert.equal(code, 0, `${signal}: ${station.err()}`);
    assert.match(station.out(), /stopping: tasks and checkpoints are saved/);
  });
}
