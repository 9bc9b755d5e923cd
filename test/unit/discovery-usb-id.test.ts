// `--usb VID:PID` parsing: hex in any case, optional 0x, and refusals that say what to type instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUsbId, parseUsbIds, UsbIdFormatError } from '../../electron/link/discovery.js';

test('reads VID:PID in hex, any case, with or without 0x and surrounding spaces', () => {
  assert.deepEqual(parseUsbId('1209:d0c4'), { vendorId: 0x1209, productId: 0xd0c4 });
  assert.deepEqual(parseUsbId(' 0x0403:0X6001 '), { vendorId: 0x0403, productId: 0x6001 });
  assert.deepEqual(parseUsbId('ABCD:ef'), { vendorId: 0xabcd, productId: 0xef });
  assert.deepEqual(parseUsbIds(['1:2', 'ffff:0000']), [{ vendorId: 1, productId: 2 }, { vendorId: 0xffff, productId: 0 }]);
});

const refusals: [string, RegExp][] = [
  ['', /a USB ID is empty; write it as VID:PID in hex/],
  ['12345678', /"12345678" is not a USB ID: it needs exactly one colon/],
  ['1:2:3', /needs exactly one colon/],
  ['12g4:5678', /the vendor ID "12g4" is not a hex number of 1 to 4 digits/],
  ['1234:56789', /the product ID "56789" is not a hex number of 1 to 4 digits/],
  ['1234:', /"1234:" is not a USB ID: the product ID is missing/],
  [':5678', /the vendor ID is missing/],
  ['-1:5', /the vendor ID "-1" is not a hex number/],
];

for (const [text, why] of refusals) {
  test(`refuses ${JSON.stringify(text)} with words`, () => {
    assert.throws(() => parseUsbId(text), (err: Error) => {
      assert.ok(err instanceof UsbIdFormatError);
      assert.match(err.message, why);
      assert.match(err.message, /e\.g\. 1209:d0c4/);
      return true;
    });
  });
}

test('a list stops at the first bad value, naming it', () => {
  assert.throws(() => parseUsbIds(['1209:d0c4', 'nope']), /"nope" is not a USB ID/);
});
