// Benchmark: the session scheduler with 10,000 tasks on one target (issue 7 item 7). Real SQLite files, a
// real session over a local target, a manual clock; no network (the packages have no files to fetch).
//
//   npm run bench:scheduler -- [--tasks 10000] [--pairs 7]
//
// In the same run, interleaved pairs against two references:
//   old scan  — the scheduler before issue 7: every tick read every task and looked at each due one
//   raw query — the scheduler's own due query as a bare better-sqlite3 loop (the floor for one tick)
// Scenarios:
//   A  10,000 due download events, the first 9,999 (in due order) held by a condition the station can
//      never meet (cradled-only): time until the one that may run has started, and the longest the event
//      loop was held while getting there
//   B  the same 10,000 once held, nothing due: the cost of one tick
//   C  10,000 due download events that may all run: time until the first has started
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ClientStore } from '../electron/store/client-store.js';
import { ClientSession } from '../electron/engine/session.js';
import { LocalTarget } from '../electron/engine/local-target.js';
import { PackageCache } from '../electron/engine/package-cache.js';
import { RateLimiter } from '../electron/engine/transfer/rate-limiter.js';
import { ManualClock } from '../electron/engine/clock.js';
import { taskTransition } from '../electron/engine/transitions.js';

const { values } = parseArgs({ options: { tasks: { type: 'string', default: '10000' }, pairs: { type: 'string', default: '7' } } });
const TASKS = Math.max(2, Number(values.tasks));
const PAIRS = Math.max(1, Number(values.pairs));
const NOW = Date.UTC(2026, 0, 5, 9);
const HOUR = 3_600_000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-bench-scheduler-'));

/** A client database with TASKS due download events; `held` of them (the first in due order) cradled-only. */
function template(name: string, held: number): string {
  const file = path.join(dir, `${name}.sqlite`);
  const store = new ClientStore(file);
  store.transaction(() => {
    for (let i = 0; i < TASKS; i += 1) {
      const id = `PKG-${String(i).padStart(6, '0')}`;
      store.insertPackage(id, NOW);
      store.setPackageInstructions(id, {
        name: id, shortDescription: null, longDescription: null, required: true, packageSize: null, flags: i < held ? 0x04 : null,
        startAt: NOW, recurrenceMs: null, behavior: null, localDestination: '\\Temp', commandLine: null, sourceFiles: false, sha256: null,
      });
      store.updatePackage(id, { state: 'scheduled' }, NOW);
      store.scheduleTask('download', id, NOW - TASKS + i, NOW); // due, in this order
    }
    store.scheduleTask('poll', '', NOW + HOUR, NOW);
  });
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  return file;
}

let round = 0;
/** A fresh copy of the template, opened as a session would be. */
function open(file: string): { session: ClientSession; close: () => void } {
  const copy = path.join(dir, `round-${(round += 1)}.sqlite`);
  copyFileSync(file, copy);
  const clock = new ManualClock(NOW);
  const store = new ClientStore(copy);
  const cache = new PackageCache(path.join(dir, `cache-${round}`), new RateLimiter(0), clock);
  const target = new LocalTarget({ id: 'BENCH', root: path.join(dir, `root-${round}`), bandwidth: () => 'high' });
  const session = new ClientSession({ store, target, clock, cache, allowCommands: false });
  return {
    session,
    close: () => {
      session.stop();
      store.close();
      cache.close();
      for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) if (existsSync(f)) rmSync(f);
    },
  };
}

const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** New: start-up, then ticks as the station loop makes them, until a download event runs. */
async function newFirstDownload(file: string): Promise<{ ms: number; longestMs: number }> {
  const { session, close } = open(file);
  const t0 = performance.now();
  let longest = 0;
  const tick = (fn: () => void) => {
    const a = performance.now();
    fn();
    longest = Math.max(longest, performance.now() - a);
  };
  tick(() => session.start());
  for (;;) {
    tick(() => session.lanes.startDue());
    if (session.runs.size > 0 || session.store.db.prepare(`SELECT 1 FROM tasks WHERE kind = 'download' AND state != 'queued' LIMIT 1`).get()) break;
    await yieldLoop();
  }
  const ms = performance.now() - t0;
  await session.lanes.idle();
  close();
  return { ms, longestMs: longest };
}

