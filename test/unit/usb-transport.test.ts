// The USB transport against the in-memory WebUSB device (test/helpers/webusb-fake.ts): there is no USB bus
// on these machines. Bytes both ways, chunking, packet boundaries, stalls, unplug, and the refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openUsbTransport, type UsbTransportOptions } from '../../electron/link/usb.js';
import { watchUsbDevicesWith } from '../../electron/link/usb-watch.js';
import type { Transport } from '../../electron/link/transport.js';
import { FakeUsbDevice, FakeWebUsb, type FakeUsbDeviceOptions } from '../helpers/webusb-fake.js';
import { waitFor } from '../helpers/tmp.js';

/** Collects what a byte sink receives. */
function sink() {
  const chunks: Uint8Array[] = [];
  return {
    push: (b: Uint8Array) => chunks.push(Uint8Array.from(b)),
    size: () => chunks.reduce((n, c) => n + c.length, 0),
    bytes: () => Buffer.concat(chunks),
  };
}

async function setup(t: { after(fn: () => unknown): void }, dev: FakeUsbDeviceOptions = {}, opts: UsbTransportOptions = {}) {
  const device = new FakeUsbDevice(dev);
  const transport = await openUsbTransport(device, opts);
  t.after(() => transport.close());
  const host = sink();
  const peer = sink();
  transport.onData(host.push);
  device.peer.onData(peer.push);
  const closes: string[] = [];
  transport.onClose((r) => closes.push(r));
  return { device, transport, host, peer, closes };
}

test('opens the vendor interface behind a CDC interface, selecting the configuration of an unconfigured device', async (t) => {
  const { device, transport } = await setup(t, { interfaceNumber: 1, unconfigured: true, serialNumber: 'SN42', vendorId: 0x1234, productId: 0x5678 });
  assert.equal(device.opened, true);
  assert.equal(device.stats.selectedConfiguration, 1);
  assert.deepEqual(device.stats.claimed, [1]);
  assert.equal(transport.label, 'usb 1234:5678 serial SN42');
});

test('moves bytes both ways', async (t) => {
  const { device, transport, host, peer } = await setup(t);
  await transport.write(Buffer.from('hello device'));
  await waitFor('the device to get the bytes', () => peer.size() === 12);
  assert.equal(peer.bytes().toString(), 'hello device');
  await device.peer.write(Buffer.from('hello station'));
  await waitFor('the station to get the bytes', () => host.size() === 13);
  assert.equal(host.bytes().toString(), 'hello station');
});

test('a large write goes out in chunks of at most packetsPerWrite packets, in order', async (t) => {
  const { device, transport, peer } = await setup(t, { packetSize: 64 }, { packetsPerWrite: 8 });
  const data = randomBytes(200_000 + 7);
  const second = randomBytes(1000);
  await Promise.all([transport.write(data), transport.write(second)]);
  await waitFor('all bytes at the device', () => peer.size() === data.length + second.length);
  assert.ok(peer.bytes().equals(Buffer.concat([data, second])));
  assert.ok(device.stats.outSizes.every((n) => n <= 64 * 8), 'no transferOut above the chunk size');
  assert.equal(device.stats.outSizes.length, Math.ceil(data.length / 512) + Math.ceil(second.length / 512));
});

test('a large stream from the device arrives whole, read in packet-multiple transfers', async (t) => {
  const { device, host } = await setup(t, { packetSize: 512 }, { packetsPerRead: 4 });
  const data = randomBytes(300_000);
  for (let at = 0; at < data.length; at += 7000) await device.peer.write(data.subarray(at, at + 7000));
  await waitFor('all bytes at the station', () => host.size() === data.length);
  assert.ok(host.bytes().equals(data));
  assert.equal(device.stats.largestReadAsked, 2048);
});

test('short and zero-length packets end a read; the bytes stay in order', async (t) => {
  const { device, host } = await setup(t, { packetSize: 64 });
  const p = (n: number, fill: number) => new Uint8Array(n).fill(fill);
  device.sendPackets([p(64, 1), p(10, 2), p(0, 0), p(64, 3), p(64, 4), p(0, 0), p(1, 5)]);
  await waitFor('all bytes', () => host.size() === 64 + 10 + 128 + 1);
  assert.ok(host.bytes().equals(Buffer.concat([p(64, 1), p(10, 2), p(64, 3), p(64, 4), p(1, 5)])));
});

test('a write that fills whole packets ends with a zero-length packet; others do not', async (t) => {
  const { device, transport } = await setup(t, { packetSize: 64 });
  await transport.write(new Uint8Array(100));
  assert.equal(device.stats.zeroLengthOut, 0);
  await transport.write(new Uint8Array(128));
  assert.equal(device.stats.zeroLengthOut, 1);
});

test('bytes that arrive before anyone listens are kept for the listener', async () => {
  const device = new FakeUsbDevice();
  const transport = await openUsbTransport(device);
  await device.peer.write(Buffer.from('early'));
  await waitFor('the read loop to take the bytes', () => device.stats.transfersIn >= 2);
  const host = sink();
  transport.onData(host.push);
  assert.equal(host.bytes().toString(), 'early');
  await transport.close();
});

