// The small rules behind the server's HTTP answers: byte ranges, If-Range, Host checking, the names
// of stored files, and the settings options' pairing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideRange, ifRangeHolds } from '../../server/package-files.js';
import { isSaneHost } from '../../server/http-io.js';
import { deviceFolderName, storedFileName } from '../../server/collected-files.js';
import { checkPackageFileName } from '../../server/package-store.js';
import { parseArgs } from '../../server/cli-args.js';
import { settingsChangeFromArgs, SETTINGS_OPTIONS } from '../../server/cli-settings.js';
import { InputError, normalizePackageId } from '../../server/input-error.js';
import { checkPublicUrl } from '../../server/http-server.js';

test('decideRange honours one bytes range and ignores what it does not understand', () => {
  assert.equal(decideRange(undefined, 100), 'whole');
  assert.deepEqual(decideRange('bytes=0-', 100), { start: 0, end: 99 });
  assert.deepEqual(decideRange('bytes=40-', 100), { start: 40, end: 99 });
  assert.deepEqual(decideRange('bytes=10-19', 100), { start: 10, end: 19 });
  assert.deepEqual(decideRange('bytes=90-500', 100), { start: 90, end: 99 });
  assert.deepEqual(decideRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(decideRange('bytes=-1000', 100), { start: 0, end: 99 });
  assert.deepEqual(decideRange(' Bytes = 5 - 6 ', 100), { start: 5, end: 6 });
  assert.equal(decideRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(decideRange('bytes=100-200', 100), 'unsatisfiable');
  assert.equal(decideRange('bytes=0-', 0), 'unsatisfiable');
  assert.equal(decideRange('bytes=-0', 100), 'unsatisfiable');
  assert.equal(decideRange('bytes=20-10', 100), 'whole');
  assert.equal(decideRange('bytes=0-1,5-6', 100), 'whole');
  assert.equal(decideRange('items=0-1', 100), 'whole');
  assert.equal(decideRange('bytes=-', 100), 'whole');
  assert.equal(decideRange('bytes=abc-', 100), 'whole');
});

test('If-Range holds only for the current strong ETag or the exact Last-Modified date', () => {
  const etag = '"abc"';
  const date = 'Sun, 22 Nov 2026 01:00:00 GMT';
  assert.equal(ifRangeHolds(undefined, etag, date), true);
  assert.equal(ifRangeHolds('"abc"', etag, date), true);
  assert.equal(ifRangeHolds('"abd"', etag, date), false);
  assert.equal(ifRangeHolds('W/"abc"', etag, date), false);
  assert.equal(ifRangeHolds(date, etag, date), true);
  assert.equal(ifRangeHolds('Sun, 22 Nov 2026 01:00:01 GMT', etag, date), false);
});

test('only plain host names, IPv4 and bracketed IPv6 with a sane port pass as Host', () => {
  for (const ok of ['localhost', '127.0.0.1:8080', 'dm.example.test', 'dm-1.example.test:65535', '[::1]:80', 'a.b.']) {
    assert.equal(isSaneHost(ok), true, ok);
  }
  for (const bad of ['', 'a b', 'x/y', 'x\r\nSet-Cookie: a', 'user@host', 'host:99999', 'host:', '-lead.example', '"quoted"', 'h\u0000']) {
    assert.equal(isSaneHost(bad), false, JSON.stringify(bad));
  }
});

test('collected files get names of our own, whatever the device claims', () => {
  assert.equal(storedFileName('\\\\myDir\\apps\\notepad.exe'), 'notepad.exe');
  assert.equal(storedFileName('..\\..\\etc\\passwd'), 'passwd');
  assert.equal(storedFileName('/etc/passwd'), 'passwd');
  assert.equal(storedFileName('C:\\x'), 'x');
  assert.equal(storedFileName('..'), 'file');
  assert.equal(storedFileName('\\'), 'file');
  assert.equal(storedFileName('a\u0000b'), 'a_b');
  assert.equal(storedFileName('.hidden'), 'hidden');
  assert.ok(storedFileName('x'.repeat(500)).length <= 80);
  assert.equal(deviceFolderName('DEV-1'), 'DEV-1');
  const evil = deviceFolderName('../../evil');
  assert.match(evil, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
  assert.notEqual(deviceFolderName('a/b'), deviceFolderName('a_b'), 'changed IDs do not collide with real ones');
  assert.match(deviceFolderName(''), /^device-[0-9a-f]{12}$/);
});

test('package file names must be one name valid on Windows CE and here', () => {
  assert.equal(checkPackageFileName('setup tool.cab'), 'setup tool.cab');
  for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'c:x', 'x?', 'trailing.', 'trailing ', 'nul\u0000', 'x'.repeat(201)]) {
    assert.throws(() => checkPackageFileName(bad), InputError, JSON.stringify(bad));
  }
});

test('package IDs are GUIDs, normalised to upper case without braces', () => {
  assert.equal(normalizePackageId('{9a437ca5-5b17-4486-9e87-260742074a72}'), '9A437CA5-5B17-4486-9E87-260742074A72');
  assert.throws(() => normalizePackageId('../../x'), InputError);
  assert.throws(() => normalizePackageId('9A437CA5-5B17-4486-9E87'), InputError);
});

test('public URLs must be absolute http(s) without query or credentials', () => {
  assert.equal(checkPublicUrl('https://dm.example.test/dockhand/'), 'https://dm.example.test/dockhand');
  assert.equal(checkPublicUrl('http://10.0.0.1:8080'), 'http://10.0.0.1:8080');
  for (const bad of ['dm.example.test', 'ftp://x', 'http://x/?a=1', 'http://u:p@x/']) assert.throws(() => checkPublicUrl(bad), InputError, bad);
});

test('settings options pair --filter/--path/--recursive in order with the block named before them', () => {
  const change = settingsChangeFromArgs(parseArgs([
    '--poll-interval', '0000-00-00 00:05:00', '--retry-count', '3',
    '--software-inventory', 'on', '--filter', '*.exe', '--path', '\\Windows', '--recursive', 'yes', '--filter', '*.dll', '--path', '\\',
    '--file-collection', 'off', '--filter', '*.log', '--path', '\\Temp',
    '--machine-inventory', 'on',
  ], SETTINGS_OPTIONS));
  assert.equal(change.pollIntervalMs, 300_000);
  assert.equal(change.retryCount, 3);
  assert.deepEqual(change.softwareInventory?.filters?.map((f) => [f.Filter, f.Path, f.Recursive]), [['*.exe', '\\Windows', true], ['*.dll', '\\', false]]);
  assert.equal(change.softwareInventory?.enabled, true);
  assert.deepEqual(change.fileCollection, { enabled: false, filters: [{ Filter: '*.log', Path: '\\Temp', Recursive: false, ExcludeCompressed: false, ExcludeEncrypted: false }] });
  assert.deepEqual(change.machineInventory, { enabled: true });
  // a block switched on without filters leaves its stored filters alone
  assert.equal(settingsChangeFromArgs(parseArgs(['--software-inventory', 'off'], SETTINGS_OPTIONS)).softwareInventory?.filters, undefined);
  assert.throws(() => settingsChangeFromArgs(parseArgs(['--machine-inventory', 'on', '--filter', 'x', '--path', 'y'], SETTINGS_OPTIONS)), /must follow/);
  assert.throws(() => settingsChangeFromArgs(parseArgs(['--software-inventory', 'maybe'], SETTINGS_OPTIONS)), /yes or no/);
  assert.throws(() => settingsChangeFromArgs(parseArgs(['--software-inventory', 'on', '--software-inventory', 'off'], SETTINGS_OPTIONS)), /more than once/);
});
