// Bounds as a technician sets them (issue 7): the station's rate limit from station.json really paces its
// downloads (measured by the tokens the real limiter hands out, over real time), and a package without a
// declared size is stopped at maxUndeclaredDownloadBytes with an 11032 that names the package, its server
// and the cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { startStationRuntime } from '../../electron/station/runtime.js';
import { Station } from '../../electron/station/station.js';
import { ManualClock } from '../../electron/engine/clock.js';
import { harness } from '../helpers/station-harness.js';
import { scriptedServer } from '../helpers/scripted-server.js';
import { tempDir } from '../helpers/tmp.js';

test('the station rate limit in station.json paces every byte of a download', async (t) => {
  const h = await harness(t);
  const size = 320 * 1024;
  await h.addPackage('Paced', randomBytes(size), { file: 'paced.bin' });
  const rate = 128 * 1024;
  mkdirSync(h.stationData, { recursive: true });
  writeFileSync(path.join(h.stationData, 'station.json'), JSON.stringify({ server: h.serverUrl, rateLimit: rate }));
  const runtime = await startStationRuntime({ dataDir: h.stationData, id: 'A1B2C3D4-0000-4000-8000-0000000000AA', loop: false });
  t.after(() => runtime.stop());
  const { station } = runtime;
  assert.equal(station.limiter.rate, rate, 'the limiter runs at the configured rate');

  // Count what the real limiter grants, and when.
  const grants: Array<{ bytes: number; at: number }> = [];
  const take = station.limiter.take.bind(station.limiter);
  station.limiter.take = async (bytes, signal) => {
    await take(bytes, signal);
    grants.push({ bytes, at: performance.now() });
  };
  const started = performance.now();
  await station.runUntilIdle();
  const granted = grants.reduce((n, g) => n + g.bytes, 0);
  assert.equal(granted, size, 'every byte of the package was paid for in tokens');
  // The bucket may hand out its burst (a quarter second of the rate) at once; the rest waits for tokens.
  const burst = rate / 4;
  const elapsed = (grants.at(-1)!.at - started) / 1000;
  const measured = (size - burst) / elapsed;
  assert.ok(measured <= rate * 1.1, `${Math.round(measured)} bytes/s after the burst, over the ${rate} bytes/s limit`);
});

test('a package with no declared size over the cap ends in 11032 naming the package, its server and the cap', async (t) => {
  const dir = tempDir(t);
  const srv = await scriptedServer(t, {
    listed: () => ['9A437CA5-5B17-4486-9E87-260742074A72'],
    instructions: () => ({ Name: 'Unbounded image' }), // no PackageSize
    fileName: () => 'image.bin',
    file: (_id, res) => {
      res.writeHead(200); // chunked: no length announced either
      const chunk = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const more = (): void => {
        while (sent < 4 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    },
  });
  const clock = new ManualClock(Date.now());
  const s = await Station.open({ dataDir: path.join(dir, 'data'), root: path.join(dir, 'root'), server: srv.url, id: 'CAP-TEST', clock, maxUndeclaredDownloadBytes: 1024 * 1024 });
  t.after(() => s.close());
  await s.runUntilIdle();
  clock.advance(1000); // FailureRetryCount 1: the retry, then 11032
  await s.runUntilIdle();
  const ids = srv.statuses.map((x) => x.messageID);
  assert.deepEqual(ids, [11030, 11032]);
  const host = new URL(srv.url).host;
  assert.equal(srv.statuses[1]!.params.Reason,
    `the package 'Unbounded image' (9A437CA5-5B17-4486-9E87-260742074A72) from ${host} has no declared size (PackageSize) and sent more than 1 MB, ` +
    'over the 1 MB cap for such downloads (maxUndeclaredDownloadBytes in station.json); the partial file was discarded');
});
