import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDeviceHeaders, readDeviceHeaders, HEADER, ProtocolError } from '../../shared/protocol/index.js';

const base = { uuid: '43004500500043000000434550434B5335343934350000000000', auth: 'd302b047-c9a2-4a11-a392-df84195d2808', timestamp: '', clientVersion: '1.0' };

test('the standard set is always written, the empty first-poll timestamp included', () => {
  const h = buildDeviceHeaders({ ...base, action: 'Poll' });
  assert.deepEqual(h, {
    'X-Device-UUID': base.uuid, 'X-Device-Auth': base.auth, 'X-Device-Timestamp': '', 'X-Device-client-version': '1.0',
    'X-Device-Action': 'Poll',
  });
});

test('headers round-trip through lower-cased names, as node delivers them', () => {
  const sent = { ...base, timestamp: '11/11/2002 10:40:30 AM', action: 'Report' as const, reportType: 'FileCollection' as const,
    fullyQualifiedFilename: '\\myDir\\apps\\notepad.exe' };
  const lower = Object.fromEntries(Object.entries(buildDeviceHeaders(sent)).map(([k, v]) => [k.toLowerCase(), v]));
  assert.deepEqual(readDeviceHeaders(lower), sent);
});

test('reading is case-insensitive and tolerant: odd spellings, arrays, empty values, unknown actions', () => {
  const got = readDeviceHeaders({
    'x-device-uuid': ['ABC', 'DEF'], 'X-DEVICE-AUTH': '', 'x-device-reporttype': 'machineinventory',
    'x-device-action': 'Teleport', 'x-device-timestamp': undefined, host: 'example',
  });
  assert.deepEqual(got, { uuid: 'ABC', auth: '', reportType: 'MachineInventory' });
  assert.equal(readDeviceHeaders({ 'x-device-action': 'status' }).action, 'Status');
});

test('file collection paths accept a doubled leading backslash', () => {
  assert.equal(readDeviceHeaders({ [HEADER.FullyQualifiedFilename]: '\\\\myDir\\apps\\notepad.exe' }).fullyQualifiedFilename,
    '\\myDir\\apps\\notepad.exe');
  assert.equal(readDeviceHeaders({ [HEADER.FullyQualifiedFilename]: '\\myDir\\notepad.exe' }).fullyQualifiedFilename,
    '\\myDir\\notepad.exe');
});

test('non-ASCII file names travel as UTF-8 bytes and come back as text', () => {
  const name = '\\Storage Card\\Größe – 日本.txt';
  const h = buildDeviceHeaders({ ...base, action: 'Report', reportType: 'FileCollection', fullyQualifiedFilename: name });
  const wire = h[HEADER.FullyQualifiedFilename] as string;
  assert.match(wire, /^[\x20-\xff]+$/); // every character is one byte on the wire
  assert.deepEqual(Uint8Array.from(wire, (c) => c.charCodeAt(0)), new TextEncoder().encode(name));
  assert.equal(readDeviceHeaders(h).fullyQualifiedFilename, name);
  // A latin1 value that is not UTF-8 is kept as it came.
  assert.equal(readDeviceHeaders({ [HEADER.FullyQualifiedFilename]: '\\caf\xe9.txt' }).fullyQualifiedFilename, '\\caf\xe9.txt');
});

test('CR, LF and other control characters in a value are refused (no header injection)', () => {
  for (const evil of ['a\r\nX-Injected: 1', 'a\nb', 'a\u0000b', 'a\u007fb']) {
    assert.throws(() => buildDeviceHeaders({ ...base, auth: evil }),
      (e: unknown) => e instanceof ProtocolError && e.path === 'X-Device-Auth' && /control character/.test(e.problem));
  }
  assert.throws(() => buildDeviceHeaders({ ...base, action: 'Nope' as never }), ProtocolError);
});
