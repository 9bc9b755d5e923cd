// What the shell itself (tray, notifications) knows of the station: the snapshot, kept current by the
// change stream. A change replaces one whole collection, except progress (one transfer) and activity
// (appended entries, of which the shell keeps only the tail it never reads anyway).
import type { Change, Snapshot } from '../../shared/contract/station-api.js';

const ACTIVITY_KEPT = 50;

export function applyChange(view: Snapshot, change: Change): Snapshot {
  switch (change.kind) {
    case 'station': return { ...view, station: change.station };
    case 'devices': return { ...view, devices: change.devices };
    case 'tasks': return { ...view, tasks: change.tasks };
    case 'transfers': return { ...view, transfers: change.transfers };
    case 'packages': return { ...view, packages: change.packages };
    case 'settings': return { ...view, settings: change.settings };
    case 'activity': return { ...view, activity: [...view.activity, ...change.entries].slice(-ACTIVITY_KEPT) };
    case 'progress': {
      const found = view.transfers.some((t) => t.id === change.transfer.id);
      const transfers = found
        ? view.transfers.map((t) => (t.id === change.transfer.id ? change.transfer : t))
        : [...view.transfers, change.transfer];
      return { ...view, transfers };
    }
    default: {
      const never: never = change;
      return never;
    }
  }
}

export interface StationSummary {
  online: boolean;
  demo: boolean;
  docked: number;
  activeTransfers: number;
  failedTasks: number;
}

export function summarize(view: Snapshot): StationSummary {
  return {
    online: view.station.online,
    demo: view.station.demo,
    docked: view.devices.filter((d) => d.state === 'docked').length,
    activeTransfers: view.transfers.filter((t) => t.state === 'active').length,
    failedTasks: view.tasks.filter((t) => t.state === 'failed').length,
  };
}
