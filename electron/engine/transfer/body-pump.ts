// Moves a response body into a sink (the partial file) with backpressure, the rate limit, a stall timer
// and abort. Every byte that arrives goes into the pump's own queue at once, and the connection is paused
// only when that queue is large: whatever a cut leaves behind has already been taken, so bytes the server
// really sent are never lost and fetched again.
//
// Batches: the socket reads straight into the free end of the queue's last block (BodySource.readInto,
// block-queue.ts), so most bytes are never copied, and the sink is handed whole blocks of `batchBytes`
// (256 KiB), written while the next ones fill. When the disk is what the download waits for, the full blocks
// that piled up meanwhile go together, up to WRITE_BLOCKS (4 MiB) in one call of the sink (one writev, or
// one message to the thread that writes a large package in small pieces, package-hash.ts): one round trip
// per 4 MiB rather than per 64 KiB socket read (blocks of 1 MiB cost more system time than they saved;
// docs/performance.md has the measurements). The socket may read 8 MiB ahead of the disk: with the writes
// and the hash on a thread, the server and the socket on the same two cores, a shallower queue left a core
// idle a fifth of the time while each stage waited for the next. A partly filled block goes once its
// first byte has waited `holdMs` (a slow or rate-limited transfer still reaches the disk within a fraction
// of a second), and everything queued goes at the end and on a failure that keeps the bytes. With a rate
// limit the sink is handed at most a quarter second of the rate at a time, so the limit stays smooth.
//
// Bounds: the stall timer (no byte for stallTimeoutMs), the low-speed limit (fewer bytes than
// lowSpeed.bytesPerSecond averaged over lowSpeed.windowMs: a server trickling bytes never trips the stall
// timer), and `cap` for a body whose size nobody declared. While the response is paused because the
// station holds it back (rate limit, slow disk) neither the stall timer nor the low-speed window runs.

import { DockhandError } from '../../../shared/model/errors.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Exchange } from './http-exchange.js';
import { BodyOverflow, SizeCapExceeded, SlowTransfer, StallTimeout, TransferAborted } from './transfer-errors.js';
import type { LowSpeedLimit } from './download-options.js';
import { BlockQueue } from './block-queue.js';

export interface PumpOptions {
  exchange: Exchange;
  /** More body bytes than this is a lie about the size: stop and fail with BodyOverflow. */
  limit: number;
  /** Receives the body in order, one or more pieces at a time; the pieces are reused once the returned promise settles. */
  sink: (pieces: Buffer[]) => Promise<void>;
  stallTimeoutMs: number;
  lowSpeed?: LowSpeedLimit | null;
  /** A body of undeclared size may carry at most this many bytes (then SizeCapExceeded). */
  cap?: { bytes: number; whole: number };
  limiter?: RateLimiter;
  signal?: AbortSignal;
  /** Queue size above which the response is paused (and below half of which it is resumed). */
  highWaterBytes?: number;
  /** Bytes gathered before the sink is called (default 256 KiB), and how long fewer may wait (250 ms). */
  batchBytes?: number;
  holdMs?: number;
  /** Filled in when the pump settles: body bytes that had to be copied on their way to the sink. */
  stats?: { copiedBytes: number };
}

const DEFAULT_HIGH_WATER = 8 * 1024 * 1024;
const DEFAULT_BATCH = 256 * 1024;
const DEFAULT_HOLD_MS = 250;
const WRITE_BLOCKS = 16;

// Failures after which bytes already received are still worth writing: the file stays a true prefix.
function keepsQueuedBytes(err: unknown): boolean {
  return !(err instanceof BodyOverflow) && !(err instanceof SizeCapExceeded) && !(err instanceof DockhandError && err.code === 'STORAGE');
}

function isParseError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('HPE_');
}

