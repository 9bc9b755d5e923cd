// Time for the link layer is injected: the agent and the station use the host's timers, unit tests a
// manual clock they advance by hand, so retransmission and dead-peer rules are tested without sleeping.

export interface LinkTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: LinkTimers = {
  now: () => Date.now(),
  // Not unref'd: a pending request's timeout must keep the process alive; a closed channel clears its timers.
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Pending {
  at: number;
  order: number;
  fn: () => void;
}

/** Timers that fire only when a test advances the clock, in due order. */
export class ManualTimers implements LinkTimers {
  private t = 0;
  private order = 0;
  private readonly pending = new Map<number, Pending>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.order;
    this.pending.set(id, { at: this.t + Math.max(0, ms), order: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Timers still waiting. */
  get size(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way (including ones they set). */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      let next: [number, Pending] | undefined;
      for (const entry of this.pending) {
        if (entry[1].at > until) continue;
        if (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].order < next[1].order)) next = entry;
      }
      if (!next) break;
      this.pending.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = until;
  }
}
