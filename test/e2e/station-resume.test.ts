// Checkpoint restart (spec §14, the seed's last paragraph): a download cut at byte N resumes from byte N.
// Proven by what the server actually sent: package bytes travel through a fault-injecting TCP proxy that
// counts every body byte it forwards; the total over all attempts equals the package size exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { harness } from '../helpers/station-harness.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { readStatus } from '../../electron/station/status.js';

const SIZE = 1024 * 1024 + 17;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const cutAt of [1, 65_536, Math.floor(SIZE / 2), SIZE - 1]) {
  test(`a download cut after ${cutAt} bytes resumes from byte ${cutAt}, and the server sends every byte once`, async (t) => {
    const h = await harness(t);
    const bytes = randomBytes(SIZE);
    const id = await h.addPackage('Firmware image', bytes, { file: 'firmware.img', localDestination: '\\Firmware' });
    // Package URLs point at the proxy; control documents go straight to the server.
    await h.stopServer();
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: h.port });
    t.after(() => proxy.close());
    await h.startServer(proxy.url);
    proxy.setPlans([{ cutAfterBodyBytes: cutAt }]);

    h.settings({ retryIntervalMs: 60_000 });
    const station = await h.openStation();
    await station.runUntilIdle();

    const interrupted = readStatus(h.stationData, h.clock.now());
    const transfer = interrupted.transfers.find((x) => x.package === id)!;
    assert.equal(transfer.resumePoint, cutAt, 'the checkpoint holds exactly the bytes that arrived');
    assert.equal(transfer.total, SIZE);
    const task = interrupted.tasks.find((x) => x.kind === 'download')!;
    assert.equal(task.wait.kind, 'server', 'a cut connection waits for the server');
    assert.match(task.waitingFor, /^the server cannot be reached \(127\.0\.0\.1:\d+: the connection dropped after .*\); retrying in 1 min$/);
    assert.equal(task.attempts, 0, 'a dropped connection spends no retry');

    h.clock.advance(60_000);
    await station.runUntilIdle();
    assert.equal(sha(readFileSync(path.join(h.root, 'Firmware', 'firmware.img'))), sha(bytes));

    const gets = proxy.stats().connections.flatMap((c) => c.requests.filter((r) => r.method === 'GET'));
    assert.equal(gets.length, 2);
    assert.equal(gets[1]!.headers.range, `bytes=${cutAt}-`);
    assert.ok(gets[1]!.headers['if-range'], 'the resume is conditional on the same file (If-Range)');
    assert.equal(proxy.stats().totalResponseBodyBytes, SIZE, 'no byte was sent twice');
    assert.deepEqual(h.statuses().map((s) => s.messageID), [11030, 11031, 11035]);
  });
}

test('a checkpoint for a location that changed restarts the download from zero', async (t) => {
  const h = await harness(t);
  const bytes = randomBytes(SIZE);
  const id = await h.addPackage('Moved image', bytes, { file: 'moved.img' });
  await h.stopServer();
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: h.port });
  t.after(() => proxy.close());
  await h.startServer(proxy.url);
  proxy.setPlans([{ cutAfterBodyBytes: 300_000 }]);
  h.settings({ retryIntervalMs: 60_000 });
  const station = await h.openStation();
  await station.runUntilIdle();
  assert.equal(readStatus(h.stationData, h.clock.now()).transfers.find((x) => x.package === id)!.resumePoint, 300_000);

  // The server now hands out its own address instead of the proxy's: a new location.
  await h.stopServer();
  await h.startServer();
  h.clock.advance(60_000);
  await station.runUntilIdle();
  assert.equal(sha(readFileSync(path.join(h.root, 'Temp', 'moved.img'))), sha(bytes));
  assert.ok(station.local.store.logs().some((l) => /restarted from zero/.test(l.message)));
});
