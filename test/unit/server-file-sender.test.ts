// The reference server's package body sender (server/file-sender.ts) on a real loopback HTTP server and real
// files: exact bytes for ranges that cross its buffers, two buffers reused download after download, a
// device that goes away mid-body, and a file shorter than its headers promised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileSenderStats, sendFileRange } from '../../server/file-sender.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;

interface Served {
  url: string;
  /** Settles when sendFileRange has returned for the Nth request (0-based), with that request's response. */
  done: (n: number) => Promise<ServerResponse>;
}

/** A server that answers every request with bytes start..end of `file`, claiming `claimed` bytes. */
async function serve(t: { after: (fn: () => unknown) => void }, file: string, start: number, end: number, claimed = end - start + 1): Promise<Served> {
  const finished: Promise<ServerResponse>[] = [];
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': claimed });
    const fd = openSync(file, 'r');
    finished.push(sendFileRange(fd, res, start, end).finally(() => closeSync(fd)).then(() => res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
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
