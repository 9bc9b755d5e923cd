// The Electron adapter of the station API (shared/contract): three invoke channels and one push channel.
// Every request is checked twice before it reaches the station service — who sent it (our own index.html,
// in the main frame of a window we created) and what it carries (the contract's zod schema). Anything else
// is refused with a logged warning and a rejected promise in the renderer; it never reaches the engine.
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import {
  CommandSchema, IPC, type CommandResult, type StationClient,
} from '../../shared/contract/station-api.js';
import { describeError } from '../../shared/model/errors.js';
import { isAppUrl, type Warn } from './security.js';

export interface IpcOptions {
  /** The app's index.html; only frames showing it may call. */
  indexFile: string;
  /** Whether a webContents belongs to a window the app created (ids of our windows). */
  isOwnContents: (contents: WebContents) => boolean;
  warn: Warn;
}

/** Why a sender is refused, or null when it may call. */
export function senderProblem(event: IpcMainInvokeEvent, opts: Pick<IpcOptions, 'indexFile' | 'isOwnContents'>): string | null {
  const frame = event.senderFrame;
  if (!frame) return 'the calling frame is gone';
  if (!opts.isOwnContents(event.sender)) return 'the caller is not a Dockhand window';
  if (frame !== event.sender.mainFrame || frame.parent !== null) return `a subframe (${frame.url}) may not call`;
  if (!isAppUrl(frame.url, opts.indexFile)) return `the page ${frame.url || '(blank)'} is not the Dockhand UI`;
  return null;
}

export interface StationIpc {
  /** Removes the handlers and stops forwarding changes. */
  dispose(): void;
  /** How many renderers currently receive the change stream (for tests and diagnostics). */
  subscriberCount(): number;
}

export function registerStationIpc(ipcMain: IpcMain, service: StationClient, opts: IpcOptions): StationIpc {
  const subscribers = new Map<number, WebContents>();

  const refuse = (channel: string, event: IpcMainInvokeEvent, reason: string): never => {
    opts.warn(`ipc: refused ${channel} from ${event.senderFrame?.url || '(unknown frame)'}: ${reason}`);
    throw new Error(`Dockhand refused this request (${reason}).`);
  };

  const handle = (channel: string, run: (event: IpcMainInvokeEvent, args: unknown[]) => unknown) => {
    ipcMain.handle(channel, (event, ...args: unknown[]) => {
      const problem = senderProblem(event, opts);
      if (problem) refuse(channel, event, problem);
      return run(event, args);
    });
  };

  handle(IPC.getSnapshot, (event, args) => {
    if (args.length !== 0) refuse(IPC.getSnapshot, event, 'it takes no arguments');
    return service.getSnapshot();
  });

  handle(IPC.execute, async (event, args): Promise<CommandResult> => {
    if (args.length !== 1) refuse(IPC.execute, event, 'it takes exactly one command');
    const parsed = CommandSchema.safeParse(args[0]);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => `${i.path.join('.') || 'command'}: ${i.message}`).join('; ');
      refuse(IPC.execute, event, `not a valid command — ${where}`);
    }
    try {
      return await service.execute(parsed.data!);
    } catch (err) {
      // A failing command is an answer for the technician, not a crash of the window's promise chain.
      return { ok: false, message: describeError(err) };
    }
  });

  handle(IPC.subscribe, (event, args) => {
    if (args.length !== 0) refuse(IPC.subscribe, event, 'it takes no arguments');
    const contents = event.sender;
    if (!subscribers.has(contents.id)) {
      subscribers.set(contents.id, contents);
      contents.once('destroyed', () => subscribers.delete(contents.id));
    }
    return true;
  });

  const unsubscribe = service.subscribe((change) => {
    for (const [id, contents] of subscribers) {
      if (contents.isDestroyed()) subscribers.delete(id);
      else contents.send(IPC.change, change);
    }
  });

  return {
    dispose() {
      unsubscribe();
      subscribers.clear();
      for (const channel of [IPC.getSnapshot, IPC.execute, IPC.subscribe]) ipcMain.removeHandler(channel);
    },
    subscriberCount: () => subscribers.size,
  };
}
