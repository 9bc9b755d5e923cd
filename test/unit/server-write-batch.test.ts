// Group commit on a real SQLite file: the writes of requests made in the same turn share one transaction,
// each in a savepoint of its own, and nobody hears "done" before the batch is committed — checked from a
// second connection, as a crash would see the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openServerDb, DATABASE_FILE } from '../../server/db.js';
import { openDatabase } from '../../electron/store/sqlite.js';
import { WriteBatch } from '../../server/write-batch.js';
import { tempDir } from '../helpers/tmp.js';

test('a write batch commits before it answers, and one failing write undoes only itself', async (t) => {
  const dir = tempDir(t);
  const db = openServerDb(dir);
  t.after(() => db.close());
  const other = openDatabase(path.join(dir, DATABASE_FILE), [], { readonly: true });
  t.after(() => other.close());
  const committed = () => (other.prepare("SELECT scope FROM settings WHERE key = 'k' ORDER BY scope").all() as { scope: string }[]).map((r) => r.scope);
  const insert = db.prepare("INSERT INTO settings (scope, key, value, updated_at) VALUES (?, 'k', '1', 'now')");
  const writes = new WriteBatch(db);

  const seenAtAnswer: string[][] = [];
  const answered = (p: Promise<unknown>) => p.then((v) => { seenAtAnswer.push(committed()); return v; });
  const a = answered(writes.run(() => { insert.run('a'); return 'first'; }));
  const b = answered(writes.run(() => {
    insert.run('b'); // written, then the request fails: this row must not survive
    throw new Error('the second request failed half-way');
  }));
  const c = answered(writes.run(() => { insert.run('c'); return 'third'; }));
  assert.deepEqual(committed(), [], 'nothing is written before the batch runs');

  const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
  assert.deepEqual(ra, { status: 'fulfilled', value: 'first' });
  assert.equal(rb?.status, 'rejected');
  assert.match(String(rb?.status === 'rejected' && rb.reason), /failed half-way/);
  assert.deepEqual(rc, { status: 'fulfilled', value: 'third' });
  assert.deepEqual(committed(), ['a', 'c']);
  // every request that was answered could already see its row from another connection
  assert.deepEqual(seenAtAnswer, [['a', 'c'], ['a', 'c']]);

  // a batch whose commit fails tells every request of it
  const broken = new WriteBatch(db);
  db.close();
  await assert.rejects(broken.run(() => 'never'), /database connection is not open/);
});
