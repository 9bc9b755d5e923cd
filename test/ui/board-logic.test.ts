// The board's pure parts, run under Node: order (failures first, then by slot in natural order), the verdict
// filter and its counts, the accessible names, the Queue badge that counts only work held back by
// something (not routine polls), and the terminal's end-of-run line per device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Task } from '../../shared/contract/station-api.js';
import { boardOrder, cardName, filterDevices, queueAttention, verdictCounts } from '../../renderer/src/state/board.js';
import { summaryLine } from '../../electron/station/device-summary.js';
import { benchDevices } from '../helpers/board-fixtures.js';

const task = (over: Partial<Task>): Task => ({
  id: 'T', target: 'D', targetName: 'scanner', kind: 'download', package: 'P', packageName: 'App', state: 'queued',
  nextRun: '2026-11-22T00:00:00.000Z', wait: { kind: 'none' }, waitingFor: '', attempts: 0, lastError: '', optional: false, ...over,
});

test('failures first, then undocked, waiting, working, done; slots in natural order within each', () => {
  const devices = benchDevices(16);
  const ordered = boardOrder(devices);
  assert.deepEqual(ordered.slice(0, 2).map((d) => d.verdict.kind), ['failed', 'undocked']);
  const done = ordered.filter((d) => d.verdict.kind === 'done').map((d) => d.slot);
  assert.deepEqual(done, ['Slot 1', 'Slot 3', 'Slot 6', 'Slot 8', 'Slot 11', 'Slot 14', 'Slot 16'], 'Slot 11 after Slot 8, not after Slot 1');
  const counts = verdictCounts(devices);
  assert.deepEqual(counts, { all: 16, failed: 1, undocked: 1, waiting: 2, working: 5, done: 7 });
  assert.equal(filterDevices(ordered, 'working').length, 5);
  assert.equal(cardName(ordered[0]!), 'Slot 4, scanner-44: Failed: Scanner firmware 7.0, command: the command exited with code 3');
});

test('the Queue badge counts work held back by a dock, an acceptance, the server, a pause or a retry — not idle polls', () => {
  const tasks = [
    task({ kind: 'poll', package: '', wait: { kind: 'schedule', until: 1 } }), // the next poll, on its schedule
    task({ kind: 'poll', package: '', state: 'running' }), // a poll in flight: routine
    task({ kind: 'software-inventory', package: '' }),
    task({ state: 'done' }),
    task({ state: 'running' }), // a download in progress
    task({ wait: { kind: 'dock' } }),
    task({ wait: { kind: 'acceptance' } }),
    task({ wait: { kind: 'server', until: 1 } }),
    task({ wait: { kind: 'technician', reason: 'paused' } }),
    task({ wait: { kind: 'retry', until: 1, attempt: 1, of: 5, reason: 'refused' } }),
  ];
  assert.equal(queueAttention(tasks), 6);
  assert.equal(queueAttention(tasks.slice(0, 4)), 0, 'an idle station has no badge');
});

test('the terminal line at the end of a run: slot, name and the verdict, with how long the work took', () => {
  const [done] = benchDevices(1);
  const from = Date.parse(done!.history[0]!.startedAt);
  assert.match(summaryLine(done!, from), /^Slot 1 scanner-41: 3 packages installed in \d+ min$/);
  const failed = boardOrder(benchDevices(16))[0]!;
  assert.equal(summaryLine(failed, 0).split(' — ')[0], 'Slot 4 scanner-44: FAILED Scanner firmware 7.0: the command exited with code 3');
  assert.match(summaryLine(failed, 0), / — next: .*command line/);
});
