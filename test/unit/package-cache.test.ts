// The station's package cache against a real HTTP server on loopback: a "Download and Execute" occurrence
// clears the package's folder while the next fetch of the same package may already be starting (another
// target, or the next occurrence right away). The fetch must wait for the removal, or its mkdir races the
// removal (ENOENT) or the removal deletes the file just downloaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PackageCache } from '../../electron/engine/package-cache.js';
import { RateLimiter } from '../../electron/engine/transfer/rate-limiter.js';
import { systemClock } from '../../electron/engine/clock.js';
import { tempDir } from '../helpers/tmp.js';

test('a fetch that starts while the package\'s cached copy is being cleared waits for it, and keeps what it downloads', async (t) => {
  const body = randomBytes(64 * 1024);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sync.bin`;
  const cache = new PackageCache(path.join(tempDir(t), 'cache'), new RateLimiter(0), systemClock);
  t.after(() => cache.store.close());
  const request = { packageId: 'DAILY-SYNC', url, fileName: 'sync.bin', expectedSize: body.length, sha256, userId: 'device-1' };

  await cache.fetch(request);
  for (let occurrence = 0; occurrence < 10; occurrence += 1) {
    // A folder that takes a while to remove (a slow disk, a busy thread pool): the race is then certain.
    for (let k = 0; k < 1500; k += 1) writeFileSync(path.join(cache.folderOf(request.packageId), `left-${k}`), '');
    const cleared = cache.invalidate(request.packageId); // as the event's end does, without waiting
    const got = await cache.fetch(request);
    await cleared;
    assert.equal(got.reused, false, `occurrence ${occurrence}: downloaded afresh`);
    assert.ok(existsSync(got.path), `occurrence ${occurrence}: the file fetched is still there after the clearing`);
    assert.equal(createHash('sha256').update(readFileSync(got.path)).digest('hex'), sha256);
  }
});
