import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ClientStore } from '../../electron/store/client-store.js';
import { tempDir } from '../helpers/tmp.js';

test('the client database keeps tasks, checkpoints and the outbox across reopening', (t) => {
  const file = path.join(tempDir(t), 'client.sqlite');
  let store = new ClientStore(file);
  store.set('id', 'DEV-1');
  store.insertPackage('P1', 1);
  const task = store.scheduleTask('download', 'P1', 100, 1);
  store.updateTask(task.id, { state: 'running', phase: 'started' }, 2);
  store.saveCheckpoint({ packageId: 'P1', url: 'http://127.0.0.1/x', validator: '"abc"', bytesDone: 4096, expectedSize: 8192, partPath: '/tmp/x.part' }, 3);
  const a = store.enqueue({ action: 'Status', reportType: null, fileName: null, contentType: 'text/xml', body: Buffer.from('<a/>'), summary: 'first' }, 4);
  const b = store.enqueue({ action: 'Report', reportType: 'MachineInventory', fileName: null, contentType: 'text/xml', body: Buffer.from('<b/>'), summary: 'second' }, 5);
  assert.ok(b > a);
  store.close();

  store = new ClientStore(file);
  t.after(() => store.close());
  assert.equal(store.get('id'), 'DEV-1');
  assert.equal(store.recoverInterruptedTasks(50), 1, 'a task left running by a crash is resumed');
  const recovered = store.task('download', 'P1')!;
  assert.equal(recovered.state, 'queued');
  assert.equal(recovered.nextRun, 50);
  assert.equal(recovered.phase, 'started', 'the phase survives, so no status message is sent twice');
  assert.equal(store.checkpoint('P1')!.bytesDone, 4096);
  assert.equal(store.nextOutbox()!.summary, 'first');
  store.markOutbox(a, 'sent', '', 6);
  assert.equal(store.nextOutbox()!.summary, 'second');
  assert.equal(Buffer.from(store.outbox(['sent'])[0]!.body).length, 0, 'delivered bodies are dropped');
});

test('deleting a package drops its tasks and checkpoint with it', (t) => {
  const store = new ClientStore(path.join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  store.insertPackage('P', 1);
  store.scheduleTask('instruction', 'P', 1, 1);
  store.saveCheckpoint({ packageId: 'P', url: 'u', validator: null, bytesDone: 1, expectedSize: null, partPath: 'p' }, 1);
  store.deletePackage('P');
  assert.equal(store.package('P'), null);
  assert.equal(store.task('instruction', 'P'), null);
  assert.equal(store.checkpoint('P'), null);
});

test('a database from a newer Dockhand is refused with words, not corrupted', (t) => {
  const file = path.join(tempDir(t), 'c.sqlite');
  const store = new ClientStore(file);
  store.db.pragma('user_version = 99');
  store.close();
  assert.throws(() => new ClientStore(file), /newer than this program knows/);
});

test('migration 3: packages of a version-2 database came from the server; a package from the field kit says which profile', async (t) => {
  const { openDatabase } = await import('../../electron/store/sqlite.js');
  const { clientMigrations } = await import('../../electron/store/client-schema.js');
  const file = path.join(tempDir(t), 'client.sqlite');
  const v2 = openDatabase(file, clientMigrations.slice(0, 2));
  v2.prepare(`INSERT INTO packages (id, state, name, created_at, updated_at) VALUES ('OLD-1', 'installed', 'Old app', 1, 1)`).run();
  assert.equal(v2.pragma('user_version', { simple: true }), 2);
  v2.close();
  const store = new ClientStore(file);
  t.after(() => store.close());
  assert.equal(store.db.pragma('user_version', { simple: true }), 3);
  assert.equal(store.package('OLD-1')!.instructionsFrom, '');
  store.insertPackage('KIT-1', 2);
  store.setPackageInstructions('KIT-1', {
    name: 'Kit app', shortDescription: null, longDescription: null, required: true, packageSize: 4, flags: null, startAt: 2, recurrenceMs: null,
    behavior: null, localDestination: '\\Temp', commandLine: null, sourceFiles: true, sha256: null, instructionsFrom: 'SCANNER-TEMPLATE',
  });
  assert.equal(store.package('KIT-1')!.instructionsFrom, 'SCANNER-TEMPLATE');
});
