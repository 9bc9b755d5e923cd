// A plain WebSocket client of a station's web console for tests that watch the station from Node: its
// snapshot on demand, and every change it streams (validated against the contract).
import WebSocket from 'ws';
import { ChangeSchema, SnapshotSchema, type Change, type Snapshot } from '../../shared/contract/station-api.js';

export interface StationSocket {
  changes: Change[];
  snapshot(): Promise<Snapshot>;
  close(): void;
}

/** Connects to the console at `url` (as printed by the station); closed when the test ends. */
export async function stationSocket(t: { after(fn: () => unknown): void }, url: string): Promise<StationSocket> {
  const u = new URL(url);
  const ws = new WebSocket(`ws://${u.host}/api${u.search}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  t.after(() => ws.close());
  const changes: Change[] = [];
  const waiting = new Map<number, (s: Snapshot) => void>();
  let id = 0;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { op: string; id?: number; snapshot?: unknown; change?: unknown };
    if (m.op === 'change') changes.push(ChangeSchema.parse(m.change));
    else if (m.op === 'snapshot' && m.id !== undefined) waiting.get(m.id)?.(SnapshotSchema.parse(m.snapshot));
  });
  return {
    changes,
    snapshot: () => new Promise<Snapshot>((resolve) => {
      id += 1;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ op: 'getSnapshot', id }));
    }),
    close: () => ws.close(),
  };
}
