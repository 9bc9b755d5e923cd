// USB hotplug: devices present at start and connect/disconnect events, filtered by VID/PID; a machine
// without a USB bus means "no devices", said once, never a crash (checked against the real node-usb too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeWebUsb, openUsbTransport, watchUsbDevices, type UsbDeviceLike } from '../../electron/link/usb.js';
import { FakeUsbDevice, FakeWebUsb } from '../helpers/webusb-fake.js';
import { waitFor } from '../helpers/tmp.js';

function recorder() {
  const events: string[] = [];
  const name = (d: UsbDeviceLike) => `${d.vendorId.toString(16)}:${d.productId.toString(16)}:${d.serialNumber ?? ''}`;
  return {
    events,
    onConnect: (d: UsbDeviceLike) => events.push(`+${name(d)}`),
    onDisconnect: (d: UsbDeviceLike) => events.push(`-${name(d)}`),
  };
}

test('getDevices() rejecting (no USB bus) means no devices, logged once, and no event subscription', async () => {
  const usb = new FakeWebUsb({ noBus: true });
  const rec = recorder();
  const logs: string[] = [];
  const w = watchUsbDevices({ filters: [], webusb: usb, ...rec, log: (l) => logs.push(l) });
  await w.ready;
  assert.equal(w.state, 'no-usb');
  assert.match(w.problem ?? '', /no USB bus is reachable \(getDevices error: \/sys\/bus\/usb\/devices\/ not found/);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /USB devices will not be detected/);
  assert.deepEqual(w.devices(), []);
  assert.equal(usb.listenerCount, 0);
  w.close();
});

test('reports the matching devices present at start, filtered by vendor and product ID', async () => {
  const usb = new FakeWebUsb();
  usb.plug(new FakeUsbDevice({ vendorId: 0x1234, productId: 0x5678, serialNumber: 'a' }));
  usb.plug(new FakeUsbDevice({ vendorId: 0x1234, productId: 0x9999, serialNumber: 'b' }));
  usb.plug(new FakeUsbDevice({ vendorId: 0xabcd, productId: 0x5678, serialNumber: 'c' }));
  const exact = recorder();
  const w1 = watchUsbDevices({ filters: [{ vendorId: 0x1234, productId: 0x5678 }], webusb: usb, ...exact });
  await w1.ready;
  assert.deepEqual(exact.events, ['+1234:5678:a']);
  const vendor = recorder();
  const w2 = watchUsbDevices({ filters: [{ vendorId: 0x1234 }], webusb: usb, ...vendor });
  await w2.ready;
  assert.deepEqual(vendor.events.sort(), ['+1234:5678:a', '+1234:9999:b']);
  assert.equal(w2.devices().length, 2);
  w1.close();
  w2.close();
});

test('connect and disconnect events come through the filter; close() stops listening', async () => {
  const usb = new FakeWebUsb();
  const rec = recorder();
  const w = watchUsbDevices({ filters: [{ vendorId: 0x1234, productId: 0x5678 }, { vendorId: 0x2222, productId: 0x0001 }], webusb: usb, ...rec });
  await w.ready;
  assert.equal(w.state, 'watching');
  const a = new FakeUsbDevice({ vendorId: 0x1234, productId: 0x5678, serialNumber: 'a' });
  const other = new FakeUsbDevice({ vendorId: 0x1234, productId: 0x0001, serialNumber: 'x' });
  const b = new FakeUsbDevice({ vendorId: 0x2222, productId: 0x0001, serialNumber: 'b' });
  usb.plug(a);
  usb.plug(other);
  usb.plug(b);
  await usb.unplug(other);
  await usb.unplug(a);
  assert.deepEqual(rec.events, ['+1234:5678:a', '+2222:1:b', '-1234:5678:a']);
  assert.deepEqual(w.devices(), [b]);
  w.close();
  assert.equal(w.state, 'closed');
  assert.equal(usb.listenerCount, 0);
  await usb.unplug(b);
  assert.equal(rec.events.length, 3, 'nothing reported after close');
});

test('a device plugged in before the watcher subscribed is still reported, once', async () => {
  const usb = new FakeWebUsb();
  const late = new FakeUsbDevice({ serialNumber: 'late' });
  const realGet = usb.getDevices.bind(usb);
  // The device arrives between the first look and the subscription: no event is heard for it.
  usb.getDevices = async () => {
    const first = await realGet();
    if (usb.getDevicesCalls === 1) usb.plug(late);
    return first;
  };
  const rec = recorder();
  const w = watchUsbDevices({ filters: [{ vendorId: 0x1209 }], webusb: usb, ...rec });
  await w.ready;
  assert.deepEqual(rec.events, ['+1209:d0c4:late']);
  w.close();
});

