// The storage guard's decisions with the disk's free space given by the test: what counts as a full disk
// (ENOSPC, SQLite's SQLITE_FULL, the download's own check), the two levels (the pending downloads do not
// fit: said, work goes on; almost nothing left: all work held), and the way back when room is made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockhandError } from '../../shared/model/errors.js';
import { isDiskFull, MIN_FREE_BYTES, StorageGuard } from '../../electron/station/storage-guard.js';

const MiB = 1024 * 1024;

function guard(state: { free: number; need: number }) {
  const said: string[] = [];
  let rooms = 0;
  const g = new StorageGuard({
    dir: '/data', need: () => state.need, free: () => state.free, recheckMs: 1,
    say: (level, message) => said.push(`${level}: ${message}`), onRoom: () => { rooms += 1; },
  });
  return { g, said, rooms: () => rooms };
}

test('a full disk is recognised however it surfaces, and nothing else is', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const sqlite = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  const wrapped = new DockhandError('STORAGE', 'the disk is full at /data/x.part', { cause: enospc, detail: { errno: 'ENOSPC' } });
  const checked = new DockhandError('STORAGE', 'disk full in /data: needs 5 MB more, 2 MB free', { detail: { dir: '/data', need: 5, free: 2 } });
  for (const e of [enospc, sqlite, wrapped, checked, new Error('x', { cause: sqlite })]) assert.equal(isDiskFull(e), true, String(e));
  const refused = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  for (const e of [refused, new DockhandError('NETWORK', 'refused'), new Error('boom')]) assert.equal(isDiskFull(e), false, String(e));
});

test('pending downloads that do not fit are said once; work goes on; room makes them go at once', async () => {
  const state = { free: 2.6 * MiB, need: 4.8 * MiB };
  const { g, said, rooms } = guard(state);
  const signal = new AbortController().signal;
  assert.equal(await g.holding(signal, 10_000), false, 'work goes on');
  assert.equal(g.problem, 'disk full in /data: need 4.8 MiB, 2.6 MiB free; downloads wait, and resume by themselves when space is freed');
  assert.equal(await g.holding(signal, 20_000), false);
  assert.equal(said.length, 1, 'said once, not on every look');
  state.free = 32 * MiB;
  assert.equal(await g.holding(signal, 30_000), false);
  assert.equal(g.problem, '');
  assert.equal(rooms(), 1);
  assert.match(said[1]!, /^info: disk in \/data has room again \(32 MiB free\): downloads resume$/);
});

test('an almost full disk, or a write that failed for room, holds all work until space is freed', async () => {
  const state = { free: MIN_FREE_BYTES - 1, need: 0 };
  const { g, rooms } = guard(state);
  const signal = new AbortController().signal;
  assert.equal(await g.holding(signal, 10_000), true, 'held');
  assert.match(g.problem, /^disk full in \/data: 256 KiB free; the station waits/);
  state.free = 10 * MiB;
  assert.equal(await g.holding(signal, 10_001), false, 'a held station looks again at once, not after a second');
  assert.equal(rooms(), 1);
  assert.equal(g.noteFailure(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })), true);
  assert.match(g.problem, /the station waits/);
  assert.equal(await g.holding(signal, 10_002), false, 'room is there: the hold ends at the next look');
  assert.equal(g.noteFailure(new Error('something else')), false);
});
