// Version and limit negotiation: the pure rules on both sides, and the real agent (in this process, over an
// in-memory cable) refusing a station it shares no version with, in words that say what to update.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { prepareAgent, serveTransport } from '../../agent/agent.js';
import { openDeviceLink } from '../../electron/link/link-client.js';
import { memoryCable } from '../../electron/link/link-memory.js';
import { checkAccept, HelloBody, negotiate, type Hello } from '../../shared/link/hello.js';
import { payloadForLineRate } from '../../shared/link/limits.js';
import { serialLineRate } from '../../electron/link/serial.js';
import { DockhandError } from '../../shared/model/errors.js';
import { tempDir } from '../helpers/tmp.js';

const offer: Hello = { versions: [1, 2, 3], maxPayload: 2048, window: 8, maxMessage: 1 << 20, keepAliveMs: 2000, station: 'test' };
const device = { versions: [1, 2], maxPayload: 4096, window: 4, maxMessage: 1 << 18 };

test('the device picks the highest common version and the smaller of each limit', () => {
  assert.deepEqual(negotiate(offer, device), { accept: { version: 2, maxPayload: 2048, window: 4, maxMessage: 1 << 18, keepAliveMs: 2000 } });
});

test('no common version is refused with both sides\' versions', () => {
  const outcome = negotiate({ ...offer, versions: [7] }, device);
  assert.ok('refuse' in outcome);
  assert.equal(outcome.refuse.error.code, 'VERSION_UNSUPPORTED');
  assert.deepEqual(outcome.refuse.versions, [1, 2]);
  assert.match(outcome.refuse.error.message, /speaks link protocol version 1, 2; the station offered 7/);
});

test('the station refuses an answer beyond its offer', () => {
  const accept = { version: 2, maxPayload: 2048, window: 4, maxMessage: 1 << 18, caps: [], agent: 'a', device: { id: 'x', name: '', platform: '', processor: '', codePage: 0, lcid: 0 } };
  assert.deepEqual(checkAccept(accept, offer), { version: 2, maxPayload: 2048, window: 4, maxMessage: 1 << 18, keepAliveMs: 2000 });
  assert.match(checkAccept({ ...accept, version: 9 }, offer) as string, /version 9, which the station did not offer/);
  assert.match(checkAccept({ ...accept, maxPayload: 4096 }, offer) as string, /frames of 4096 bytes, more than the 2048 offered/);
  assert.match(checkAccept({ ...accept, window: 9 }, offer) as string, /window of 9 frames/);
  assert.match(checkAccept({ ...accept, maxMessage: 1 << 21 }, offer) as string, /messages of 2097152 bytes/);
});

test('limits: offers outside the protocol\'s bounds are not valid HELLOs', () => {
  for (const bad of [{ maxPayload: 127 }, { maxPayload: 4097 }, { window: 0 }, { window: 33 }, { maxMessage: 1000 }, { versions: [] }, { keepAliveMs: 10 }]) {
    assert.equal(HelloBody.safeParse({ ...offer, ...bad }).success, false, JSON.stringify(bad));
  }
});

test('the station checks its own options before saying HELLO', async () => {
  const cable = memoryCable();
  await assert.rejects(openDeviceLink(cable.a, { maxPayload: 8192 }), (err: unknown) =>
    err instanceof DockhandError && err.code === 'LINK' && /cannot connect to the device on memory:a: the link option maxPayload is out of range \(Too big: expected number to be <=4096\)/.test(err.message));
});

test('the real agent refuses a station with no common version; the station says what to update', async (t) => {
  const dir = tempDir(t);
  const logs: string[] = [];
  const ctx = await prepareAgent({ root: path.join(dir, 'root'), log: (l) => logs.push(l) });
  const cable = memoryCable({ labels: ['/dev/ttyACM0', 'gadget'] });
  const stop = new AbortController();
  const served = serveTransport(ctx, cable.b, stop.signal);
  t.after(async () => {
    stop.abort();
    await served;
  });
  await assert.rejects(openDeviceLink(cable.a, { versions: [2] }), (err: unknown) => {
    assert.ok(err instanceof DockhandError && err.code === 'LINK');
    assert.match(err.message, /the device on \/dev\/ttyACM0 speaks link protocol version 1, this station speaks 2: update the device agent or the station/);
    return true;
  });
  assert.ok(logs.some((l) => /refused a HELLO/.test(l)));
});

test('the station offers the largest frame that crosses the line within 0.4 s: 4 KiB at 115200 baud, less on slower lines', () => {
  assert.equal(serialLineRate({ baudRate: 115_200 }), 11_520, '8N1: ten bits a byte');
  assert.equal(serialLineRate({ baudRate: 115_200, dataBits: 7, parity: 'even', stopBits: 2 }), 11_520 * 10 / 11);
  assert.equal(payloadForLineRate(undefined), 4096, 'a link without a known rate (USB) is fast');
  assert.equal(payloadForLineRate(serialLineRate({ baudRate: 921_600 })), 4096);
  assert.equal(payloadForLineRate(serialLineRate({ baudRate: 115_200 })), 4096);
  assert.equal(payloadForLineRate(serialLineRate({ baudRate: 57_600 })), 2048);
  assert.equal(payloadForLineRate(serialLineRate({ baudRate: 9_600 })), 256);
  assert.equal(payloadForLineRate(serialLineRate({ baudRate: 300 })), 128, 'never below the least any peer takes');
});
