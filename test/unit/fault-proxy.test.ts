// The test fault proxy, exercised with raw sockets so every byte the client receives is counted exactly.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { HttpMeter, startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';

const BODY = randomBytes(50_000);

/** An upstream with a few fixed answers: a sized body, a chunked body, 304 and 204. */
async function upstream(t: TestContext): Promise<{ port: number; finished: () => number }> {
  let finished = 0;
  const server = http.createServer((req, res) => {
    res.on('finish', () => (finished += 1));
    if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no length: chunked
      res.write(BODY.subarray(0, 1000));
      res.write(BODY.subarray(1000, 1234));
      res.end(BODY.subarray(1234, 3000));
    } else if (req.url === '/notmod') {
      res.writeHead(304, { etag: '"x"' }).end();
    } else if (req.url === '/empty') {
      res.writeHead(204).end();
    } else {
      res.writeHead(200, { 'content-length': BODY.length });
      res.end(req.method === 'HEAD' ? undefined : BODY);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as net.AddressInfo).port, finished: () => finished };
}

async function proxyFor(t: TestContext, port: number): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ port });
  t.after(() => proxy.close());
  return proxy;
}

interface RawClient { received: () => Buffer; closed: Promise<string | null>; socket: net.Socket }

/** Sends raw request text and collects every byte that comes back until the connection closes. */
function rawRequest(proxy: FaultProxy, text: string): RawClient {
  const chunks: Buffer[] = [];
  const socket = net.connect(proxy.port, '127.0.0.1');
  socket.on('data', (d: Buffer) => chunks.push(d));
  const closed = new Promise<string | null>((resolve) => {
    let code: string | null = null;
    socket.on('error', (err: NodeJS.ErrnoException) => (code = err.code ?? 'error'));
    socket.on('close', () => resolve(code));
  });
  socket.write(text.split('\n').join('\r\n'));
  return { received: () => Buffer.concat(chunks), closed, socket };
}

const get = (p: string, close = true): string => `GET ${p} HTTP/1.1\nHost: test\n${close ? 'Connection: close\n' : ''}\n`;
const headLength = (b: Buffer): number => b.indexOf('\r\n\r\n') + 4;

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('passes traffic through and counts response, header and body bytes', async (t) => {
  const up = await upstream(t);
  const proxy = await proxyFor(t, up.port);
  const c = rawRequest(proxy, get('/file'));
  assert.equal(await c.closed, null);
  const got = c.received();
  assert.deepEqual(got.subarray(headLength(got)), BODY);
  const st = proxy.stats();
  const conn = st.connections[0];
  assert.equal(conn?.responseBytes, got.length);
  assert.equal(conn?.responseBodyBytes, BODY.length);
  assert.equal(conn?.responses[0]?.status, 200);
  assert.equal(conn?.responses[0]?.headerBytes, headLength(got));
  assert.equal(conn?.responses[0]?.complete, true);
  assert.equal(conn?.requests[0]?.method, 'GET');
  assert.equal(conn?.requests[0]?.headers['host'], 'test');
  assert.equal(st.totalResponseBytes, got.length);
  assert.equal(st.totalResponseBodyBytes, BODY.length);
  assert.equal(conn?.fault, null);
});

test('follows HTTP framing over pipelined responses: chunked, HEAD, 304 and 204 bodies', async (t) => {
  const up = await upstream(t);
  const proxy = await proxyFor(t, up.port);
  const text = get('/chunked', false) + `HEAD /file HTTP/1.1\nHost: test\n\n` + get('/notmod', false) + get('/empty', false) + get('/file');
  const c = rawRequest(proxy, text);
  await c.closed;
  const conn = proxy.stats().connections[0];
  assert.deepEqual(conn?.responses.map((r) => [r.status, r.bodyBytes, r.complete]), [[200, 3000, true], [200, 0, true], [304, 0, true], [204, 0, true], [200, BODY.length, true]]);
  assert.equal(conn?.responseBodyBytes, 3000 + BODY.length);
  assert.equal(conn?.responseBytes, c.received().length);
  assert.equal(conn?.bodyCountReliable, true);
});

test('the meter gives the same counts however the bytes are split', () => {
  const wire = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
  for (const step of [1, 2, 7, wire.length]) {
    const meter = new HttpMeter('response', ['GET', 'GET']);
    for (let at = 0; at < wire.length; at += step) meter.push(wire.subarray(at, at + step));
    assert.equal(meter.bodyBytes, 18, `split every ${step} bytes`);
    assert.deepEqual(meter.messages.map((m) => [m.bodyBytes, m.complete]), [[15, true], [3, true]]);
    assert.equal(meter.reliable, true);
  }
  const garbage = new HttpMeter('response', []);
  garbage.push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'));
  assert.equal(garbage.reliable, false, 'traffic that is not HTTP is flagged, not guessed at');
});

