// The engine's state machines as tables (electron/engine/transitions.ts), the client database's migration 2
// (waits as data, read once from the old words), and the scheduler's cost: a real SQLite file, a real
// session over a local target, a manual clock. No server: nothing here sends anything.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { ClientStore } from '../../electron/store/client-store.js';
import { clientMigrations } from '../../electron/store/client-schema.js';
import { openDatabase } from '../../electron/store/sqlite.js';
import { ClientSession } from '../../electron/engine/session.js';
import { LocalTarget } from '../../electron/engine/local-target.js';
import { PackageCache } from '../../electron/engine/package-cache.js';
import { RateLimiter } from '../../electron/engine/transfer/rate-limiter.js';
import { ManualClock } from '../../electron/engine/clock.js';
import { EVENT_PHASES, PACKAGE_TRANSITIONS, TASK_TRANSITIONS, taskTransition } from '../../electron/engine/transitions.js';
import { HELD_WAIT_KINDS, describeWait, type TaskWait } from '../../shared/model/wait.js';
import type { TaskRecord } from '../../shared/model/client.js';
import { handleFailure } from '../../electron/engine/failures.js';
import { diskFullError } from '../../electron/engine/transfer/transfer-errors.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function session(t: TestContext, clock = new ManualClock(Date.UTC(2026, 0, 5, 9))): ClientSession {
  const dir = tempDir(t);
  const store = new ClientStore(path.join(dir, 'client.sqlite'));
  const cache = new PackageCache(path.join(dir, 'cache'), new RateLimiter(0), clock);
  store.set('server', 'http://127.0.0.1:9/devicemgmt/server.aspx');
  store.set('retry_count', '2');
  store.set('retry_interval_ms', String(MINUTE));
  const target = new LocalTarget({ id: 'UNIT-1', root: path.join(dir, 'root'), bandwidth: () => 'high' });
  const s = new ClientSession({ store, target, clock, cache, allowCommands: false });
  t.after(async () => {
    s.stop(); // a status message queued here is being offered to a server that is not there
    await s.lanes.idle();
    store.close();
    cache.close();
  });
  return s;
}

/** A scheduled download event of `pkg` in phase "started" (its transfer under way), ready to run again. */
function startedDownload(s: ClientSession, pkg: string): TaskRecord {
  const now = s.now();
  s.store.insertPackage(pkg, now);
  s.store.updatePackage(pkg, { state: 'scheduled' }, now);
  const scheduled = s.store.scheduleTask('download', pkg, now, now);
  s.store.updateTask(scheduled.id, { phase: 'started' }, now);
  return s.store.task('download', pkg)!;
}

test('each row of the tables is a move of its own: no (kind, state, event) twice', () => {
  const keys = TASK_TRANSITIONS.map((r) => `${r.kind}|${r.from}|${r.on}`);
  assert.equal(new Set(keys).size, keys.length);
  const phases = EVENT_PHASES.flatMap((r) => r.from.map((f) => `${f}|${r.on}`));
  assert.equal(new Set(phases).size, phases.length);
  const packages = PACKAGE_TRANSITIONS.flatMap((r) => r.from.map((f) => `${f}|${r.on}`));
  assert.equal(new Set(packages).size, packages.length);
});

test('a move that is in no table is refused, not guessed', (t) => {
  const s = session(t);
  const poll = s.store.scheduleTask('poll', '', s.now(), s.now());
  assert.throws(() => taskTransition(s, poll, 'succeed'), /no transition for a poll task that is queued on 'succeed'/);
});

test('the poll spends its retries on an unreachable server, then waits for its interval — and is never dropped', (t) => {
  const s = session(t);
  let poll = s.store.scheduleTask('poll', '', s.now(), s.now());
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    poll = taskTransition(s, taskTransition(s, poll, 'start').task!, 'unreachable', { reason: 'refused', detail: 'dm:80: refused the connection' }).task!;
    assert.deepEqual([poll.state, poll.attempts, poll.nextRun - s.now()], ['queued', attempt, MINUTE]);
    assert.deepEqual(poll.wait, { kind: 'server', until: s.now() + MINUTE, detail: 'dm:80: refused the connection' });
  }
  const moved = taskTransition(s, taskTransition(s, poll, 'start').task!, 'unreachable', { reason: 'refused' });
  assert.equal(moved.on, 'give-up');
  assert.deepEqual([moved.task!.state, moved.task!.attempts, moved.task!.nextRun - s.now()], ['queued', 0, HOUR]);
  assert.equal(moved.task!.wait.kind, 'server', 'still waiting for the server, at the next regular poll');
});

