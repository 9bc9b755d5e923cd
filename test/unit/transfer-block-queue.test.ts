// The block queue between the socket and the partial file: bytes come out in order, in views that never
// cross a block, and a block is reused only after the view that emptied it was given back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BlockQueue } from '../../electron/engine/transfer/block-queue.js';

test('bytes pushed in pieces of any size come out in order, a block at a time', () => {
  const q = new BlockQueue(1000, 2);
  const input = randomBytes(3500);
  for (const [a, b] of [[0, 10], [10, 1700], [1700, 1701], [1701, 3500]] as const) q.push(input.subarray(a, b));
  assert.equal(q.size, 3500);
  assert.equal(q.frontFull, true);
  const out: Buffer[] = [];
  for (let view = q.take(1000); view; view = q.take(1000)) {
    assert.ok(view.bytes.length <= 1000, 'a view never crosses a block');
    out.push(Buffer.from(view.bytes));
    q.recycle(view);
  }
  assert.deepEqual(Buffer.concat(out), input);
  assert.equal(q.size, 0);
});

test('a partly filled block can be taken and then filled further; views taken earlier stay intact', () => {
  const q = new BlockQueue(8, 1);
  q.push(Buffer.from('abc'));
  assert.equal(q.frontFull, false);
  assert.equal(q.frontBytes, 3);
  const first = q.take(8)!;
  assert.equal(first.emptied, null, 'the block is not empty for good: more bytes go into it');
  q.push(Buffer.from('defghijk'));
  assert.equal(first.bytes.toString(), 'abc');
  const second = q.take(2)!;
  assert.equal(second.bytes.toString(), 'de', 'a share smaller than the block');
  const third = q.take(8)!;
  assert.equal(third.bytes.toString(), 'fgh');
  assert.ok(third.emptied, 'this view emptied the full block');
  assert.equal(q.take(8)!.bytes.toString(), 'ijk');
});

test('a block comes back for reuse only through recycle, and clear drops what is queued', () => {
  const q = new BlockQueue(4, 1);
  q.push(Buffer.from('wxyz'));
  const view = q.take(4)!;
  q.push(Buffer.from('1234'));
  assert.equal(view.bytes.toString(), 'wxyz', 'not overwritten while the view is in use');
  q.recycle(view);
  q.take(4);
  q.push(Buffer.from('5678'));
  assert.equal(view.bytes.toString(), '5678', 'the recycled block holds the new bytes');
  q.clear();
  assert.equal(q.size, 0);
  assert.equal(q.take(4), null);
});
