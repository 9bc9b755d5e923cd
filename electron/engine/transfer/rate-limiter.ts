// A token bucket shared by every transfer of a station, so the bandwidth cap in the settings holds for the
// station as a whole however many packages download at once.
//
// Why these choices:
// - Callers are served first come, first served (a FIFO queue): a transfer that asks often cannot starve
//   one that asks rarely, and with similar chunk sizes every transfer gets a similar share.
// - The bucket holds at most a quarter second of the rate (never less than 16 KiB), so a transfer that was
//   idle cannot then burst far above the cap.
// - A request larger than the bucket is let through once the bucket is full and leaves the bucket in debt;
//   the debt delays the next callers, so the long-run average still equals the rate.
// - The clock is injected so tests drive time by hand; nothing here reads the wall clock directly.

import { DockhandError } from '../../../shared/model/errors.js';

export interface LimiterClock {
  now(): number; // milliseconds, monotonic
  sleep(ms: number, signal?: AbortSignal): Promise<void>; // rejects (any error) when the signal aborts
}

const MIN_BURST_BYTES = 16 * 1024;
// Sleeping exactly the computed time can leave the bucket a rounding error short; half a byte is forgiven
// so the loop does not sleep again for a few nanoseconds.
const TOKEN_EPSILON = 0.5;

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export const systemClock: LimiterClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(1, Math.ceil(ms)));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

function checkRate(bytesPerSecond: number): number {
  if (typeof bytesPerSecond !== 'number' || !Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) {
    throw new RangeError(`the transfer rate limit must be a number of bytes per second, 0 or more (0 = unlimited); got ${String(bytesPerSecond)}`);
  }
  return bytesPerSecond;
}

function cancelledWhileWaiting(): DockhandError {
  return new DockhandError('CANCELLED', 'the transfer was stopped while it waited for its share of the bandwidth limit');
}

export class RateLimiter {
  #rate: number;
  #tokens: number;
  #last: number;
  readonly #clock: LimiterClock;
  readonly #queue: Waiter[] = [];
  #pumping = false;
  #wake: AbortController | null = null;

  constructor(bytesPerSecond: number, clock: LimiterClock = systemClock) {
    this.#rate = checkRate(bytesPerSecond);
    this.#clock = clock;
    this.#last = clock.now();
    this.#tokens = this.#capacity(); // start full: the first chunk of the first transfer goes at once
  }

  get rate(): number {
    return this.#rate;
  }

  /** Changes the cap at once, also for callers already waiting (0 releases them all). */
  setRate(bytesPerSecond: number): void {
    const rate = checkRate(bytesPerSecond);
    this.#refill(); // tokens earned so far are earned at the old rate
    const wasUnlimited = this.#rate === 0;
    this.#rate = rate;
    if (rate === 0) return this.#releaseAll();
    this.#tokens = wasUnlimited ? this.#capacity() : Math.min(this.#tokens, this.#capacity());
    this.#wake?.abort(); // the pump recomputes its wait with the new rate
  }

  /** Resolves when `bytes` may be sent; rejects with CANCELLED when `signal` aborts first. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) {
      return Promise.reject(new RangeError(`a rate-limiter request must be a byte count, 0 or more; got ${String(bytes)}`));
    }
    if (signal?.aborted) return Promise.reject(cancelledWhileWaiting());
    if (bytes === 0 || this.#rate === 0) return Promise.resolve();
    if (this.#queue.length === 0) {
      this.#refill();
      if (this.#tokens >= Math.min(bytes, this.#capacity())) {
        this.#tokens -= bytes;
        return Promise.resolve();
      }
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => this.#drop(waiter);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
      void this.#pump();
    });
  }

  #capacity(): number {
    return Math.max(MIN_BURST_BYTES, this.#rate / 4);
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    if (this.#rate > 0) this.#tokens = Math.min(this.#capacity(), this.#tokens + (elapsed * this.#rate) / 1000);
  }

  #settle(waiter: Waiter): void {
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }

  #drop(waiter: Waiter): void {
    const at = this.#queue.indexOf(waiter);
    if (at < 0) return;
    this.#queue.splice(at, 1);
    this.#settle(waiter);
    waiter.reject(cancelledWhileWaiting());
    if (at === 0) this.#wake?.abort(); // the next caller may be served sooner
  }

  #releaseAll(): void {
    for (const waiter of this.#queue.splice(0)) {
      this.#settle(waiter);
      waiter.resolve();
    }
    this.#wake?.abort();
  }

  // One loop serves the queue head by head; it sleeps exactly until the head can be served, and is woken
  // early when the rate changes or the head gives up.
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && this.#rate > 0) {
        this.#refill();
        const head = this.#queue[0] as Waiter;
        const need = Math.min(head.bytes, this.#capacity());
        if (this.#tokens + TOKEN_EPSILON >= need) {
          this.#tokens -= head.bytes;
          this.#queue.shift();
          this.#settle(head);
          head.resolve();
          continue;
        }
        const waitMs = ((need - this.#tokens) * 1000) / this.#rate;
        this.#wake = new AbortController();
        try {
          await this.#clock.sleep(waitMs, this.#wake.signal);
        } catch {
          // woken early on purpose: loop and look again
        } finally {
          this.#wake = null;
        }
      }
    } finally {
      this.#pumping = false;
    }
  }
}
