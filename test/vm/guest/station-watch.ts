// Watches a running station the way its UI does: the web console's WebSocket (`/api`), a snapshot and then
// the change stream. `until` resolves on the first message after which a condition holds, so the guest
// test measures the moment the card changed, not a polling period.
import type { Change, Command, CommandResult, Device, Snapshot, Task, Transfer } from '../../../shared/contract/station-api.js';

export interface StationView {
  devices: Device[];
  tasks: Task[];
  transfers: Transfer[];
}

interface Waiter {
  what: string;
  check: (v: StationView) => unknown;
  resolve: (value: { value: unknown; at: number }) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class StationWatch {
  readonly view: StationView = { devices: [], tasks: [], transfers: [] };
  /** Every progress change seen, with its arrival time (the resume checks read the first after a re-dock). */
  readonly progress: Array<{ at: number; transfer: Transfer }> = [];
  private waiters: Waiter[] = [];
  /** The last messages seen, in short, for the story a timeout tells. */
  private readonly recent: string[] = [];
  private nextId = 2;
  private readonly results = new Map<number, (r: CommandResult) => void>();

  private constructor(private readonly socket: WebSocket) {}

  /** A technician's command through the console, as the UI sends it. */
  execute(command: Command): Promise<CommandResult> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.results.set(id, resolve);
      this.socket.send(JSON.stringify({ op: 'execute', id, command }));
    });
  }

  static async connect(consoleUrl: string): Promise<StationWatch> {
    const url = new URL('/api', consoleUrl);
    url.protocol = 'ws:';
    const socket = new WebSocket(url);
    const watch = new StationWatch(socket);
    const snapshot = new Promise<Snapshot>((resolve, reject) => {
      socket.addEventListener('error', () => reject(new Error(`cannot connect to the station console at ${url.href}`)), { once: true });
      socket.addEventListener('message', (ev: MessageEvent) => {
        const msg = JSON.parse(String(ev.data)) as { op: string; id?: number; snapshot?: Snapshot; change?: Change; result?: CommandResult };
        if (msg.op === 'result' && msg.result) watch.results.get(msg.id!)?.(msg.result);
        if (msg.op === 'snapshot' && msg.snapshot) {
          Object.assign(watch.view, { devices: msg.snapshot.devices, tasks: msg.snapshot.tasks, transfers: msg.snapshot.transfers });
          resolve(msg.snapshot);
        } else if (msg.op === 'change' && msg.change) watch.apply(msg.change);
        watch.check();
      });
    });
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error(`cannot connect to the station console at ${url.href}`)), { once: true });
    });
    socket.send(JSON.stringify({ op: 'getSnapshot', id: 1 }));
    await snapshot;
    return watch;
  }

  private apply(c: Change): void {
    const summary = c.kind === 'progress' ? `progress ${c.transfer.leg} ${c.transfer.target} ${c.transfer.package} ${c.transfer.bytesDone}` : c.kind;
    this.recent.push(`${new Date().toISOString().slice(11, 23)} ${summary}`);
    if (this.recent.length > 30) this.recent.shift();
    if (c.kind === 'devices') this.view.devices = c.devices;
    else if (c.kind === 'tasks') this.view.tasks = c.tasks;
    else if (c.kind === 'transfers') this.view.transfers = c.transfers;
    else if (c.kind === 'progress') {
      this.progress.push({ at: Date.now(), transfer: c.transfer });
      this.view.transfers = [...this.view.transfers.filter((t) => t.id !== c.transfer.id), c.transfer];
    }
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      const value = w.check(this.view);
      if (!value) continue;
      clearTimeout(w.timer);
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve({ value, at: Date.now() });
    }
  }

  /** The first moment `check` holds (now, or after a later message), and what it returned. */
  until<T>(what: string, check: (v: StationView) => T | undefined | false | null, timeoutMs: number): Promise<{ value: T; at: number }> {
    const now = check(this.view);
    if (now) return Promise.resolve({ value: now, at: Date.now() });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x.timer !== timer);
        reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; the station shows ${JSON.stringify(this.view)}; ` +
          `the last changes seen: ${this.recent.join(' | ')}`));
      }, timeoutMs);
      this.waiters.push({ what, check, resolve: resolve as Waiter['resolve'], reject, timer });
    });
  }

  close(): void {
    this.socket.close();
  }
}

export const device = (v: StationView, id: string) => v.devices.find((d) => d.id === id);
/**
 * The push of a package to a device: while it runs the card names it by package ID; its checkpoint, by the
 * device path it is kept under (`\\Temp\\file.bin`) — and while it runs the card lists both, so the
 * running one is preferred.
 */
export const pushOf = (v: StationView, target: string, pkg: { id: string; fileName: string }) => {
  const rows = v.transfers.filter((t) => t.leg === 'push' && t.target === target &&
    (t.package === pkg.id || t.package.endsWith(`\\${pkg.fileName}`)));
  return rows.find((t) => t.state === 'active') ?? rows[0];
};
export const taskOf = (v: StationView, target: string, pkg: string) => v.tasks.find((t) => t.target === target && t.kind === 'download' && t.package === pkg);
