// What every part of the agent shares: where the device's files are, where the agent keeps its state, who
// the device is, what link limits it accepts, and where log lines go.
import type { DeviceOffer } from '../shared/link/hello.js';
import type { LinkTimers } from '../shared/link/timers.js';
import type { StoredIdentity } from './identity.js';
import type { InstalledRecord } from './installed-record.js';
import type { PutStore } from './put-store.js';
import type { RunJournal } from './run-journal.js';

export const AGENT_NAME = 'dockhand-agent 0.1.0';

export interface AgentContext {
  /** The folder that plays the device's file system (`\`). */
  root: string;
  stateDir: string;
  identity: StoredIdentity;
  puts: PutStore;
  record: InstalledRecord;
  /** Command runs by the station's run ID: none is ever started twice. */
  runs: RunJournal;
  offer: DeviceOffer;
  timers: LinkTimers;
  log(line: string): void;
}

/** What a request handler may use: the context, and a way to send messages on the current session. */
export interface RequestScope {
  ctx: AgentContext;
  send(message: Uint8Array): Promise<void>;
  maxPayload: number;
  window: number;
  /** The negotiated largest message: an answer that would not fit is cut to fit (listings) or refused. */
  maxMessage: number;
}