/** Resolves with the body length once every byte is in the sink; rejects only after the sink is idle. */
export function pumpBody(o: PumpOptions): Promise<number> {
  const { exchange, limiter, signal } = o;
  const body = exchange.body;
  const highWater = o.highWaterBytes ?? DEFAULT_HIGH_WATER;
  const holdMs = o.holdMs ?? DEFAULT_HOLD_MS;
  const blockBytes = o.batchBytes ?? DEFAULT_BATCH;
  return new Promise<number>((resolve, reject) => {
    const queue = new BlockQueue(blockBytes, Math.ceil(highWater / blockBytes) + WRITE_BLOCKS); // enough to reuse every block
    let received = 0;
    let writing = false;
    let paused = false;
    let ended = false;
    let failure: unknown = null;
    let settled = false;
    let stallTimer: NodeJS.Timeout | undefined;
    let speedTimer: NodeJS.Timeout | undefined;
    let holdTimer: NodeJS.Timeout | undefined;
    let held = false; // the oldest queued byte has waited holdMs: a small batch may go
    let windowStart = 0; // bytes received when the current low-speed window began
    const limiterStop = new AbortController(); // frees a chunk waiting in the limiter when we fail

    // The stall timer is re-armed on every socket read (16 000 of them per GiB), so it is lazy: a read only
    // notes its time, and the one timer, when it fires, waits again for whatever is left of the timeout.
    // Clearing and setting a timer per read cost a tenth of a second of CPU per GiB (docs/performance.md).
    let lastByteAt = 0;
    const disarm = (): void => {
      clearTimeout(stallTimer);
      stallTimer = undefined;
    };
    const stallCheck = (): void => {
      const quiet = performance.now() - lastByteAt;
      stallTimer = quiet >= o.stallTimeoutMs ? undefined : setTimeout(stallCheck, o.stallTimeoutMs - quiet);
      if (stallTimer === undefined) fail(new StallTimeout(o.stallTimeoutMs));
    };
    const arm = (): void => {
      lastByteAt = performance.now();
      stallTimer ??= setTimeout(stallCheck, o.stallTimeoutMs);
    };
    const stopSpeedWindow = (): void => clearInterval(speedTimer);
    const startSpeedWindow = (): void => {
      stopSpeedWindow();
      const low = o.lowSpeed;
      if (!low) return;
      windowStart = received;
      speedTimer = setInterval(() => {
        const got = received - windowStart;
        if (got < (low.bytesPerSecond * low.windowMs) / 1000) fail(new SlowTransfer(got, low.windowMs, low.bytesPerSecond));
        windowStart = received;
      }, low.windowMs);
    };

    const settle = (): void => {
      if (settled || writing) return;
      // A batch still waiting for more bytes goes now: the body ended, or failed in a way that keeps it.
      if (queue.size > 0 && (ended || failure !== null)) return void drain();
      if (failure !== null) {
        settled = true;
        reject(failure);
      } else if (ended) {
        settled = true;
        cleanup();
        resolve(received);
      }
    };

    function cleanup(): void {
      if (o.stats) o.stats.copiedBytes = queue.copiedBytes;
      disarm();
      stopSpeedWindow();
      clearTimeout(holdTimer);
      signal?.removeEventListener('abort', onAbort);
      exchange.close();
    }

    function fail(err: unknown): void {
      if (failure !== null || settled) return;
      // Extra bytes after a complete body make the HTTP parser fail: the server sent more than it said.
      failure = isParseError(err) && body.complete ? new BodyOverflow(o.limit, null) : err;
      if (!keepsQueuedBytes(failure)) queue.clear();
      limiterStop.abort();
      cleanup();
      settle();
    }

    // The limiter can be given a rate, or none, while the download runs.
    const limited = (): boolean => (limiter?.rate ?? 0) > 0;

    // With a rate limit the sink gets at most a quarter second of the rate at a time, and no bytes wait
    // for a full block: the limiter is what paces them.
    const share = (): number => (limited() ? Math.min(blockBytes, Math.max(16 * 1024, Math.floor(limiter!.rate / 4))) : blockBytes);

    // How far the socket may read ahead of the writes. Under a rate limit, two of the limiter's shares: the
    // limit is on the network, so the pump must not take a burst of the high water at full speed first (and
    // a pause then finds little more than what the limit allowed).
    const aheadBytes = (): number => (limited() ? Math.min(highWater, 2 * share()) : highWater);

    function hold(): void {
      holdTimer ??= setTimeout(() => {
        holdTimer = undefined;
        held = true;
        void drain();
      }, holdMs);
    }

    async function drain(): Promise<void> {
      if (writing) return;
      writing = true;
      try {
        while (queue.size > 0) {
          const max = share();
          // While the body is still coming, a batch waits for a full block (or a limiter's share); the hold
          // timer bounds the wait.
          if (queue.frontBytes < max && !queue.frontFull && !held && !ended && failure === null) {
            hold();
            break;
          }
          held = false;
          clearTimeout(holdTimer);
          holdTimer = undefined;
          const views = [queue.take(max)!];
          // Behind the disk, whole blocks have piled up: up to WRITE_BLOCKS of them go in one write (writev).
          while (!limited() && views.length < WRITE_BLOCKS && queue.frontFull && views[0]!.bytes.length === blockBytes) views.push(queue.take(blockBytes)!);
          const bytes = views.reduce((n, v) => n + v.bytes.length, 0);
          if (paused && failure === null && queue.size <= aheadBytes() / 2) {
            paused = false;
            body.resume();
            arm();
            startSpeedWindow();
          }
          if (limited() && failure === null) {
            try {
              await limiter!.take(bytes, limiterStop.signal);
            } catch (err) {
              if (failure === null) throw err;
              // we failed meanwhile; the bytes already arrived, so they are written without waiting
            }
          }
          if (failure !== null && !keepsQueuedBytes(failure)) break;
          await o.sink(views.map((v) => v.bytes));
          for (const v of views) queue.recycle(v);
        }
      } catch (err) {
        queue.clear(); // the sink is broken: nothing more can be written
        fail(err); // no-op when a failure was already recorded; settle() below still runs
      }
      writing = false;
      settle();
    }

    function onData(chunk: Buffer): void {
      if (failure !== null) return;
      received += chunk.length;
      if (received > o.limit) return fail(new BodyOverflow(o.limit, received));
      if (o.cap && received > o.cap.bytes) return fail(new SizeCapExceeded(o.cap.whole, null));
      queue.push(chunk);
      if (queue.size >= aheadBytes() && !paused) {
        paused = true;
        body.pause();
        disarm(); // we are not waiting for the server while we hold the response back
        stopSpeedWindow();
      } else if (!paused) {
        arm();
      }
      void drain();
    }

    function onEnd(): void {
      ended = true;
      disarm();
      stopSpeedWindow(); // the server is done; what is left is the station's own pace (rate limit, disk)
      settle();
    }

    function onAbort(): void {
      fail(new TransferAborted());
    }

    if (signal?.aborted) return fail(new TransferAborted());
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
    startSpeedWindow();
    body.readInto(() => queue.space()); // the socket reads into the blocks: no copy (block-queue.ts)
    // Bytes that came with the head are delivered at once (and may fail the pump), before a failure the
    // connection already met is taken: what arrived is kept whatever happened after.
    body.start(onData, onEnd);
    exchange.onFailure((err) => fail(err));
  });
}
