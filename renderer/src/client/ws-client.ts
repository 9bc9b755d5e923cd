// A StationClient over the web console's WebSocket. Requests carry an id and the answer echoes it; changes
// arrive unasked. Every incoming frame is checked against the contract before anyone sees it. When the
// socket drops, pending requests fail with words a technician understands and the client reconnects with
// a growing pause (the UI then asks for a fresh snapshot, since changes sent meanwhile were lost).
import {
  CommandSchema, type Change, type Command, type CommandResult, type Snapshot, type WsRequest,
} from '../../../shared/contract/station-api.js';
import type { ConnectionEvents, ConnectionState, LiveStationClient } from './connection.js';
import { parseFrame } from './ws-messages.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };
type Request = { op: 'getSnapshot' } | { op: 'execute'; command: Command };

export interface WsClientOptions {
  requestTimeoutMs?: number;
  /** Pauses between reconnect attempts: the first, then doubling up to the last. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export class WsStationClient implements LiveStationClient, ConnectionEvents {
  private socket: WebSocket | null = null;
  private state: ConnectionState = 'connecting';
  private detail = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly queued: WsRequest[] = [];
  private readonly changeListeners = new Set<(c: Change) => void>();
  private readonly connectionListeners = new Set<(s: ConnectionState, detail: string) => void>();
  private readonly problemListeners = new Set<(p: string) => void>();
  private retryMs: number;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly timeoutMs: number;
  private readonly minMs: number;
  private readonly maxMs: number;

  constructor(private readonly url: string, options: WsClientOptions = {}) {
    this.timeoutMs = options.requestTimeoutMs ?? 15_000;
    this.minMs = options.reconnectMinMs ?? 500;
    this.maxMs = options.reconnectMaxMs ?? 8_000;
    this.retryMs = this.minMs;
    this.connect();
  }

  getSnapshot(): Promise<Snapshot> {
    return this.request({ op: 'getSnapshot' }) as Promise<Snapshot>;
  }

  async execute(command: Command): Promise<CommandResult> {
    const checked = CommandSchema.safeParse(command);
    if (!checked.success) return { ok: false, message: `the UI built a command the station would refuse: ${checked.error.issues[0]?.message ?? 'invalid'}` };
    return this.request({ op: 'execute', command: checked.data }) as Promise<CommandResult>;
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onConnection(listener: (state: ConnectionState, detail: string) => void): () => void {
    this.connectionListeners.add(listener);
    listener(this.state, this.detail);
    return () => this.connectionListeners.delete(listener);
  }

  onProblem(listener: (problem: string) => void): () => void {
    this.problemListeners.add(listener);
    return () => this.problemListeners.delete(listener);
  }

  close(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.close(1000, 'closed by the UI');
    this.failPending('the console was closed');
  }

  private request(body: Request): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error('the console was closed'));
    if (this.state === 'closed') {
      return Promise.reject(new Error(`not connected to the station (${this.detail || 'reconnecting'}); try again in a moment`));
    }
    const id = this.nextId++;
    const frame: WsRequest = body.op === 'execute' ? { op: 'execute', id, command: body.command } : { op: 'getSnapshot', id };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the station did not answer within ${Math.round(this.timeoutMs / 1000)} s`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      if (this.state === 'open' && this.socket) this.socket.send(JSON.stringify(frame));
      else this.queued.push(frame);
    });
  }

  private setState(state: ConnectionState, detail: string): void {
    this.state = state;
    this.detail = detail;
    for (const l of this.connectionListeners) l(state, detail);
  }

  private problem(text: string): void {
    for (const l of this.problemListeners) l(text);
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState('connecting', '');
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch (err) {
      this.setState('closed', `cannot open ${this.url}: ${err instanceof Error ? err.message : String(err)}`);
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = this.minMs;
      this.setState('open', '');
      for (const frame of this.queued.splice(0)) socket.send(JSON.stringify(frame));
    };
    socket.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') {
        this.problem('the station sent a binary frame; the console expects JSON text');
        return;
      }
      this.receive(ev.data);
    };
    socket.onclose = (ev: { code: number; reason: string }) => {
      if (this.socket !== socket) return;
      this.socket = null;
      // 1006 (abnormal) is also what a refused upgrade looks like, e.g. a missing or wrong token.
      const why = ev.code === 1006
        ? 'the connection to the station was lost or refused (is it still running, and does the address include its token?)'
        : `the station closed the connection (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`;
      this.failPending(why);
      this.setState('closed', why);
      this.scheduleReconnect();
    };
  }

  private receive(text: string): void {
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      this.problem(parsed.problem);
      return;
    }
    const m = parsed.message;
    if (m.op === 'change') {
      for (const l of this.changeListeners) l(m.change);
      return;
    }
    const waiting = m.id === null ? undefined : this.pending.get(m.id);
    if (!waiting) {
      if (m.op === 'error') this.problem(`the station reported: ${m.message}`);
      return;
    }
    this.pending.delete(m.id!);
    clearTimeout(waiting.timer);
    if (m.op === 'snapshot') waiting.resolve(m.snapshot);
    else if (m.op === 'result') waiting.resolve(m.result);
    else waiting.reject(new Error(m.message));
  }

  private failPending(why: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(why));
      this.pending.delete(id);
    }
    this.queued.length = 0;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.maxMs, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, wait);
  }
}
