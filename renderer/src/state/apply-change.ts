// Folds one change into the snapshot the UI shows. Collections are replaced whole (the contract's model);
// a progress event replaces the one transfer it names; activity entries are appended, deduplicated by
// target and sequence number (sequence numbers count per target) and capped, newest kept.
import type { Activity, Change, Snapshot, Transfer } from '../../../shared/contract/station-api.js';

export const ACTIVITY_LIMIT = 1000;

const activityKey = (a: Activity) => `${a.target}|${a.seq}`;

export function mergeActivity(current: Activity[], entries: Activity[]): Activity[] {
  const seen = new Set(current.map(activityKey));
  const added = entries.filter((e) => !seen.has(activityKey(e)));
  if (added.length === 0) return current;
  const merged = [...current, ...added].sort((a, b) => a.at.localeCompare(b.at));
  return merged.length > ACTIVITY_LIMIT ? merged.slice(-ACTIVITY_LIMIT) : merged;
}

const sameTransfer = (a: Transfer, b: Transfer) =>
  a.id === b.id || (a.target === b.target && a.leg === b.leg && a.package === b.package);

export function upsertTransfer(list: Transfer[], t: Transfer): Transfer[] {
  const i = list.findIndex((x) => sameTransfer(x, t));
  if (i < 0) return [...list, t];
  const next = list.slice();
  next[i] = t;
  return next;
}

export function applyChange(s: Snapshot, c: Change): Snapshot {
  switch (c.kind) {
    case 'station':
      return { ...s, station: c.station };
    case 'devices':
      return { ...s, devices: c.devices };
    case 'tasks':
      return { ...s, tasks: c.tasks };
    case 'transfers':
      return { ...s, transfers: c.transfers };
    case 'packages':
      return { ...s, packages: c.packages };
    case 'settings':
      return { ...s, settings: c.settings };
    case 'activity':
      return { ...s, activity: mergeActivity(s.activity, c.entries) };
    case 'progress':
      return { ...s, transfers: upsertTransfer(s.transfers, c.transfer) };
  }
}
