// The device agent's main loop: open the serial port, serve the station on it, and when the port goes away
// (a USB gadget port closes while the cable is out, a pseudo-terminal's other end disappears) open it again
// as soon as it is back. Partial transfers survive all of this on disk (put-store.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import { describeSerialSettings, openSerialTransport, type SerialSettings } from '../electron/link/serial.js';
import { DEFAULT_MAX_MESSAGE, DEFAULT_WINDOW, MAX_MAX_PAYLOAD, PROTOCOL_VERSIONS } from '../shared/link/limits.js';
import { systemTimers } from '../shared/link/timers.js';
import { describeError } from '../shared/model/errors.js';
import type { Transport } from '../electron/link/transport.js';
import { protectOwnFolder } from '../electron/engine/local/device-path.js';
import type { AgentContext } from './context.js';
import { DeviceSession } from './device-session.js';
import { loadIdentity } from './identity.js';
import { InstalledRecord } from './installed-record.js';
import { PutStore } from './put-store.js';
import { RunJournal } from './run-journal.js';

export interface AgentOptions {
  root: string;
  /** Default: ROOT/.dockhand-agent. */
  stateDir?: string;
  id?: string;
  name?: string;
  log?: (line: string) => void;
}

export interface PortOptions {
  port: string;
  serial: SerialSettings;
  /** How often to try a port that is missing or failed (default 500 ms). */
  reopenMs?: number;
  signal: AbortSignal;
}

/** Prepares the folders, the identity and the records; everything a DeviceSession needs. */
export async function prepareAgent(opts: AgentOptions): Promise<AgentContext> {
  const root = path.resolve(opts.root);
  const stateDir = path.resolve(opts.stateDir ?? path.join(root, '.dockhand-agent'));
  await fs.mkdir(root, { recursive: true });
  await fs.mkdir(stateDir, { recursive: true });
  // No path the station sends (a destination, a program, an inventory filter) may reach the agent's state.
  protectOwnFolder(stateDir);
  const identity = await loadIdentity(stateDir, { id: opts.id, name: opts.name });
  const record = new InstalledRecord(path.join(stateDir, 'installed.json'));
  await record.load();
  const log = opts.log ?? ((line: string) => process.stdout.write(`agent: ${line}\n`));
  // A command an earlier run of the agent left behind is ended before the station can ask for anything.
  const runs = new RunJournal(path.join(stateDir, 'runs.json'));
  runs.load();
  await runs.endLeftovers(log);
  return {
    root,
    stateDir,
    identity,
    puts: new PutStore(root, stateDir),
    record,
    runs,
    offer: { versions: PROTOCOL_VERSIONS, maxPayload: MAX_MAX_PAYLOAD, window: DEFAULT_WINDOW * 2, maxMessage: DEFAULT_MAX_MESSAGE * 4 },
    timers: systemTimers,
    log,
  };
}

/** Serves one transport until it closes (or `signal` stops the agent). Resolves with why it ended. */
export async function serveTransport(ctx: AgentContext, transport: Transport, signal?: AbortSignal): Promise<string> {
  const session = new DeviceSession(transport, ctx);
  if (signal?.aborted) {
    await session.shutdown();
    return 'the agent is stopping';
  }
  const stopped = new Promise<string>((resolve) => signal?.addEventListener('abort', () => resolve('the agent is stopping'), { once: true }));
  const reason = await Promise.race([session.gone, stopped]);
  if (signal?.aborted) await session.shutdown();
  return reason;
}

const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Keeps the port served until `signal` aborts. */
export async function runAgentOnPort(ctx: AgentContext, opts: PortOptions): Promise<void> {
  let lastProblem = '';
  while (!opts.signal.aborted) {
    let transport: Transport;
    try {
      transport = await openSerialTransport(opts.port, opts.serial);
    } catch (err) {
      const problem = describeError(err);
      if (problem !== lastProblem) ctx.log(`${problem}; trying again every ${opts.reopenMs ?? 500} ms`);
      lastProblem = problem;
      await pause(opts.reopenMs ?? 500, opts.signal);
      continue;
    }
    lastProblem = '';
    ctx.log(`listening on ${opts.port} (${describeSerialSettings(opts.serial)}) as ${ctx.identity.id} (${ctx.identity.name}), root ${ctx.root}`);
    const reason = await serveTransport(ctx, transport, opts.signal);
    if (!opts.signal.aborted) {
      ctx.log(`${reason}; waiting for the port to come back`);
      await pause(opts.reopenMs ?? 500, opts.signal);
    }
  }
}