test('a download that fails spends a retry; the last one closes the event with 11032 and its reason', (t) => {
  const s = session(t);
  let task = startedDownload(s, 'PKG');
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const run = s.store.startRun('PKG', 'Package', null, s.now());
    s.runs.set('PKG', { id: run, phase: 'verify' });
    task = taskTransition(s, taskTransition(s, task, 'start').task!, 'fail', { reason: 'the SHA-256 differs' }).task!;
  }
  assert.equal(task.state, 'failed');
  assert.equal(task.phase, 'executed');
  assert.equal(s.store.package('PKG')!.state, 'failed');
  const queued = s.store.outbox(['queued']);
  assert.deepEqual(queued.map((o) => o.summary), ['status 11032 for PKG']);
  assert.match(Buffer.from(queued[0]!.body).toString(), /<Parameter name="Reason">the SHA-256 differs<\/Parameter>/);
  const history = s.store.downloadHistory({ packageId: 'PKG' });
  assert.deepEqual(history.map((r) => [r.outcome, r.failedPhase]), [['interrupted', 'verify'], ['interrupted', 'verify'], ['failed', 'verify']]);
});

test('a full disk spends no retry: the download waits for room, however often it finds none, and the station can wake it', (t) => {
  const s = session(t);
  let task = startedDownload(s, 'PKG');
  // The download's own free-space check, as the transfer module throws it (retry_count is 2 here).
  const full = diskFullError('/data/cache', 5 * 1024 * 1024, 1024, { where: '127.0.0.1:8080', label: "the package 'Maps'", bytesDone: 0, total: 5 * 1024 * 1024 });
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    handleFailure(s, taskTransition(s, task, 'start').task!, full);
    task = s.store.task('download', 'PKG')!;
    assert.equal(task.state, 'queued', `still queued after ${attempt} full-disk failures`);
  }
  assert.equal(task.attempts, 0, 'no retry was spent');
  assert.equal(task.wait.kind, 'storage');
  assert.match(describeWait(task.wait, s.now()), /^waiting for disk space: disk full in \/data\/cache: .*; retrying in 1 min$/);
  assert.deepEqual(s.store.outbox(['queued']), [], 'no 11032: the event is not over');
  assert.deepEqual(s.store.downloadsNeedingRoom(), ['PKG'], 'the station counts it as needing room');
  assert.equal(s.store.wakeStorageWaits(s.now()), 1);
  assert.equal(s.store.task('download', 'PKG')!.wait.kind, 'none');
  assert.equal(s.store.task('download', 'PKG')!.nextRun, s.now(), 'room came back: due at once');
});

test('a recurring download that gives up waits for its next occurrence as a new event', (t) => {
  const s = session(t);
  const now = s.now();
  s.store.insertPackage('DAILY', now);
  s.store.setPackageInstructions('DAILY', {
    name: 'Daily', shortDescription: null, longDescription: null, required: true, packageSize: null, flags: null,
    startAt: now - HOUR, recurrenceMs: 24 * HOUR, behavior: 'Download and Execute', localDestination: '\\Temp', commandLine: null,
    sourceFiles: true, sha256: null,
  });
  s.store.updatePackage('DAILY', { state: 'scheduled' }, now);
  const task = taskTransition(s, s.store.scheduleTask('download', 'DAILY', now, now), 'start').task!;
  const moved = taskTransition(s, task, 'give-up', { reason: 'refused path' }).task!;
  assert.deepEqual([moved.state, moved.phase, moved.attempts], ['queued', '', 0]);
  assert.deepEqual(moved.wait, { kind: 'schedule', until: now + 23 * HOUR });
  assert.deepEqual(s.store.outbox(['queued']).map((o) => o.summary), ['status 11032 for DAILY']);
});