test('cutAfterResponseBytes delivers exactly that many bytes, then closes', async (t) => {
  const up = await upstream(t);
  const proxy = await proxyFor(t, up.port);
  proxy.setPlans([{ cutAfterResponseBytes: 100 }]);
  const c = rawRequest(proxy, get('/file'));
  await c.closed;
  assert.equal(c.received().length, 100);
  const conn = proxy.stats().connections[0];
  assert.equal(conn?.fault, 'cut');
  assert.equal(conn?.responseBytes, 100);
  assert.equal(conn?.responseBodyBytes, Math.max(0, 100 - (conn?.responses[0]?.headerBytes ?? 0)));
});

test('cutAfterBodyBytes delivers the headers and exactly that many body bytes', async (t) => {
  const up = await upstream(t);
  const proxy = await proxyFor(t, up.port);
  proxy.setPlans([{ cutAfterBodyBytes: 12_345 }, { cutAfterBodyBytes: 0 }]);
  for (const n of [12_345, 0]) {
    const c = rawRequest(proxy, get('/file'));
    await c.closed;
    const got = c.received();
    assert.equal(got.length - headLength(got), n);
    assert.deepEqual(got.subarray(headLength(got)), BODY.subarray(0, n));
  }
  assert.deepEqual(proxy.stats().connections.map((x) => [x.fault, x.responseBodyBytes]), [['cut', 12_345], ['cut', 0]]);
});

test('stallAfterResponseBytes holds the connection open and forwards nothing more', async (t) => {
  const up = await upstream(t);
  const proxy = await proxyFor(t, up.port);
  proxy.setPlans([{ stallAfterResponseBytes: 300 }]);
  const c = rawRequest(proxy, get('/chunked')); // small enough to reach the proxy in one piece
  await until('the upstream finished its answer', () => up.finished() === 1);
  await until('the stall', () => proxy.stats().connections[0]?.fault === 'stalled' && c.received().length === 300);
  assert.equal(proxy.stats().connections[0]?.open, true, 'the stalled connection is still open');
  c.socket.destroy();
  await c.closed;
  await until('the proxy notices the client left', () => proxy.stats().connections[0]?.open === false);
  assert.equal(c.received().length, 300);
});

test('corrupt…Byte flips exactly one byte, counted in response bytes or in body bytes', async (t) => {
  const up = await upstream(t);
  const proxy = await proxyFor(t, up.port);
  proxy.setPlans([{ corruptAtBodyByte: 40_000 }, { corruptAtResponseByte: 0 }]);
  const a = rawRequest(proxy, get('/file'));
  await a.closed;
  const got = a.received().subarray(headLength(a.received()));
  const diff = [...got].flatMap((b, i) => (b === BODY[i] ? [] : [i]));
  assert.deepEqual(diff, [40_000]);
  assert.equal(got[40_000], (BODY[40_000] as number) ^ 0xff);
  const b = rawRequest(proxy, get('/file'));
  await b.closed;
  assert.equal(b.received()[0], 'H'.charCodeAt(0) ^ 0xff);
  assert.deepEqual(proxy.stats().connections.map((x) => x.corrupted), [1, 1]);
});

test('plans are used one per connection in order, then everything passes; refuse resets the connection', async (t) => {
  const up = await upstream(t);
  const proxy = await proxyFor(t, up.port);
  proxy.setPlans([{ refuse: true }, { cutAfterBodyBytes: 10 }]);
  const refused = rawRequest(proxy, get('/file'));
  assert.equal(await refused.closed, 'ECONNRESET');
  assert.equal(refused.received().length, 0);
  const cut = rawRequest(proxy, get('/file'));
  await cut.closed;
  const clean = rawRequest(proxy, get('/file'));
  await clean.closed;
  assert.deepEqual(proxy.stats().connections.map((x) => [x.fault, x.responseBodyBytes]), [['refused', 0], ['cut', 10], [null, BODY.length]]);
  assert.equal(proxy.stats().totalResponseBodyBytes, 10 + BODY.length);
});

test('close() destroys every socket, stalled ones included', async (t) => {
  const up = await upstream(t);
  const proxy = await startFaultProxy({ port: up.port });
  proxy.setPlans([{ stallAfterBodyBytes: 5 }]);
  const c = rawRequest(proxy, get('/file'));
  await until('the stall', () => proxy.stats().connections[0]?.fault === 'stalled');
  await proxy.close();
  await c.closed;
  assert.equal(c.socket.destroyed, true);
  assert.equal(c.received().length - headLength(c.received()), 5);
});