test('a plug-in or unplug whose event was lost is caught by the periodic look at the device list', async () => {
  const usb = new FakeWebUsb();
  const rec = recorder();
  const logs: string[] = [];
  const w = watchUsbDevices({ filters: [{ vendorId: 0x1209 }], webusb: usb, rescanMs: 20, ...rec, log: (l) => logs.push(l) });
  await w.ready;
  const gadget = new FakeUsbDevice({ serialNumber: 'GADGET-1' });
  usb.attachQuietly(gadget);
  usb.attachQuietly(new FakeUsbDevice({ vendorId: 0x0403, productId: 0x6001, serialNumber: 'ftdi' }));
  await waitFor('the lost plug-in to be found', () => rec.events.length === 1, 2000);
  assert.deepEqual(rec.events, ['+1209:d0c4:GADGET-1'], 'only the matching device, once');
  assert.match(logs.join('\n'), /USB device 1209:d0c4 \(serial GADGET-1\) found in the device list; its plug-in event never came/);
  const listsBefore = usb.getDevicesCalls;
  await waitFor('more looks', () => usb.getDevicesCalls >= listsBefore + 3, 2000);
  assert.deepEqual(rec.events, ['+1209:d0c4:GADGET-1'], 'a device already known is not reported again');

  usb.detachQuietly(gadget);
  await waitFor('the lost unplug to be noticed', () => rec.events.length === 2, 2000);
  assert.deepEqual(rec.events, ['+1209:d0c4:GADGET-1', '-1209:d0c4:GADGET-1']);
  assert.match(logs.join('\n'), /no longer in the device list; its unplug event never came/);
  assert.deepEqual(w.devices(), []);
  w.close();
  const closedAt = usb.getDevicesCalls;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(usb.getDevicesCalls, closedAt, 'no looks after close');
});

test('a device missing from one listing only is not reported gone', async () => {
  const usb = new FakeWebUsb();
  const device = new FakeUsbDevice({ serialNumber: 'busy' });
  usb.plug(device);
  const rec = recorder();
  const realGet = usb.getDevices.bind(usb);
  let skipNext = false;
  usb.getDevices = async () => {
    const listed = await realGet();
    if (!skipNext) return listed;
    skipNext = false;
    return listed.filter((d) => d !== device);
  };
  const w = watchUsbDevices({ filters: [{ vendorId: 0x1209 }], webusb: usb, rescanMs: 20, ...rec });
  await w.ready;
  for (let i = 0; i < 5; i++) {
    skipNext = true;
    const calls = usb.getDevicesCalls;
    await waitFor('two more looks', () => usb.getDevicesCalls >= calls + 2, 2000);
  }
  assert.deepEqual(rec.events, ['+1209:d0c4:busy'], 'one listing without it, then one with it: still there');
  w.close();
});

test('an empty filter list reports no device at all', async () => {
  const usb = new FakeWebUsb();
  usb.plug(new FakeUsbDevice());
  const rec = recorder();
  const w = watchUsbDevices({ filters: [], webusb: usb, ...rec });
  await w.ready;
  usb.plug(new FakeUsbDevice({ serialNumber: 'x' }));
  assert.deepEqual(rec.events, []);
  w.close();
});

test('a failing handler is logged and the watcher carries on', async () => {
  const usb = new FakeWebUsb();
  const logs: string[] = [];
  const seen: UsbDeviceLike[] = [];
  const w = watchUsbDevices({
    filters: [{ vendorId: 0x1209, productId: 0xd0c4 }], webusb: usb, log: (l) => logs.push(l),
    onConnect: (d) => {
      seen.push(d);
      if (seen.length === 1) throw new Error('boom');
    },
    onDisconnect: () => undefined,
  });
  await w.ready;
  usb.plug(new FakeUsbDevice({ serialNumber: '1' }));
  usb.plug(new FakeUsbDevice({ serialNumber: '2' }));
  assert.equal(seen.length, 2);
  assert.match(logs.join('\n'), /the connect handler failed: boom/);
  w.close();
});

test('when USB support cannot be loaded the watcher reports no devices', async () => {
  const rec = recorder();
  const w = watchUsbDevices({ filters: [], ...rec, webusb: () => Promise.reject(new Error('no prebuilt binary for this platform')) });
  await w.ready;
  assert.equal(w.state, 'no-usb');
  assert.match(w.problem ?? '', /USB support could not be loaded \(no prebuilt binary/);
});

test('a device found by the watcher opens, and its unplug closes the transport promptly', async () => {
  const usb = new FakeWebUsb();
  let found: UsbDeviceLike | undefined;
  const w = watchUsbDevices({ filters: [{ vendorId: 0x1209 }], webusb: usb, onConnect: (d) => (found = d), onDisconnect: () => undefined });
  await w.ready;
  const device = new FakeUsbDevice({ serialNumber: 'dock1' });
  usb.plug(device);
  assert.ok(found);
  const transport = await openUsbTransport(found, { usb });
  const closes: string[] = [];
  transport.onClose((r) => closes.push(r));
  usb.unplug(device);
  await waitFor('onClose', () => closes.length === 1);
  assert.equal(closes[0], 'the USB device 1209:d0c4 (serial dock1) was unplugged');
  w.close();
});

test('with the real node-usb on this machine the watcher settles without crashing the process', async () => {
  const logs: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const w = watchUsbDevices({ filters: [{ vendorId: 0x1209, productId: 0xd0c4 }], onConnect: () => undefined, onDisconnect: () => undefined, log: (l) => logs.push(l) });
    await w.ready;
    // No USB bus here (getDevices rejects); a machine with one watches instead. Either way: settled.
    assert.ok(w.state === 'no-usb' || w.state === 'watching', `state ${w.state}`);
    const real = await nodeWebUsb();
    if (w.state === 'no-usb') {
      assert.equal(logs.length, 1);
      assert.match(w.problem ?? '', /no USB bus is reachable|USB support could not be loaded/);
      // Subscribing would have made node-usb start a getDevices() whose rejection nobody can catch.
      assert.equal((real as unknown as { listenerCount: number }).listenerCount, 0);
    }
    w.close();
    // One more native round trip, long enough for a stray rejection from inside node-usb to surface.
    await real.getDevices().catch(() => undefined);
    await new Promise<void>((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
