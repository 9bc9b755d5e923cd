// Every POST to the management server has a deadline for the whole exchange, not only an idle timeout: a
// server that trickles its answer a byte at a time (never idle long enough for the idle timer) is cut off
// and the failure is a network one (the station keeps its queue and tries again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postDeadlineMs, postToServer } from '../../electron/engine/dm-http.js';
import { DockhandError } from '../../shared/model/errors.js';

async function trickler(t: { after(fn: () => unknown): void }): Promise<{ url: string; sent: () => number }> {
  let sent = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    const timer = setInterval(() => {
      res.write('<');
      sent += 1;
    }, 20);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/devicemgmt/server.aspx`, sent: () => sent };
}

test('a server that trickles its answer is cut off at the deadline, as a network failure', { timeout: 15_000 }, async (t) => {
  const srv = await trickler(t);
  await assert.rejects(
    postToServer(srv.url, {}, Buffer.from('<DevicePoll/>'), 'text/xml', { timeoutMs: 60_000, deadlineMs: 400 }),
    (err: unknown) => err instanceof DockhandError && err.code === 'NETWORK' && err.transient &&
      /the server 127\.0\.0\.1:\d+ did not finish its answer within 400 ms; the station keeps its queue/.test(err.message),
  );
  assert.ok(srv.sent() > 3, `the server kept sending (${srv.sent()} bytes), so only the deadline could end it`);
});

test('the default deadline is 2 minutes plus a second per 16 KiB sent', () => {
  assert.equal(postDeadlineMs(0), 120_000);
  assert.equal(postDeadlineMs(1), 121_000);
  assert.equal(postDeadlineMs(64 * 1024 * 1024), 120_000 + 4096_000);
});
