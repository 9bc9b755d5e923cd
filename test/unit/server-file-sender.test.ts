// The reference server's package body sender (server/file-sender.ts) on a real loopback HTTP server and real
// files: exact bytes for ranges that cross its buffers, two buffers reused download after download, a
// device that goes away mid-body, and a file shorter than its headers promised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import fs, { openSync, closeSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileSenderStats, sendFileRange } from '../../server/file-sender.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;

interface Served {
  url: string;
  port: number;
  /** Every response, in the order the requests came. */
  responses: ServerResponse[];
  /** Settles when sendFileRange has returned for the Nth request (0-based), with that request's response. */
  done: (n: number) => Promise<ServerResponse>;
}

/** A server that answers every request with bytes start..end of `file`, claiming `claimed` bytes. */
async function serve(t: { after: (fn: () => unknown) => void }, file: string, start: number, end: number, claimed = end - start + 1): Promise<Served> {
  const finished: Promise<ServerResponse>[] = [];
  const responses: ServerResponse[] = [];
  const server: Server = createServer((_req, res) => {
    responses.push(res);
    res.writeHead(200, { 'Content-Length': claimed });
    const fd = openSync(file, 'r');
    finished.push(sendFileRange(fd, res, start, end).finally(() => closeSync(fd)).then(() => res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    responses,
    done: async (n) => {
      while (finished.length <= n) await new Promise((r) => setTimeout(r, 5));
      return finished[n]!;
    },
  };
}

function get(url: string): Promise<{ res: IncomingMessage; body: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const chunks: Buffer[] = [];
      const body = new Promise<Buffer>((ok, fail) => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok(Buffer.concat(chunks)));
        res.on('error', fail);
        res.on('aborted', () => fail(new Error(`aborted after ${Buffer.concat(chunks).length} bytes`)));
      });
      resolve({ res, body });
    }).on('error', reject).end();
  });
}

test('a range that crosses the buffers arrives byte for byte; later downloads reuse the same two buffers', async (t) => {
  const file = path.join(tempDir(t), 'pkg.bin');
  const bytes = randomBytes(3 * MiB + 5);
  writeFileSync(file, bytes);
  const start = MiB - 3;
  const end = bytes.length - 2;
  const s = await serve(t, file, start, end);
  const before = fileSenderStats.buffersAllocated;
  for (let i = 0; i < 3; i += 1) {
    const { body } = await get(s.url);
    assert.ok((await body).equals(bytes.subarray(start, end + 1)), `download ${i + 1}: the exact range`);
    assert.equal((await s.done(i)).writableFinished, true, 'the response ended normally');
  }
  assert.ok(fileSenderStats.buffersAllocated - before <= 2, `${fileSenderStats.buffersAllocated - before} buffers allocated for three downloads`);
});

test('a device that goes away mid-body ends the send; the next download is served whole', async (t) => {
  const file = path.join(tempDir(t), 'pkg.bin');
  const bytes = randomBytes(64 * MiB); // more than the socket buffers hold, so the send is still going
  writeFileSync(file, bytes);
  const s = await serve(t, file, 0, bytes.length - 1);
  const first = await get(s.url);
  first.body.catch(() => undefined); // it is cut on purpose
  await new Promise((r) => first.res.once('data', r));
  first.res.destroy(); // the cable is pulled
  await s.done(0); // would hang if the sender waited for a write the closed socket never finishes
  const { body } = await get(s.url);
  assert.ok((await body).equals(bytes));
});

test('a file shorter than its headers promised cuts the connection instead of hanging or padding', async (t) => {
  const file = path.join(tempDir(t), 'pkg.bin');
  const bytes = randomBytes(MiB + 100);
  writeFileSync(file, bytes);
  // the headers promise 2 MiB; the file ends after 1 MiB + 100 bytes (changed behind the catalog's back)
  const s = await serve(t, file, 0, 2 * MiB - 1, 2 * MiB);
  const { body } = await get(s.url);
  await assert.rejects(body, /aborted|socket hang up|ECONNRESET/);
  const res = await s.done(0);
  assert.equal(res.destroyed, true, 'the connection was cut');
  assert.equal(res.writableFinished, false, 'the response was not ended as if complete');
});

test('two pipelined downloads on one connection that goes away: both sends end', { timeout: 30_000 }, async (t) => {
  const file = path.join(tempDir(t), 'pkg.bin');
  writeFileSync(file, randomBytes(16 * MiB));
  const s = await serve(t, file, 0, 16 * MiB - 1);
  const socket = net.connect(s.port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
  let got = 0;
  await new Promise<void>((resolve) => socket.on('data', (c: Buffer) => {
    got += c.length;
    if (got > 2 * MiB) {
      socket.destroy(); // mid-way through the first body; the second response is still queued behind it
      resolve();
    }
  }));
  // the queued response's writes wait with its bytes and are never called back: only the connection's close ends it
  assert.equal((await s.done(0)).writableFinished, false);
  assert.equal((await s.done(1)).writableFinished, false);
});

test('a connection reset just before a file read completes ends the send', { timeout: 30_000 }, async (t) => {
  const file = path.join(tempDir(t), 'pkg.bin');
  writeFileSync(file, randomBytes(8 * MiB));
  const s = await serve(t, file, 0, 8 * MiB - 1);
  // The reset and the read's completion land in the same turn of the event loop: the socket is destroyed but
  // its 'close' is not emitted yet, so Node drops the callback of the write that follows the read.
  let reads = 0;
  const realRead = fs.read;
  fs.read = ((...args: unknown[]) => {
    const callback = args.pop() as (err: unknown, n: number) => void;
    (realRead as (...a: unknown[]) => void)(...args, (err: unknown, n: number) => {
      reads += 1;
      if (reads === 3) s.responses[0]?.socket?.destroy();
      callback(err, n);
    });
  }) as typeof fs.read;
  syncBuiltinESMExports(); // the sender's `read` import now sees the wrapper
  t.after(() => {
    fs.read = realRead;
    syncBuiltinESMExports();
  });
  const socket = net.connect(s.port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const res = await s.done(0); // hangs (and the test times out) when only write callbacks end the send
  assert.ok(reads >= 3, `the reset came after read 3 (${reads} reads)`);
  assert.equal(res.writableFinished, false);
});
