// Connection hygiene of the server in-process: idle and stalled sockets are dropped, and close() ends
// even while a download is in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { addPackage, startServer } from '../../server/index.js';
import { tempDir } from '../helpers/tmp.js';

/** Resolves with how long the server took to close a socket that sends `opening` and then nothing. */
function closedAfter(port: number, opening: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(opening));
    socket.on('data', () => undefined);
    socket.on('close', () => resolve(Date.now() - started));
    socket.on('error', () => undefined);
    setTimeout(() => { socket.destroy(); reject(new Error('the server kept an idle socket open for 10 s')); }, 10_000).unref();
  });
}

test('idle and stalled connections are dropped after the idle timeout', async (t) => {
  const server = await startServer({ dataDir: path.join(tempDir(t), 'data'), idleTimeoutMs: 300 });
  t.after(() => server.close());
  const silent = await closedAfter(server.port, '');
  assert.ok(silent >= 250, `not before the timeout (${silent} ms)`);
  await closedAfter(server.port, 'POST /devicemgmt/server.aspx HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<Dev');
});

test('close() returns while a download is still in flight', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const file = path.join(dir, 'big.bin');
  writeFileSync(file, randomBytes(8 * 1024 * 1024));
  const pkg = await addPackage(data, { file, name: 'Big' });
  const server = await startServer({ dataDir: data });
  const ended = new Promise<string>((resolve) => {
    const req = http.get(`${server.url}/packages/${pkg.id}/big.bin`, { agent: false }, (res) => {
      res.pause(); // a slow reader: the server's side fills up and waits
      res.once('close', () => resolve('closed'));
      res.once('error', () => resolve('error'));
      const deadline = new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error('close() did not return within 5 s')), 5_000).unref();
      });
      closing = Promise.race([server.close(), deadline]);
      res.resume(); // read on, to see the connection end
    });
    req.on('error', () => resolve('error'));
  });
  let closing: Promise<void> | undefined;
  assert.ok(['closed', 'error'].includes(await ended));
  await closing;
});
