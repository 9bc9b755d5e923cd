// The agent's USB gadget function, byte for byte: the FunctionFS descriptors and strings it writes to ep0
// (include/uapi/linux/usb/functionfs.h, USB 2.0 §9.6, USB 3.2 §9.6.7), the events it reads back, and how it
// splits its writes so every transfer ends the station's read. The kernel side runs in test/vm (FunctionFS
// on dummy_hcd, found by node-usb); no machine here has a UDC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_SIZE, functionFsDescriptors, functionFsStrings, parseFunctionFsEvents } from '../../agent/usb-gadget-descriptors.js';
import { gadgetWrites } from '../../agent/usb-gadget.js';

test('the descriptors: v2 header, then full, high and SuperSpeed sets of one vendor interface with bulk IN and OUT', () => {
  const d = functionFsDescriptors();
  assert.equal(d.readUInt32LE(0), 3, 'FUNCTIONFS_DESCRIPTORS_MAGIC_V2');
  assert.equal(d.readUInt32LE(4), d.length, 'the length covers the whole block');
  assert.equal(d.readUInt32LE(8), 1 | 2 | 4, 'HAS_FS_DESC | HAS_HS_DESC | HAS_SS_DESC');
  assert.deepEqual([d.readUInt32LE(12), d.readUInt32LE(16), d.readUInt32LE(20)], [3, 3, 5], 'descriptor counts per speed');
  let at = 24;
  const next = () => {
    const len = d[at]!;
    const desc = d.subarray(at, at + len);
    at += len;
    return desc;
  };
  for (const [speed, packet] of [['full', 64], ['high', 512], ['super', 1024]] as const) {
    const iface = next();
    assert.deepEqual([...iface], [9, 4, 0, 0, 2, 0xff, 0, 0, 1], `${speed} speed: interface 0, two endpoints, class 0xFF, string 1`);
    for (const address of [0x81, 0x02]) {
      const ep = next();
      assert.deepEqual([ep[0], ep[1], ep[2], ep[3], ep.readUInt16LE(4), ep[6]], [7, 5, address, 2, packet, 0], `${speed} speed endpoint 0x${address.toString(16)}: bulk, ${packet}-byte packets`);
      if (speed === 'super') assert.deepEqual([...next()], [6, 0x30, 0, 0, 0, 0], 'SuperSpeed endpoint companion');
    }
  }
  assert.equal(at, d.length, 'nothing after the last descriptor');
});

test('the strings: one US English string, the interface name, NUL-terminated', () => {
  const s = functionFsStrings('Dockhand link');
  assert.equal(s.readUInt32LE(0), 2, 'FUNCTIONFS_STRINGS_MAGIC');
  assert.equal(s.readUInt32LE(4), s.length);
  assert.deepEqual([s.readUInt32LE(8), s.readUInt32LE(12), s.readUInt16LE(16)], [1, 1, 0x0409]);
  assert.equal(s.subarray(18).toString('utf8'), 'Dockhand link\0');
});

test('ep0 events: 12 bytes each, type at byte 8, the control request of a SETUP in front', () => {
  const ev = (type: number, setup: number[] = [0, 0, 0, 0, 0, 0, 0, 0]) => Buffer.from([...setup, type, 0, 0, 0]);
  const bytes = Buffer.concat([ev(0), ev(2), ev(4, [0xc1, 0x42, 0x34, 0x12, 0x01, 0x00, 0x40, 0x00]), ev(3), ev(1), ev(9)]);
  assert.equal(bytes.length, 6 * EVENT_SIZE);
  const events = parseFunctionFsEvents(bytes);
  assert.deepEqual(events.map((e) => e.type), ['bind', 'enable', 'setup', 'disable', 'unbind', 'unknown 9']);
  assert.deepEqual(events[2]!.setup, { requestType: 0xc1, request: 0x42, value: 0x1234, index: 1, length: 64 });
  assert.deepEqual(parseFunctionFsEvents(bytes.subarray(0, 20)).map((e) => e.type), ['bind'], 'a partial event is not read');
});

test('writes: each ends with a short packet, splitting off the last byte of a whole number of packets', () => {
  const sizes = (n: number) => gadgetWrites(new Uint8Array(n)).map((p) => p.length);
  assert.deepEqual(sizes(100), [100]);
  assert.deepEqual(sizes(64), [63, 1], 'one full-speed packet exactly: its last byte goes alone');
  assert.deepEqual(sizes(1024), [1023, 1]);
  assert.deepEqual(sizes(16 * 1024 + 10), [16 * 1024, 10], 'large writes go in 16 KiB requests');
  assert.deepEqual(sizes(32 * 1024), [16 * 1024, 16 * 1024 - 1, 1]);
  const data = Uint8Array.from({ length: 40_000 }, (_, i) => i % 251);
  assert.deepEqual(Buffer.concat(gadgetWrites(data)), Buffer.from(data), 'the pieces are the bytes, in order');
});
