// window.station for the Electron renderer: the contract's StationClient carried over IPC. It holds no
// logic beyond the transport — main validates every request — and it hands the page only plain data and
// functions, never ipcRenderer or an IPC event (which would give the page a way to reach other channels).
import { IPC } from '../../shared/contract/ipc.js';
import type { Change, CommandResult, Snapshot, StationClient } from '../../shared/contract/station-api.js';

/** The part of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export function createStationBridge(ipc: IpcRendererLike, warn: (m: string) => void = (m) => console.warn(m)): StationClient {
  const listeners = new Set<(change: Change) => void>();
  let subscribed: Promise<unknown> | null = null;

  ipc.on(IPC.change, (_event, change) => {
    for (const listener of [...listeners]) {
      try {
        listener(change as Change);
      } catch (err) {
        // One broken listener must not starve the others of changes.
        warn(`station: a change listener failed: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  });

  return {
    getSnapshot: () => ipc.invoke(IPC.getSnapshot) as Promise<Snapshot>,
    execute: (command) => ipc.invoke(IPC.execute, command) as Promise<CommandResult>,
    subscribe(listener) {
      if (typeof listener !== 'function') throw new TypeError('station.subscribe needs a function');
      listeners.add(listener);
      // Main starts pushing changes to this page on the first subscription (again after a reload).
      subscribed ??= ipc.invoke(IPC.subscribe).catch((err: unknown) => {
        subscribed = null;
        warn(`station: could not subscribe to changes: ${(err as Error)?.message ?? String(err)}`);
      });
      return () => { listeners.delete(listener); };
    },
  };
}
