// Failures sorted by what they mean (issue 7 item 6), against the real reference server: a certificate the
// station does not trust is not an outage — it spends the retries and ends the download event with 11032
// naming the cause; a message the server refuses is retried FailureRetryCount times before it is set aside;
// the poll answered with errors never gives up (spec §4.1). The certificate is made in the test (openssl),
// served by a real TLS listener on 127.0.0.1 in front of the real server.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { harness } from '../helpers/station-harness.js';
import { tempDir } from '../helpers/tmp.js';
import { selfSignedCertificate } from '../helpers/certificate.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A TLS listener with a self-signed certificate made now, passing the bytes on to `port` (the real server). */
async function selfSignedFront(t: TestContext, port: number): Promise<string> {
  const server = tls.createServer(selfSignedCertificate(tempDir(t)), (socket) => {
    const upstream = net.connect(port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  server.on('tlsClientError', () => undefined); // the station hangs up on the certificate: that is the point
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

/**
 * A plain HTTP front to the real server that answers 503 instead, while `refuse` says so for the action
 * (and the request's body, read whole first).
 */
async function refusingFront(t: TestContext, port: number, refuse: (action: string, body: string) => boolean): Promise<{ url: string; refused: string[] }> {
  const refused: string[] = [];
  const server = http.createServer(async (req, res) => {
    const action = String(req.headers['x-device-action'] ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (refuse(action, body.toString('utf8'))) {
      refused.push(action);
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('the server is busy');
      return;
    }
    const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/devicemgmt/server.aspx`, refused };
}

test('an untrusted certificate at the package location spends the retries and ends with 11032 naming the cause', async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Secure image', randomBytes(64 * 1024), { file: 'secure.img' });
  // The DM endpoint stays plain HTTP (the status messages reach the server); the package bytes are offered
  // over HTTPS behind a certificate nobody signed.
  const front = await selfSignedFront(t, h.port);
  await h.stopServer();
  await h.startServer(front);
  h.settings({ retryCount: 1, retryIntervalMs: MINUTE });
  const station = await h.openStation();
  await station.runUntilIdle();

  let task = station.local.store.task('download', id)!;
  assert.equal(task.state, 'queued');
  assert.equal(task.wait.kind, 'retry', 'a certificate problem is a failed attempt, not an outage');
  assert.equal(task.attempts, 1, 'one retry spent');
  assert.equal(station.local.isOffline(), false, 'the server can be reached: the station is not offline');
  assert.deepEqual(h.statuses().map((s) => s.messageID), [11030]);

  h.clock.advance(MINUTE);
  await station.runUntilIdle();
  task = station.local.store.task('download', id)!;
  assert.equal(task.state, 'failed');
  const statuses = h.statuses();
  assert.deepEqual(statuses.map((s) => s.messageID), [11030, 11032]);
  const reason = statuses[1]!.parameters.find((p) => p.name === 'Reason')?.value ?? '';
  assert.match(reason, /^the server's certificate is not trusted \(self-signed\): the secure connection to 127\.0\.0\.1:\d+ was refused/);
  assert.equal(station.local.store.package(id)!.state, 'failed');

  // The download history: the first run stopped (a retry was left), the second failed, both in the download.
  const runs = station.local.store.downloadHistory({ packageId: id });
  assert.deepEqual(runs.map((r) => [r.outcome, r.failedPhase]), [['interrupted', 'download'], ['failed', 'download']]);
  assert.match(runs[1]!.reason, /certificate is not trusted \(self-signed\)/);
  assert.ok(runs.every((r) => r.endedAt !== null && r.endedAt >= r.startedAt));

  // Meanwhile the server answered normally: the poll keeps its rhythm.
  assert.equal(station.local.store.task('poll')!.wait.kind, 'schedule');
});

test('a management server whose certificate is not trusted is retried as a failure, not waited for as offline', async (t) => {
  const h = await harness(t);
  const front = await selfSignedFront(t, h.port);
  const station = await h.openStation({ server: `${front}/devicemgmt/server.aspx` });
  await station.runUntilIdle();
  const poll = station.local.store.task('poll')!;
  assert.equal(poll.wait.kind, 'retry');
  assert.equal(poll.attempts, 1);
  assert.match(poll.lastError, /^the server's certificate is not trusted \(self-signed\): the secure connection to the server 127\.0\.0\.1:\d+/);
  assert.equal(station.local.isOffline(), false);
  assert.ok(station.problems().some((p) => /certificate is not trusted/.test(p)), 'a --once run would name it');
});

test('the outbox retries a refused message FailureRetryCount times before it sets it aside, in order', async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Refused twice', 'bytes', { file: 'r.bin' });
  h.settings({ retryCount: 3, retryIntervalMs: MINUTE });
  let refusals = 0;
  const front = await refusingFront(t, h.port, (action) => action === 'Status' && refusals++ < 2);
  const station = await h.openStation({ server: front.url });
  await station.runUntilIdle();
  const { store } = station.local;
  const queued = () => store.outbox(['queued']).map((o) => [o.summary, o.attempts]);
  assert.deepEqual(queued(), [[`status 11030 for ${id}`, 1], [`status 11031 for ${id}`, 0], [`status 11035 for ${id}`, 0]],
    'after one refusal the message waits, with the ones behind it');
  assert.deepEqual(store.outbox(['rejected']), []);

  h.clock.advance(MINUTE);
  await station.runUntilIdle();
  assert.equal(store.outbox(['queued'])[0]!.attempts, 2, 'refused again: still waiting');
  assert.deepEqual(store.outbox(['rejected']), []);

  h.clock.advance(MINUTE);
  await station.runUntilIdle();
  assert.deepEqual(store.outbox(['queued', 'rejected']), [], 'delivered on the third try');
  assert.deepEqual(h.statuses().map((s) => s.messageID), [11030, 11031, 11035], 'delivered in the order they were made');
  assert.deepEqual(front.refused, ['Status', 'Status']);
});

test('a message the server refuses for good is set aside after FailureRetryCount + 1 refusals; the ones behind it go on, in order', async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Refused for good', 'bytes', { file: 'g.bin' });
  h.settings({ retryCount: 2, retryIntervalMs: MINUTE });
  // Only the 11030 status is refused, every time; the others would be taken.
  const front = await refusingFront(t, h.port, (action, body) => action === 'Status' && /messageID="11030"/.test(body));
  const station = await h.openStation({ server: front.url });
  const { store } = station.local;
  const waiting = () => store.outbox(['queued']).map((o) => [o.summary, o.attempts]);
  await station.runUntilIdle();
  assert.deepEqual(waiting(), [[`status 11030 for ${id}`, 1], [`status 11031 for ${id}`, 0], [`status 11035 for ${id}`, 0]]);

  h.clock.advance(MINUTE);
  await station.runUntilIdle();
  assert.deepEqual(waiting()[0], [`status 11030 for ${id}`, 2], 'refused twice: the first retry spent, the message still waits');
  assert.deepEqual(store.outbox(['rejected']), [], 'not set aside while FailureRetryCount (2) allows a retry');
  assert.deepEqual(h.statuses(), [], 'nothing overtook it');

  h.clock.advance(MINUTE);
  await station.runUntilIdle();
  assert.deepEqual(front.refused, ['Status', 'Status', 'Status']);
  const aside = store.outbox(['rejected']);
  assert.deepEqual(aside.map((o) => [o.summary, o.attempts]), [[`status 11030 for ${id}`, 3]], 'set aside after the third refusal, kept in the database');
  assert.match(aside[0]!.lastError, /503/);
  assert.deepEqual(waiting(), [], 'nothing waits any more');
  assert.deepEqual(h.statuses().map((s) => s.messageID), [11031, 11035], 'the messages behind it were delivered, in order');
  assert.ok(store.logs().some((l) => l.level === 'error' && /refused status 11030 .* 3 times; set aside/.test(l.message)), 'the technician is told');
});

test('the poll never gives up: after its retries it waits for its interval, forever, and polls again', async (t) => {
  const h = await harness(t);
  h.settings({ retryCount: 2, retryIntervalMs: MINUTE, pollIntervalMs: HOUR });
  let broken = false;
  const front = await refusingFront(t, h.port, (action) => broken && action === 'Poll');
  const station = await h.openStation({ server: front.url });
  await station.runUntilIdle(); // the first poll brings the settings
  broken = true;
  const { store } = station.local;
  for (let hour = 0; hour < 6; hour += 1) {
    for (let attempt = 0; attempt <= 2; attempt += 1) {
      h.clock.set(store.task('poll')!.nextRun);
      await station.runUntilIdle();
      const poll = store.task('poll')!;
      assert.equal(poll.state, 'queued', 'the poll task never expires');
      if (attempt < 2) {
        assert.equal(poll.wait.kind, 'retry');
        assert.equal(poll.nextRun, h.clock.now() + MINUTE);
      } else {
        assert.deepEqual(poll.wait, { kind: 'schedule', until: h.clock.now() + HOUR }, 'after the retries: the next regular poll');
      }
    }
  }
  assert.equal(front.refused.length, 18, 'six hours, three refused polls each');
  broken = false;
  const before = h.log().filter((e) => e.kind === 'poll').length;
  h.clock.set(store.task('poll')!.nextRun);
  await station.runUntilIdle();
  assert.equal(h.log().filter((e) => e.kind === 'poll').length, before + 1, 'the server is polled again once it answers');
  assert.equal(store.task('poll')!.attempts, 0);
});
