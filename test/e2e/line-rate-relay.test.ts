// The emulated serial cable (test/helpers/line-rate-link.ts): real socat pty pairs and the pacing relay.
// Bytes must cross intact both ways, and the relay's own release log must respect the line rate by its own
// clock (no wall-clock assertions). The hooks must corrupt and inject exactly what they are told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pacingExcess, openPtyEnd, startLineRateLink, type LineRateLinkOptions, type Release } from '../helpers/line-rate-link.js';
import { watchSerialPorts } from '../../electron/link/discovery.js';
import { waitFor } from '../helpers/tmp.js';

async function link(t: { after(fn: () => unknown): void }, opts: LineRateLinkOptions = {}) {
  const l = await startLineRateLink(opts);
  t.after(() => l.close());
  const station = openPtyEnd(l.stationPath);
  const device = openPtyEnd(l.devicePath);
  t.after(() => {
    station.close();
    device.close();
  });
  const got = { station: [] as Buffer[], device: [] as Buffer[] };
  station.onData((b) => got.station.push(b));
  device.onData((b) => got.device.push(b));
  const size = (bs: Buffer[]) => bs.reduce((n, b) => n + b.length, 0);
  return { l, station, device, got, size };
}

test('the pacing check itself flags a log that beats the line rate', () => {
  const fine: Release[] = [{ t: 0, bytes: 100 }, { t: 10, bytes: 100 }, { t: 20, bytes: 100 }];
  assert.ok(pacingExcess(fine, 10_000, 100) <= 0); // 10 bytes/ms, 100-byte bucket
  const tooFast: Release[] = [{ t: 0, bytes: 100 }, { t: 1, bytes: 100 }, { t: 2, bytes: 100 }];
  assert.equal(pacingExcess(tooFast, 10_000, 100), 300 - 20 - 100);
  // A late stretch that is too fast counts even when the average over the whole log is fine.
  const lateBurst: Release[] = [{ t: 0, bytes: 10 }, { t: 1000, bytes: 10 }, { t: 1000.5, bytes: 500 }];
  assert.ok(pacingExcess(lateBurst, 10_000, 100) > 0);
});

test('bytes cross intact both ways at once, and the relay never released faster than the line rate', async (t) => {
  const { l, station, device, got, size } = await link(t, { baud: 921_600 });
  assert.equal(l.rate, 92_160);
  const down = randomBytes(48 * 1024);
  const up = randomBytes(40 * 1024);
  await Promise.all([station.write(down), device.write(up)]);
  await waitFor('both directions to arrive', () => size(got.device) === down.length && size(got.station) === up.length, 30_000);
  assert.ok(Buffer.concat(got.device).equals(down), 'station → device intact');
  assert.ok(Buffer.concat(got.station).equals(up), 'device → station intact');
  assert.deepEqual(l.received, { toDevice: down.length, toStation: up.length });
  assert.deepEqual(l.released, { toDevice: down.length, toStation: up.length });
  for (const dir of ['toDevice', 'toStation'] as const) {
    const log = l.releases(dir);
    assert.ok(log.length > 20, `${dir}: released in many small steps (${log.length})`);
    assert.ok(log.every((r) => r.bytes <= l.burst), `${dir}: no single release above the bucket`);
    const excess = pacingExcess(log, l.rate, l.burst);
    assert.ok(excess <= 1e-6, `${dir}: released ${excess} bytes more than rate × elapsed + burst allows`);
  }
});

test('the transform hook corrupts exactly the byte it is told to, and inject adds noise in order', async (t) => {
  const { l, station, device, got, size } = await link(t, {
    baud: 460_800,
    transform: (dir, chunk, offset) => {
      if (dir !== 'toDevice' || offset > 10 || offset + chunk.length <= 10) return chunk;
      const copy = Buffer.from(chunk);
      copy[10 - offset] = copy[10 - offset]! ^ 0xff;
      return copy;
    },
  });
  const data = Buffer.alloc(64, 0x41);
  await station.write(data);
  await waitFor('the corrupted bytes', () => size(got.device) === 64);
  const expected = Buffer.from(data);
  expected[10] = 0x41 ^ 0xff;
  assert.ok(Buffer.concat(got.device).equals(expected));
  l.inject('toStation', Buffer.from('NOISE'));
  await device.write(Buffer.from('hello'));
  await waitFor('noise then data', () => size(got.station) === 10);
  assert.equal(Buffer.concat(got.station).toString(), 'NOISEhello');
});

test('a sender that outruns the line is held back: the relay stops reading and nothing is lost', async (t) => {
  const { l, station, got, size } = await link(t, { baud: 460_800, queueLimit: 4096 });
  const data = randomBytes(96 * 1024);
  await station.write(data);
  assert.ok(l.holds.toDevice >= 1, 'the relay stopped reading the station side at least once');
  // One read may land on top of the limit (a tty read returns up to 64 KiB); no more than that waits.
  assert.ok(l.queued('toDevice') <= 4096 + 65536, `the relay holds ${l.queued('toDevice')} bytes`);
  await waitFor('everything', () => size(got.device) === data.length, 30_000);
  assert.ok(Buffer.concat(got.device).equals(data));
  assert.equal(l.holds.toStation, 0);
});

test('close() leaves no socat behind, and discovery sees the ends come and go', async () => {
  const l = await startLineRateLink();
  const events: string[] = [];
  const d = watchSerialPorts({
    usb: [], paths: [l.stationPath, l.devicePath], intervalMs: 20, list: async () => [],
    onAttach: (p) => events.push(`+${p.path}`), onDetach: (p) => events.push(`-${p.path}`),
  });
  try {
    await d.ready;
    assert.deepEqual(events.sort(), [`+${l.devicePath}`, `+${l.stationPath}`]);
    await l.close();
    for (const pgid of l.processGroups) {
      assert.throws(() => process.kill(-pgid, 0), { code: 'ESRCH' }, `process group ${pgid} is gone`);
    }
    await waitFor('both detaches', () => events.length === 4, 5000);
    assert.deepEqual(events.slice(2).sort(), [`-${l.devicePath}`, `-${l.stationPath}`]);
  } finally {
    d.close();
    await l.close();
  }
});
