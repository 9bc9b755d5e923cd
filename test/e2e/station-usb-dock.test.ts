// The dock manager with USB devices: a real station (harness: real server, real SQLite), the real watcher,
// transport and link client, and the real agent's device side serving the far end of the in-memory WebUSB
// device (test/helpers/webusb-fake.ts: these machines have no USB bus; test/vm runs the same on a real one).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { prepareAgent, serveTransport } from '../../agent/agent.js';
import { DockManager } from '../../electron/station/docking.js';
import { readStatus } from '../../electron/station/status.js';
import { harness } from '../helpers/station-harness.js';
import { FakeUsbDevice, FakeWebUsb } from '../helpers/webusb-fake.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

async function agentDevice(t: TestContext, dir: string, id: string): Promise<FakeUsbDevice> {
  const ctx = await prepareAgent({ root: path.join(dir, id), id, name: `usb ${id}`, log: () => undefined });
  const device = new FakeUsbDevice({ serialNumber: id, packetSize: 64 });
  const stop = new AbortController();
  const served = serveTransport(ctx, device.peer, stop.signal);
  t.after(async () => {
    stop.abort();
    await served;
  });
  return device;
}

test('a USB device whose link closed while it stayed plugged in is docked again; one unplugged waits for its return', async (t) => {
  const h = await harness(t);
  const dir = tempDir(t);
  const station = await h.openStation();
  const usb = new FakeWebUsb();
  const logs: string[] = [];
  const manager = new DockManager(station, {
    serialPaths: [], serial: { baudRate: 115200 }, usb: [{ vendorId: 0x1209, productId: 0xd0c4 }], webusb: usb, retryMs: 50,
    log: (line) => logs.push(line),
  });
  t.after(() => manager.stop());
  await manager.start();

  const device = await agentDevice(t, dir, 'USB-R1');
  usb.plug(device);
  await waitFor('the device to dock', () => manager.docked().length === 1);
  const first = manager.docked()[0]!;
  assert.equal(first.hello.id, 'USB-R1');

  // A fault with the device still there (node-usb reports a babble as Fault): the link ends, the device
  // stays plugged in, and the manager docks it again.
  device.sendPackets([new Uint8Array(64 * 32 + 64)]);
  await waitFor('the first link to close', () => first.closed);
  await waitFor('the device to dock again', () => manager.docked().length === 1 && manager.docked()[0] !== first, 5000);
  assert.equal(readStatus(h.stationData).devices.find((d) => d.id === 'USB-R1')?.state, 'docked');

  // Unplugged for good: undocked, and no attempt on a device that is not there.
  await usb.unplug(device);
  await waitFor('the station to see the undock', () => readStatus(h.stationData).devices.find((d) => d.id === 'USB-R1')?.state === 'undocked');
  const attempts = logs.filter((l) => l.startsWith('no device answered')).length;
  await new Promise((r) => setTimeout(r, 300)); // six retry periods: none may fire for an absent device
  assert.equal(manager.docked().length, 0);
  assert.equal(logs.filter((l) => l.startsWith('no device answered')).length, attempts, `no retries: ${logs.join(' | ')}`);

  // Plugged back (a new device object, as node-usb makes one per plug-in): docked at once.
  const again = await agentDevice(t, dir, 'USB-R1');
  usb.plug(again);
  await waitFor('the device to dock after the re-plug', () => manager.docked().length === 1);
});

test('a USB device that cannot be opened as a link (no vendor interface, or a kernel driver holds it) is tried once per plug-in', async (t) => {
  const h = await harness(t);
  const station = await h.openStation();
  const usb = new FakeWebUsb();
  const logs: string[] = [];
  const manager = new DockManager(station, {
    serialPaths: [], serial: { baudRate: 115200 }, usb: [{ vendorId: 0x0403, productId: 0x6001 }], webusb: usb, retryMs: 20,
    log: (line) => logs.push(line),
  });
  t.after(() => manager.stop());
  await manager.start();
  // An FTDI-like adapter seen through WebUSB: its one interface is not the link's (a serial port reaches it).
  usb.plug(new FakeUsbDevice({ vendorId: 0x0403, productId: 0x6001, interfaceNumber: 1, interfaceClass: 0x0a }));
  await waitFor('the attempt to be logged', () => logs.some((l) => l.startsWith('no device answered')));
  await new Promise((r) => setTimeout(r, 200)); // ten retry periods: none may fire
  assert.equal(logs.filter((l) => l.startsWith('no device answered')).length, 1, logs.join(' | '));
  assert.match(logs.find((l) => l.startsWith('no device answered'))!, /does not offer a vendor-specific interface/);
});
