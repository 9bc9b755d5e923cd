// A QMP client (QEMU's JSON control protocol) over a socket QEMU connected to: commands are answered in
// order by `return` or `error`; asynchronous events (DEVICE_DELETED…) are told to waiters as they come.
import type { Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  what: string;
}

export class Qmp {
  private buffer = '';
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly eventWaiters: Array<{ match: (e: QmpEvent) => boolean; resolve: (e: QmpEvent) => void }> = [];
  private greeted: Promise<void>;
  readonly events: QmpEvent[] = [];

  constructor(private readonly socket: Socket) {
    let greet!: () => void;
    this.greeted = new Promise((r) => (greet = r));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (line) this.receive(JSON.parse(line) as Record<string, unknown>, greet);
      }
    });
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error(`QEMU closed the QMP connection before answering ${p.what}`));
      this.pending.clear();
    });
  }

  private receive(msg: Record<string, unknown>, greet: () => void): void {
    if ('QMP' in msg) return greet();
    if ('event' in msg) {
      const event = msg as unknown as QmpEvent;
      this.events.push(event);
      for (const w of [...this.eventWaiters]) {
        if (w.match(event)) {
          this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
      return;
    }
    const id = msg.id as number;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if ('error' in msg) {
      const e = msg.error as { class: string; desc: string };
      p.reject(new Error(`QMP ${p.what}: ${e.class}: ${e.desc}`));
    } else p.resolve(msg.return);
  }

  async start(): Promise<void> {
    await this.greeted;
    await this.execute('qmp_capabilities');
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, what: command });
      this.socket.write(`${JSON.stringify({ execute: command, id, ...(args ? { arguments: args } : {}) })}\n`);
    });
  }

  /** The next event matching `match` (from now on). */
  nextEvent(match: (e: QmpEvent) => boolean): Promise<QmpEvent> {
    return new Promise((resolve) => this.eventWaiters.push({ match, resolve }));
  }
}
