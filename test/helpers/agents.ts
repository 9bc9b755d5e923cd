// Real device agents for station tests: a `dockhand agent` process on one end of a socat pty pair, and the
// station's side of docking it (what the DockManager does when a port appears: open the transport, say
// hello, hand the link to the station).
import type { TestContext } from 'node:test';
import path from 'node:path';
import { ptyPair, type PtyPair } from './pty.js';
import { startDockhand, type Proc } from './processes.js';
import { waitFor } from './tmp.js';
import { openSerialTransport } from '../../electron/link/serial.js';
import { openDeviceLink } from '../../electron/link/link-client.js';
import type { Station } from '../../electron/station/station.js';
import type { DeviceLink } from '../../electron/link/device-link.js';
import type { Transport } from '../../electron/link/transport.js';

export interface Device {
  id: string;
  root: string;
  pair: PtyPair;
  agent: Proc;
}

/** An agent with device ID `id` on a fresh pty pair (`name` tells pairs apart when two agents share an ID). */
export async function startAgent(t: TestContext, dir: string, id: string, name = id): Promise<Device> {
  const root = path.join(dir, `agent-${name}`);
  const pair = await ptyPair(t, dir, name);
  const agent = startDockhand(t, ['agent', '--port', pair.b, '--root', root, '--id', id, '--name', `bench-${name}`]);
  await waitFor(`agent ${name} to listen`, () => agent.out().includes('listening on'), 30_000);
  return { id, root, pair, agent };
}

/** Bytes the station wrote to the device's port through one docking (every frame, as it crossed the link). */
export interface SentCounter {
  bytes: number;
}

/**
 * Opens the device's link and hands it to the station, as docking does. With `sent`, every byte the station
 * writes to the real port is also counted there (the transport is the real serial one, only observed).
 */
export async function dock(station: Station, d: Device, sent?: SentCounter): Promise<DeviceLink> {
  const serial = await openSerialTransport(d.pair.a, { baudRate: 115200 });
  const transport: Transport = sent ? {
    label: serial.label,
    write: (bytes) => serial.write(bytes).then(() => { sent.bytes += bytes.length; }),
    onData: (l) => serial.onData(l),
    onClose: (l) => serial.onClose(l),
    close: () => serial.close(),
  } : serial;
  const link = await openDeviceLink(transport, { helloTimeoutMs: 15_000 });
  station.dock(link);
  return link;
}
