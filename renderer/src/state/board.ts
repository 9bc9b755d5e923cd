// The board's pure parts: which devices show under a filter, in what order (what needs a technician
// first, then by slot), how a device's place reads, and the accessible names that carry the verdict.
// The verdict itself comes computed from the station (shared/model/verdict.ts); nothing here decides it.
import type { Device, DeviceVerdict, Task } from '../../../shared/contract/station-api.js';
import { VERDICT_ORDER } from '../../../shared/model/verdict.js';
import { placeOf } from '../../../shared/model/place.js';

export type VerdictFilter = 'all' | DeviceVerdict['kind'];

export const FILTERS: Array<{ id: VerdictFilter; label: string }> = [
  { id: 'all', label: 'All' }, { id: 'failed', label: 'Failed' }, { id: 'undocked', label: 'Undocked' },
  { id: 'waiting', label: 'Waiting' }, { id: 'working', label: 'Working' }, { id: 'done', label: 'Done' },
];

export { placeOf };

const natural = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** Failures first, then undocked mid-transfer, waiting, working, done; within each, by slot. */
export function boardOrder(devices: Device[]): Device[] {
  return [...devices].sort((a, b) => VERDICT_ORDER[a.verdict.kind] - VERDICT_ORDER[b.verdict.kind] ||
    natural.compare(placeOf(a), placeOf(b)) || natural.compare(a.name, b.name));
}

export function filterDevices(devices: Device[], filter: VerdictFilter): Device[] {
  return filter === 'all' ? devices : devices.filter((d) => d.verdict.kind === filter);
}

export function verdictCounts(devices: Device[]): Record<VerdictFilter, number> {
  const counts: Record<VerdictFilter, number> = { all: devices.length, failed: 0, undocked: 0, waiting: 0, working: 0, done: 0 };
  for (const d of devices) counts[d.verdict.kind] += 1;
  return counts;
}

/** The card's accessible name: where, who, and the verdict in words — never the colour alone. */
export function cardName(d: Device): string {
  return `${placeOf(d)}, ${d.name}: ${d.verdict.words}`;
}


/**
 * The Queue's badge: work in progress or held back by something a technician can act on (a dock, an
 * acceptance, the server, a pause, a retry). A poll or report waiting for its next interval is routine.
 */
export function queueAttention(tasks: Task[]): number {
  return tasks.filter((t) => t.state === 'running' ? t.kind !== 'poll' : t.state === 'queued' && !['none', 'schedule'].includes(t.wait.kind)).length;
}