/** Old: one tick read every task, and looked at each due one in turn until one could run. */
function oldTick(session: ClientSession): boolean {
  const now = session.now();
  for (const task of session.store.tasks()) {
    if (task.state !== 'queued' || task.nextRun > now) continue;
    const condition = session.conditionFor(task);
    if (condition.kind !== 'none') {
      if (JSON.stringify(task.wait) !== JSON.stringify(condition)) session.store.updateTask(task.id, { wait: condition }, now);
      continue;
    }
    if (task.kind === 'download') {
      taskTransition(session, task, 'start');
      return true;
    }
  }
  return false;
}

function oldFirstDownload(file: string): { ms: number; longestMs: number } {
  const { session, close } = open(file);
  const t0 = performance.now();
  session.store.recoverInterruptedTasks(NOW);
  let longest = 0;
  for (let started = false; !started;) {
    const a = performance.now();
    started = oldTick(session);
    longest = Math.max(longest, performance.now() - a);
  }
  const ms = performance.now() - t0;
  close();
  return { ms, longestMs: longest };
}

/** Per-tick cost once everything is held (B): new startDue, old scan, raw due query. */
async function tickCosts(file: string): Promise<{ newUs: number; oldUs: number; rawUs: number }> {
  const { session, close } = open(file);
  session.start();
  while (session.lanes.nextWake() !== null && session.lanes.nextWake()! <= NOW) {
    session.lanes.startDue();
    await yieldLoop();
  }
  const n = 200;
  let a = performance.now();
  for (let i = 0; i < n; i += 1) session.lanes.startDue();
  const newUs = ((performance.now() - a) / n) * 1000;
  a = performance.now();
  for (let i = 0; i < 5; i += 1) oldTick(session);
  const oldUs = ((performance.now() - a) / 5) * 1000;
  const raw = session.store.db.prepare(`SELECT * FROM tasks INDEXED BY tasks_due
    WHERE state = 'queued' AND lane = ? AND held = 0 AND next_run <= ? ORDER BY next_run, id LIMIT 1`);
  a = performance.now();
  for (let i = 0; i < n; i += 1) {
    raw.get('control', NOW);
    raw.get('download', NOW);
  }
  const rawUs = ((performance.now() - a) / n) * 1000;
  close();
  return { newUs, oldUs, rawUs };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], digits = 1) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const line = (label: string, xs: number[], unit: string, digits = 1) =>
  `  ${label.padEnd(44)} ${median(xs).toFixed(digits).padStart(9)} ${unit}  (range ${range(xs, digits)})`;

async function main(): Promise<void> {
  console.log(`scheduler benchmark: ${TASKS} tasks on one target, ${PAIRS} interleaved pairs`);
  const heldFile = template('held', TASKS - 1);
  const freeFile = template('free', 0);

  const a = { newMs: [] as number[], newLongest: [] as number[], oldMs: [] as number[], oldLongest: [] as number[] };
  const c = { newMs: [] as number[], oldMs: [] as number[] };
  const b = { newUs: [] as number[], oldUs: [] as number[], rawUs: [] as number[] };
  for (let i = 0; i < PAIRS; i += 1) {
    const n = await newFirstDownload(heldFile);
    const o = oldFirstDownload(heldFile);
    a.newMs.push(n.ms); a.newLongest.push(n.longestMs); a.oldMs.push(o.ms); a.oldLongest.push(o.longestMs);
    c.newMs.push((await newFirstDownload(freeFile)).ms);
    c.oldMs.push(oldFirstDownload(freeFile).ms);
    const t = await tickCosts(heldFile);
    b.newUs.push(t.newUs); b.oldUs.push(t.oldUs); b.rawUs.push(t.rawUs);
  }
  console.log(`A  ${TASKS - 1} due events held before the one that may run: time to the first download started`);
  console.log(line('new (indexed, held in slices)', a.newMs, 'ms'));
  console.log(line('old scan (reference)', a.oldMs, 'ms'));
  console.log(line('new: longest block of the event loop', a.newLongest, 'ms'));
  console.log(line('old scan: longest block of the event loop', a.oldLongest, 'ms'));
  console.log(`B  one tick with ${TASKS} tasks held or scheduled`);
  console.log(line('new startDue', b.newUs, 'µs'));
  console.log(line('old scan (reference)', b.oldUs, 'µs', 0));
  console.log(line('raw due query, both lanes (reference)', b.rawUs, 'µs'));
  console.log(`C  ${TASKS} due events that may all run: time to the first download started`);
  console.log(line('new', c.newMs, 'ms', 2));
  console.log(line('old scan (reference)', c.oldMs, 'ms', 2));
}

main().finally(() => rmSync(dir, { recursive: true, force: true })).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