test('migration 2 reads the old sentences once, as waits', (t) => {
  const file = path.join(tempDir(t), 'v1.sqlite');
  const v1 = openDatabase(file, clientMigrations.slice(0, 1));
  const insert = v1.prepare(`INSERT INTO tasks (kind, package_id, state, next_run, attempts, phase, waiting_for, last_error, created_at, updated_at)
    VALUES (?, ?, 'queued', 5000, ?, ?, ?, ?, 1, 1)`);
  const old: Array<[string, number, string, string, string]> = [
    ['A', 0, 'started', 'offline, retrying in 3 min', ''],
    ['B', 2, '', 'failed, retrying in 3 min (retry 2 of 5)', 'the server answered 500'],
    ['C', 0, '', 'waiting for dock (cradled-only package)', ''],
    ['D', 0, '', 'waiting for a permitted connection (low bandwidth)', ''],
    ['E', 0, '', 'waiting for acceptance (optional package)', ''],
    ['F', 0, '', 'paused by a technician', ''],
    ['G', 0, 'located', '', ''],
  ];
  for (const [id, attempts, phase, words, error] of old) insert.run('download', id, attempts, phase, words, error);
  v1.close();

  const store = new ClientStore(file);
  t.after(() => store.close());
  const wait = (id: string): TaskWait => store.task('download', id)!.wait;
  assert.deepEqual(wait('A'), { kind: 'server', until: 5000 });
  assert.equal(store.task('download', 'A')!.phase, 'started', 'the phase survives: no status message is sent twice');
  assert.deepEqual(wait('B'), { kind: 'retry', until: 5000, attempt: 2, of: 5, reason: 'the server answered 500' });
  assert.deepEqual(wait('C'), { kind: 'dock', cradledOnly: true });
  assert.deepEqual(wait('D'), { kind: 'connection', flags: 1 });
  assert.deepEqual(wait('E'), { kind: 'acceptance' });
  assert.deepEqual(wait('F'), { kind: 'technician', reason: 'paused' });
  assert.deepEqual(wait('G'), { kind: 'none' });
  assert.equal(store.task('download', 'G')!.phase, '');
  assert.deepEqual(store.downloadHistory(), []);
});

test('the database holds back exactly the waits the model calls held', (t) => {
  const store = new ClientStore(path.join(tempDir(t), 'c.sqlite'));
  t.after(() => store.close());
  const waits: TaskWait[] = [
    { kind: 'none' }, { kind: 'dock' }, { kind: 'connection', flags: 1 }, { kind: 'schedule', until: 1 }, { kind: 'acceptance' },
    { kind: 'server', until: 1 }, { kind: 'technician', reason: 'paused' }, { kind: 'retry', until: 1, attempt: 1, of: 1, reason: 'x' },
  ];
  waits.forEach((w, i) => store.scheduleTask('download', `P${i}`, 0, 0, w));
  const held = (store.db.prepare(`SELECT wait_kind FROM tasks WHERE held = 1 ORDER BY wait_kind`).all() as Array<{ wait_kind: string }>).map((r) => r.wait_kind);
  assert.deepEqual(held, [...HELD_WAIT_KINDS].sort());
  assert.equal(store.dueTask('download', 10)!.packageId, 'P0', 'a held task is never picked, an unheld one is');
  for (const w of waits) assert.equal(typeof describeWait(w, 0), 'string');
});

test('the scheduler finds due work by index: with 10,000 held tasks a tick reads a row or two, not 10,000', async (t) => {
  const s = session(t);
  const { store } = s;
  const now = s.now();
  store.transaction(() => {
    for (let i = 0; i < 10_000; i += 1) {
      const id = `CRADLED-${String(i).padStart(5, '0')}`;
      store.insertPackage(id, now);
      store.updatePackage(id, { state: 'scheduled' }, now);
      store.db.prepare('UPDATE packages SET flags = 4 WHERE id = ?').run(id); // cradled-only: never for the station itself
      store.scheduleTask('download', id, now, now);
    }
    store.scheduleTask('poll', '', now + HOUR, now);
  });
  const plan = (store.db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM tasks INDEXED BY tasks_due
    WHERE state = 'queued' AND lane = 'download' AND held = 0 AND next_run <= ? ORDER BY next_run, id LIMIT 1`).all(now) as Array<{ detail: string }>)
    .map((r) => r.detail).join('; ');
  assert.match(plan, /SEARCH tasks USING INDEX tasks_due/);
  assert.doesNotMatch(plan, /SCAN tasks|TEMP B-TREE/, 'no scan, no sort');

  await s.lanes.runUntilIdle(); // each due task is held once (its condition recorded), in slices that yield the event loop
  assert.equal(store.waitCounts().dock, 10_000);
  const before = store.taskRowsRead;
  assert.equal(s.lanes.startDue(), false);
  assert.equal(s.lanes.nextWake(), now + HOUR, 'the next wake is the poll, found by index');
  assert.ok(store.taskRowsRead - before <= 2, `a tick read ${store.taskRowsRead - before} task rows`);
});
