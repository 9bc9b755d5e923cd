// One line per device when its work ends, on the terminal: "Slot 3 scanner-44: 3 packages installed in
// 41 s", or "Slot 5 scanner-46: FAILED Scanner firmware: the command exited with code 3 — next: …".
// The words are the device's verdict from the station service (shared/model/verdict.ts), so the terminal
// and the board never disagree. A device's line is printed when its verdict turns done or failed; at the
// end of `station --once`, every device gets its line.
import type { Change, Device, StationClient } from '../../shared/contract/station-api.js';
import { describeDelay } from '../../shared/model/wait.js';
import { placeOf } from '../../shared/model/place.js';

/** How long the device's download events since `from` took, first start to last end; null when none. */
function took(d: Device, from: number): number | null {
  const events = d.history.filter((e) => Date.parse(e.startedAt) >= from && e.endedAt);
  if (events.length === 0) return null;
  const start = Math.min(...events.map((e) => Date.parse(e.startedAt)));
  const end = Math.max(...events.map((e) => Date.parse(e.endedAt!)));
  return Math.max(0, end - start);
}

export function summaryLine(d: Device, from: number): string {
  const who = `${placeOf(d)} ${d.name}`;
  const v = d.verdict;
  switch (v.kind) {
    case 'done': {
      const ms = took(d, from);
      return `${who}: ${v.detail}${ms !== null && v.detail !== 'nothing to install' ? ` in ${describeDelay(Math.max(1000, ms))}` : ''}`;
    }
    case 'failed':
      return `${who}: FAILED ${v.detail}${v.nextStep ? ` — next: ${v.nextStep}` : ''}`;
    default:
      return `${who}: ${v.words}`;
  }
}

export interface DeviceSummaries {
  /** Every device's line now (the end of a --once run). */
  all(): Promise<string[]>;
  stop(): void;
}

/** Prints a device's line when its verdict turns done or failed; `startedAt` bounds the events counted. */
export function watchDeviceSummaries(service: StationClient, write: (line: string) => void, startedAt = Date.now()): DeviceSummaries {
  const seen = new Map<string, Device['verdict']['kind']>();
  const take = (devices: Device[]) => {
    for (const d of devices) {
      const prev = seen.get(d.id);
      const finished = d.verdict.kind === 'done' || d.verdict.kind === 'failed';
      if (prev !== undefined && prev !== d.verdict.kind && finished) {
        write(summaryLine(d, Math.max(startedAt, d.lastDockedAt ? Date.parse(d.lastDockedAt) : 0)));
      }
      seen.set(d.id, d.verdict.kind);
    }
  };
  void service.getSnapshot().then((s) => {
    for (const d of s.devices) if (!seen.has(d.id)) seen.set(d.id, d.verdict.kind);
  }).catch(() => undefined);
  const stop = service.subscribe((c: Change) => {
    if (c.kind === 'devices') take(c.devices);
  });
  return {
    all: async () => (await service.getSnapshot()).devices.map((d) => summaryLine(d, startedAt)),
    stop,
  };
}
