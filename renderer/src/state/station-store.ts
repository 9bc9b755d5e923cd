// The UI's copy of the station: a snapshot, kept current by the change stream, plus the state of the link.
// Order matters: subscribe first, then ask for the snapshot; changes that arrive before the snapshot's
// answer happened before it was taken (one ordered channel), so they are dropped rather than applied over
// newer data. After a reconnect the snapshot is fetched again, because changes sent meanwhile were lost.
import type { Command, CommandResult, Snapshot } from '../../../shared/contract/station-api.js';
import type { ConnectionState, LiveStationClient } from '../client/connection.js';
import { applyChange } from './apply-change.js';

export interface StationView {
  snapshot: Snapshot | null;
  connection: ConnectionState;
  /** Why the link is down, or the last problem the client reported; '' when all is well. */
  problem: string;
}

export class StationStore {
  private view: StationView = { snapshot: null, connection: 'connecting', problem: '' };
  private readonly listeners = new Set<() => void>();
  private loading = 0;
  private loaded = false;

  constructor(private readonly client: LiveStationClient) {}

  getView = (): StationView => this.view;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Starts listening; returns the function that stops. */
  start(): () => void {
    const stops: Array<() => void> = [];
    stops.push(this.client.subscribe((change) => {
      if (!this.loaded || !this.view.snapshot) return;
      this.set({ snapshot: applyChange(this.view.snapshot, change) });
    }));
    if (this.client.onProblem) stops.push(this.client.onProblem((problem) => this.set({ problem })));
    if (this.client.onConnection) {
      stops.push(this.client.onConnection((connection, detail) => {
        this.set({ connection, problem: detail });
        if (connection === 'open') void this.load();
        else this.loaded = false;
      }));
    } else {
      this.set({ connection: 'open' });
      void this.load();
    }
    return () => stops.forEach((s) => s());
  }

  private async load(): Promise<void> {
    const ticket = ++this.loading;
    this.loaded = false;
    try {
      const snapshot = await this.client.getSnapshot();
      if (ticket !== this.loading) return; // a newer load superseded this one
      this.loaded = true;
      this.set({ snapshot, problem: '' });
    } catch (err) {
      if (ticket === this.loading) this.set({ problem: `could not read the station's state: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  /** Runs a command; failures (including a lost link) come back as a result, never as an exception. */
  async execute(command: Command): Promise<CommandResult> {
    try {
      return await this.client.execute(command);
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  }

  private set(patch: Partial<StationView>): void {
    this.view = { ...this.view, ...patch };
    for (const l of this.listeners) l();
  }
}
