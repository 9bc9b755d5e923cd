// Serial discovery with injected port listings: VID/PID filtering, explicit paths, add/remove between
// scans, failing listings. One test polls a real file path with the real default presence check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { watchSerialPorts, type DiscoveredPort, type SerialDiscoveryOptions, type SerialPortInfo } from '../../electron/link/discovery.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const ftdi = (p: string, serial = 'FT1'): SerialPortInfo => ({ path: p, vendorId: '0403', productId: '6001', serialNumber: serial, manufacturer: 'FTDI' });
const dock = (p: string, serial = 'D1'): SerialPortInfo => ({ path: p, vendorId: '1209', productId: 'D0C4', serialNumber: serial });

function harness(t: { after(fn: () => unknown): void }, over: Partial<SerialDiscoveryOptions> & { ports?: SerialPortInfo[] } = {}) {
  const state = { ports: over.ports ?? [], fail: undefined as string | undefined, existing: new Set<string>(), listCalls: 0 };
  const events: string[] = [];
  const logs: string[] = [];
  const d = watchSerialPorts({
    usb: [{ vendorId: 0x1209, productId: 0xd0c4 }],
    paths: [],
    intervalMs: 60_000, // scans are driven by hand
    list: async () => {
      state.listCalls += 1;
      if (state.fail) throw new Error(state.fail);
      return state.ports;
    },
    exists: async (p) => state.existing.has(p),
    resolve: async (p) => p,
    onAttach: (p: DiscoveredPort) => events.push(`+${p.via} ${p.path}${p.serialNumber ? ` ${p.serialNumber}` : ''}`),
    onDetach: (p: DiscoveredPort) => events.push(`-${p.via} ${p.path}`),
    log: (l) => logs.push(l),
    ...over,
  });
  t.after(() => d.close());
  return { d, state, events, logs };
}

test('only listed ports whose VID:PID matches a filter are reported, with their USB details', async (t) => {
  const { d, events } = harness(t, { ports: [ftdi('/dev/ttyUSB0'), dock('/dev/ttyACM0'), { path: '/dev/ttyS0' }] });
  await d.ready;
  assert.deepEqual(events, ['+usb /dev/ttyACM0 D1']);
  assert.deepEqual(d.ports(), [{ path: '/dev/ttyACM0', via: 'usb', vendorId: 0x1209, productId: 0xd0c4, serialNumber: 'D1' }]);
});

test('ports appearing and disappearing between scans become attach and detach events', async (t) => {
  const { d, state, events } = harness(t);
  await d.ready;
  assert.deepEqual(events, []);
  state.ports = [dock('/dev/ttyACM0'), dock('/dev/ttyACM1', 'D2')];
  await d.scan();
  state.ports = [dock('/dev/ttyACM1', 'D2')];
  await d.scan();
  await d.scan(); // no change, no event
  assert.deepEqual(events, ['+usb /dev/ttyACM0 D1', '+usb /dev/ttyACM1 D2', '-usb /dev/ttyACM0']);
});

test('another device at the same path between two scans is a detach then an attach', async (t) => {
  const { d, state, events } = harness(t, { ports: [dock('/dev/ttyACM0', 'OLD')] });
  await d.ready;
  state.ports = [dock('/dev/ttyACM0', 'NEW')];
  await d.scan();
  assert.deepEqual(events, ['+usb /dev/ttyACM0 OLD', '-usb /dev/ttyACM0', '+usb /dev/ttyACM0 NEW']);
});

test('explicit paths are present while they exist, without being listed', async (t) => {
  const { d, state, events } = harness(t, { paths: ['/tmp/station-pty'] });
  await d.ready;
  assert.deepEqual(events, []);
  state.existing.add('/tmp/station-pty');
  await d.scan();
  state.existing.delete('/tmp/station-pty');
  await d.scan();
  assert.deepEqual(events, ['+path /tmp/station-pty', '-path /tmp/station-pty']);
});

test('with no --usb filter the port list is not even asked for', async (t) => {
  const { d, state, events } = harness(t, { usb: [], paths: ['/dev/ttyS1'], ports: [dock('/dev/ttyACM0')] });
  state.existing.add('/dev/ttyS1');
  await d.ready;
  await d.scan();
  assert.equal(state.listCalls, 0);
  assert.deepEqual(events, ['+path /dev/ttyS1']);
});

test('a failing listing changes nothing and is logged once until it works again', async (t) => {
  const { d, state, events, logs } = harness(t, { ports: [dock('/dev/ttyACM0')] });
  await d.ready;
  state.fail = 'udevadm: not found';
  await d.scan();
  await d.scan();
  assert.deepEqual(events, ['+usb /dev/ttyACM0 D1'], 'the port is not dropped because listing failed');
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /could not list serial ports \(udevadm: not found\); explicit --port paths are still watched/);
  state.fail = undefined;
  state.ports = [];
  await d.scan();
  assert.deepEqual(events, ['+usb /dev/ttyACM0 D1', '-usb /dev/ttyACM0']);
  assert.match(logs[1]!, /works again/);
});

test('a listed port that is also given explicitly (through a link) is reported once, by its explicit name', async (t) => {
  const { d, state, events } = harness(t, {
    paths: ['/dev/serial/by-id/usb-Dockhand-if00'],
    ports: [dock('/dev/ttyACM0')],
    resolve: async (p) => (p === '/dev/serial/by-id/usb-Dockhand-if00' ? '/dev/ttyACM0' : p),
  });
  state.existing.add('/dev/serial/by-id/usb-Dockhand-if00');
  await d.scan();
  assert.deepEqual(events, ['+path /dev/serial/by-id/usb-Dockhand-if00']);
});

test('listings with odd or missing USB IDs are skipped, not fatal', async (t) => {
  const { d, events } = harness(t, { ports: [{ path: '/dev/a', vendorId: 'zz', productId: '1' }, { path: '/dev/b', vendorId: '1209' }, dock('/dev/c')] });
  await d.ready;
  assert.deepEqual(events, ['+usb /dev/c D1']);
});

test('a throwing handler is logged and discovery carries on', async (t) => {
  const seen: string[] = [];
  const { d, logs } = harness(t, {
    ports: [dock('/dev/ttyACM0'), dock('/dev/ttyACM1', 'D2')],
    onAttach: (p) => {
      seen.push(p.path);
      if (p.path === '/dev/ttyACM0') throw new Error('boom');
    },
  });
  await d.ready;
  assert.deepEqual(seen, ['/dev/ttyACM0', '/dev/ttyACM1']);
  assert.match(logs.join('\n'), /the attach handler failed for \/dev\/ttyACM0: boom/);
});

test('polling on its own notices a real path (a link, as socat makes) appear and go away', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'pts-7');
  const link = path.join(dir, 'station');
  writeFileSync(target, '');
  const events: string[] = [];
  const d = watchSerialPorts({
    usb: [], paths: [link], intervalMs: 20, list: async () => [],
    onAttach: (p) => events.push(`+${p.path}`), onDetach: (p) => events.push(`-${p.path}`),
  });
  t.after(() => d.close());
  await d.ready;
  assert.deepEqual(events, []);
  symlinkSync(target, link);
  await waitFor('the attach', () => events.length === 1, 5000);
  rmSync(target); // a dangling link is not a port
  await waitFor('the detach', () => events.length === 2, 5000);
  assert.deepEqual(events, [`+${link}`, `-${link}`]);
});
