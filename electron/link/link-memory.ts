// An in-memory cable: two Transports whose writes arrive at the other end, in order, on a later microtask.
// It is the double behind unit tests of the link client and the agent (no serial port, no process), with
// two hooks a real cable offers only by accident: `tamper` rewrites or swallows chunks on their way (noise,
// loss), and `unplug` ends both sides at once as pulling the cable would.
import { DockhandError } from '../../shared/model/errors.js';
import type { Transport } from './transport.js';
import { TransportEvents } from './transport-events.js';

export type Side = 'a' | 'b';

export interface MemoryCable {
  a: Transport;
  b: Transport;
  /** Both ends see onClose(reason); later writes reject. */
  unplug(reason?: string): void;
}

export interface MemoryCableOptions {
  labels?: [string, string];
  /** Sees every chunk written by `from`; returns the bytes to deliver (changed or not), or undefined to lose them. */
  tamper?: (bytes: Uint8Array, from: Side) => Uint8Array | undefined;
}

class MemoryEnd implements Transport {
  private readonly events = new TransportEvents();
  peer!: MemoryEnd;

  constructor(
    readonly label: string,
    private readonly side: Side,
    private readonly tamper: MemoryCableOptions['tamper'],
    private readonly unplugBoth: (reason: string) => void,
  ) {}

  write(bytes: Uint8Array): Promise<void> {
    const closed = this.events.closedReason;
    if (closed !== undefined) {
      return Promise.reject(new DockhandError('LINK', `${this.label} is closed (${closed})`, { transient: true }));
    }
    const delivered = this.tamper ? this.tamper(bytes.slice(), this.side) : bytes.slice();
    if (delivered !== undefined && delivered.length > 0) queueMicrotask(() => this.peer.deliver(delivered));
    return Promise.resolve();
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.events.onData(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.events.onClose(listener);
  }

  close(): Promise<void> {
    this.unplugBoth(`${this.label} was closed`);
    return Promise.resolve();
  }

  deliver(bytes: Uint8Array): void {
    if (this.events.closedReason === undefined) this.events.deliver(bytes);
  }

  end(reason: string): void {
    this.events.end(reason);
  }
}

export function memoryCable(opts: MemoryCableOptions = {}): MemoryCable {
  const [labelA, labelB] = opts.labels ?? ['memory:a', 'memory:b'];
  const unplug = (reason = 'the cable was unplugged'): void => {
    a.end(reason);
    b.end(reason);
  };
  const a = new MemoryEnd(labelA, 'a', opts.tamper, unplug);
  const b = new MemoryEnd(labelB, 'b', opts.tamper, unplug);
  a.peer = b;
  b.peer = a;
  return { a, b, unplug };
}
