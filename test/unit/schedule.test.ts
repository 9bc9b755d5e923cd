import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextOccurrence } from '../../electron/engine/schedule.js';
import { describeDelay } from '../../shared/model/wait.js';

const DAY = 86_400_000;

test('nextOccurrence stays on the start + k·interval grid', () => {
  const start = Date.UTC(2002, 7, 29, 0, 0, 0); // the seed's StartTime
  assert.equal(nextOccurrence(start, DAY, start - 5), start, 'a future start is the first occurrence');
  assert.equal(nextOccurrence(start, DAY, start), start + DAY, 'strictly after now');
  assert.equal(nextOccurrence(start, DAY, start + DAY + 1), start + 2 * DAY);
  const now = Date.UTC(2026, 10, 22, 13, 30);
  const next = nextOccurrence(start, DAY, now);
  assert.equal(next, Date.UTC(2026, 10, 23, 0, 0), 'missed occurrences are skipped, not replayed');
  assert.throws(() => nextOccurrence(start, 0, now), /positive/);
});

test('describeDelay speaks in units a technician reads at a glance', () => {
  assert.equal(describeDelay(45_000), '45 s');
  assert.equal(describeDelay(120_000), '2 min');
  assert.equal(describeDelay(2 * 3_600_000 + 5 * 60_000), '2 h 5 min');
  assert.equal(describeDelay(3 * DAY), '3 days');
});