test('reads that time out are asked again, without closing the link', async (t) => {
  const { device, host, closes } = await setup(t, {}, { readTimeoutMs: 5 });
  await waitFor('a few timed-out reads', () => device.stats.transfersIn >= 4);
  await device.peer.write(Buffer.from('late'));
  await waitFor('the bytes', () => host.size() === 4);
  assert.deepEqual(closes, []);
});

for (const style of ['node-usb', 'webusb'] as const) {
  test(`a stalled endpoint is cleared and the link carries on (${style} style)`, async (t) => {
    const { device, transport, host, peer, closes } = await setup(t, { style });
    device.stall('in');
    device.stall('out');
    await transport.write(Buffer.from('after the stall'));
    await device.peer.write(Buffer.from('still here'));
    await waitFor('bytes both ways', () => host.size() === 10 && peer.size() === 15);
    assert.equal(host.bytes().toString(), 'still here');
    assert.equal(peer.bytes().toString(), 'after the stall');
    assert.equal(device.stats.clearHalts, 2);
    assert.deepEqual(closes, []);
  });

  test(`unplugging mid-transfer closes the link and refuses writes, in words (${style} style)`, async (t) => {
    const { device, transport, closes } = await setup(t, { style, outCapacity: 1024, vendorId: 0x1234, productId: 0x5678 });
    device.holdOut(true);
    const pending = transport.write(randomBytes(100_000));
    await waitFor('the device to stop taking bytes', () => device.bytesWaitingOut >= 1024);
    device.unplug();
    await assert.rejects(pending, /cannot send to the USB device 1234:5678: the USB device 1234:5678 was unplugged/);
    await waitFor('onClose', () => closes.length === 1);
    assert.equal(closes[0], 'the USB device 1234:5678 was unplugged');
    await assert.rejects(transport.write(Buffer.from('x')), /was unplugged/);
  });
}

test('the disconnect event closes the link even before a transfer fails', async (t) => {
  const usb = new FakeWebUsb();
  const device = new FakeUsbDevice({ serialNumber: 'A1' });
  usb.plug(device);
  const transport = await openUsbTransport(device, { usb });
  t.after(() => transport.close());
  const closes: string[] = [];
  transport.onClose((r) => closes.push(r));
  usb.announceDisconnect(device);
  await waitFor('onClose', () => closes.length === 1);
  assert.equal(closes[0], 'the USB device 1209:d0c4 (serial A1) was unplugged');
  await waitFor('the device to be let go', () => !device.opened);
  assert.equal(usb.listenerCount, 0, 'the transport stops listening once closed');
});

test('an endpoint that keeps stalling ends the link with the reason', async (t) => {
  const { device, closes } = await setup(t, {}, { maxStalls: 2, readTimeoutMs: 5 });
  device.stall('in', 10);
  await waitFor('onClose', () => closes.length === 1);
  assert.match(closes[0]!, /keeps stalling its bulk IN endpoint/);
});

test('a packet larger than the read (babble) ends the link with the reason a browser gives', async (t) => {
  const { device, closes } = await setup(t, { packetSize: 64, style: 'webusb' }, { packetsPerRead: 1 });
  device.sendPackets([new Uint8Array(100)]);
  await waitFor('onClose', () => closes.length === 1);
  assert.match(closes[0]!, /the USB device 1209:d0c4 sent more data than was asked for \(babble\)/);
});

test('node-usb reports a babble as Fault, which ends the link like an unplug (the dock manager re-docks a device still there)', async (t) => {
  const { device, closes } = await setup(t, { packetSize: 64 }, { packetsPerRead: 1 });
  device.sendPackets([new Uint8Array(100)]);
  await waitFor('onClose', () => closes.length === 1);
  assert.equal(closes[0], 'the USB device 1209:d0c4 was unplugged');
});

test('a device that stops taking bytes fails the write after the write timeout', async (t) => {
  const { device, transport, closes } = await setup(t, { outCapacity: 64 }, { writeTimeoutMs: 30 });
  device.holdOut(true);
  await assert.rejects(transport.write(randomBytes(4096)), /stopped accepting data \(nothing taken for 30 ms\)/);
  assert.equal(closes.length, 1);
});

test('close() tells the listener, releases the interface and closes the device; writes are refused after', async () => {
  const device = new FakeUsbDevice();
  const transport: Transport = await openUsbTransport(device);
  const closes: string[] = [];
  transport.onClose((r) => closes.push(r));
  await transport.close();
  await waitFor('onClose', () => closes.length === 1);
  assert.equal(closes[0], 'the station closed the USB link');
  assert.equal(device.opened, false);
  assert.deepEqual(device.stats.claimed, []);
  await assert.rejects(transport.write(Buffer.from('x')), /cannot send to the USB device 1209:d0c4: the station closed the USB link/);
  await transport.close(); // twice is fine
});

