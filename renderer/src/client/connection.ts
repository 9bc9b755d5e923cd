// What a client can say about its link to the station beyond the contract's StationClient: the WebSocket
// client drops and reconnects, and the UI shows that (and fetches a fresh snapshot after a reconnect).
// Electron's window.station is always connected, so it has no such events.
import type { StationClient } from '../../../shared/contract/station-api.js';

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface ConnectionEvents {
  /** Called at once with the current state, then on every change; returns the unsubscribe function. */
  onConnection(listener: (state: ConnectionState, detail: string) => void): () => void;
  /** Problems that are not answers to a request (a malformed frame, a server-side error). */
  onProblem(listener: (problem: string) => void): () => void;
}

export type LiveStationClient = StationClient & Partial<ConnectionEvents>;