test('a device without a vendor bulk interface is refused, saying what it has', async () => {
  const device = new FakeUsbDevice({ interfaceNumber: 1, interfaceClass: 0x0a });
  await assert.rejects(openUsbTransport(device), (err: Error) => {
    assert.match(err.message, /does not offer a vendor-specific interface \(class 0xff\) with one bulk IN and one bulk OUT endpoint/);
    assert.match(err.message, /interface 0 alt 0 class 0x02.*interface 1 alt 0 class 0x0a/);
    return true;
  });
  assert.equal(device.opened, false, 'the device is closed again');
});

test('a device unplugged before it could be opened is reported as unplugged', async () => {
  const device = new FakeUsbDevice({ style: 'webusb' });
  device.unplug();
  await assert.rejects(openUsbTransport(device), /the USB device 1209:d0c4 was unplugged while opening it/);
});

// What the real stack showed (test/vm; webusb-fake.ts marks each point where the double models it).

test('closing the link while its read is pending releases the interface and closes the device (node-usb refuses both until the read settles)', async () => {
  const device = new FakeUsbDevice();
  const transport = await openUsbTransport(device, { readTimeoutMs: 200 });
  await waitFor('the read loop to have a transfer pending', () => device.transfersInFlight.in);
  assert.throws(() => device.releaseInterface(0), /cannot be borrowed mutably/, 'the double refuses as node-usb does');
  await transport.close();
  assert.equal(device.transfersInFlight.in, false, 'the pending read settled first');
  assert.deepEqual(device.stats.claimed, [], 'the interface was released');
  assert.equal(device.opened, false, 'and the device closed');
});

for (const unplugError of ['Fault', 'Disconnected'] as const) {
  test(`an unplug that fails the pending read with ${unplugError} reads as "unplugged"`, async (t) => {
    const { device, closes } = await setup(t, { unplugError, serialNumber: 'F1' });
    await waitFor('a read pending', () => device.transfersInFlight.in);
    device.unplug();
    await waitFor('onClose', () => closes.length === 1);
    assert.equal(closes[0], 'the USB device 1209:d0c4 (serial F1) was unplugged');
  });
}

test('the disconnect event of a device being closed is heard by the watcher and the transport, and nothing throws into the event dispatch', async (t) => {
  // A hot-plugged device: node-usb's event carries the very object the transport holds, and while its
  // release and close are under way node-usb refuses to read even its handle.
  const usb = new FakeWebUsb({ disconnectDelayMs: 5 });
  const thrown: unknown[] = [];
  const onUncaught = (err: unknown) => thrown.push(err);
  process.on('uncaughtException', onUncaught);
  t.after(() => process.off('uncaughtException', onUncaught));
  const seen: string[] = [];
  const watcher = watchUsbDevicesWith({
    filters: [{ vendorId: 0x1209 }], webusb: usb, log: (l) => seen.push(`log ${l}`),
    onConnect: () => seen.push('connect'), onDisconnect: () => seen.push('disconnect'),
  });
  t.after(() => watcher.close());
  await watcher.ready;
  usb.plug(new FakeUsbDevice({ serialNumber: 'H1', closeMs: 100 }));
  const device = watcher.devices()[0] as FakeUsbDevice;
  const transport = await openUsbTransport(device, { usb, readTimeoutMs: 50 });
  const closes: string[] = [];
  transport.onClose((r) => closes.push(r));
  await waitFor('a read pending', () => device.transfersInFlight.in);
  await usb.unplug(device);
  await transport.close();
  assert.deepEqual(thrown, []);
  assert.deepEqual(seen, ['connect', 'disconnect'], 'the watcher heard the unplug');
  assert.equal(closes[0], 'the USB device 1209:d0c4 (serial H1) was unplugged');
  assert.deepEqual(watcher.devices(), []);
});

test('writes stay one at a time on the OUT endpoint, which node-usb requires (a second transfer is refused)', async (t) => {
  const { device, transport, peer } = await setup(t, { packetSize: 64 }, { packetsPerWrite: 2 });
  const writes = Array.from({ length: 20 }, (_, i) => randomBytes(300 + i * 37));
  await Promise.all(writes.map((w) => transport.write(w)));
  await waitFor('every byte at the device', () => peer.size() === writes.reduce((n, w) => n + w.length, 0));
  assert.ok(peer.bytes().equals(Buffer.concat(writes)), 'in order, nothing interleaved or lost');
  await assert.rejects(Promise.all([device.transferOut(2, new Uint8Array(8)), device.transferOut(2, new Uint8Array(8))]),
    /transferOut error: endpoint not found/, 'the double refuses overlapping transfers as node-usb does');
});

test('frames written while a transfer is on its way leave together as one transfer, in order', async (t) => {
  const { device, transport, peer } = await setup(t, { packetSize: 64 }, { packetsPerWrite: 32 });
  const frames = Array.from({ length: 10 }, (_, i) => Buffer.alloc(100, i + 1));
  await Promise.all(frames.map((f) => transport.write(f)));
  await waitFor('every byte at the device', () => peer.size() === 1000);
  assert.ok(peer.bytes().equals(Buffer.concat(frames)));
  assert.deepEqual(device.stats.outSizes, [100, 900], 'the first frame alone, the nine queued behind it in one transfer');
});
