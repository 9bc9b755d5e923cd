// An emulated serial cable that runs at a real line rate. Pseudo-terminals move bytes as fast as the CPU
// allows and ignore the baud setting, so two socat pty pairs are joined by a relay in this process that
// forwards each direction at no more than baud/10 bytes per second (8N1: a start bit, 8 data bits, a stop
// bit; 115200 baud = 11,520 bytes/s):
//
//   station path ⇄ socat ⇄ station-inner ⇄ relay (token bucket per direction) ⇄ device-inner ⇄ socat ⇄ device path
//
// Pacing is smooth: a timer releases small chunks, never more than the bucket holds (`burst`, a few ticks
// worth). Every release is logged with the relay's own clock, so a test can check the pacing arithmetic
// instead of timing anything. Hooks can corrupt, drop or inject bytes. close() kills the socat process
// groups; socat also runs under `timeout` so a crashed test cannot leave it behind for long.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { waitFor } from './tmp.js';

export type Direction = 'toDevice' | 'toStation';

export interface LineRateLinkOptions {
  baud?: number;
  /** Bits on the wire per byte (8N1 = 10). */
  bitsPerByte?: number;
  /** Pacing timer period (default 4 ms). */
  tickMs?: number;
  /** Bucket size in bytes (default: 5 ticks' worth, at least 16). */
  burst?: number;
  /** Stop reading a side while this many bytes wait to be paced out (default 64 KiB), as a UART would. */
  queueLimit?: number;
  /** Rewrites bytes as the relay takes them in (corruption, drops); `offset` counts that direction's bytes. */
  transform?: (dir: Direction, chunk: Uint8Array, offset: number) => Uint8Array;
}

export interface Release {
  /** The relay's clock (performance.now(), ms). */
  t: number;
  bytes: number;
}

export interface LineRateLink {
  readonly stationPath: string;
  readonly devicePath: string;
  /** Bytes per second each way. */
  readonly rate: number;
  readonly burst: number;
  /** Process-group ids of the socat processes (for tests that check nothing is left behind). */
  readonly processGroups: readonly number[];
  /** Bytes taken in from each side / written out to the other side. */
  readonly received: Record<Direction, number>;
  readonly released: Record<Direction, number>;
  /** How often the relay stopped reading a side because too much waited (a sender outrunning the line). */
  readonly holds: Record<Direction, number>;
  /** Every release, in order, for pacing checks. */
  releases(dir: Direction): readonly Release[];
  /** Bytes waiting in the relay. */
  queued(dir: Direction): number;
  /** Adds bytes to a direction as if the sender had written them (noise on the line). */
  inject(dir: Direction, bytes: Uint8Array): void;
  close(): Promise<void>;
}

/**
 * The largest amount by which any stretch of releases exceeded what the line allows: bytes released from
 * release i to release j must be at most burst + rate × (t_j − t_i). ≤ 0 means the pacing held.
 */
export function pacingExcess(log: readonly Release[], rate: number, burst: number): number {
  let worst = -Infinity;
  let before = 0; // bytes released before the current one
  let minStart = Infinity; // min over i ≤ j of (bytes before i − rate·t_i)
  for (const r of log) {
    minStart = Math.min(minStart, before - (rate * r.t) / 1000);
    const after = before + r.bytes;
    worst = Math.max(worst, after - (rate * r.t) / 1000 - minStart - burst);
    before = after;
  }
  return worst;
}

interface Side {
  reader: tty.ReadStream;
  writeFd: number;
}

interface Lane {
  chunks: Buffer[];
  size: number;
  tokens: number;
  from: Side;
  to: Side;
  log: Release[];
  paused: boolean;
}

async function startSocat(a: string, b: string, stderr: string[]): Promise<ChildProcess> {
  const child = spawn('timeout', ['900', 'socat', '-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    detached: true, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  child.stderr!.on('data', (c: Buffer) => {
    text += c.toString();
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', (err) => {
    exited = true;
    text += String(err);
  });
  try {
    await waitFor('socat to make its pty pair', () => {
      if (exited) throw new Error(`socat could not start (is the socat package installed?): ${text.trim()}`);
      return text.includes('starting data transfer loop');
    }, 10_000, 10);
  } catch (err) {
    kill(child);
    throw err;
  }
  stderr.push(text);
  return child;
}

function kill(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Stops one `timeout socat …` group. SIGTERM to `timeout` first: it passes the signal on and reaps socat,
 * so no zombie is left in the group (a container's pid 1 may never reap orphans). SIGKILL after a second.
 */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 1000)));
  if ((await Promise.race([exited, late])) === 'late') {
    kill(child);
    await exited;
  }
  clearTimeout(timer);
  kill(child); // anything else still in the group
}

function openSide(p: string): Side {
  const flags = constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK;
  // One descriptor for reading through libuv's tty handle, another for non-blocking writes: a
  // tty.WriteStream would switch the descriptor to blocking writes and stall the event loop.
  return { reader: new tty.ReadStream(openSync(p, flags)), writeFd: openSync(p, flags) };
}

export async function startLineRateLink(opts: LineRateLinkOptions = {}): Promise<LineRateLink> {
  const baud = opts.baud ?? 115_200;
  const rate = baud / (opts.bitsPerByte ?? 10);
  const tickMs = opts.tickMs ?? 4;
  const burst = opts.burst ?? Math.max(16, Math.ceil((rate * tickMs * 5) / 1000));
  const queueLimit = opts.queueLimit ?? 64 * 1024;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-line-'));
  const p = (name: string) => path.join(dir, name);
  const socats: ChildProcess[] = [];
  const sides: Side[] = [];
  const stderr: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const close = async () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    for (const s of sides) {
      s.reader.destroy();
      try {
        closeSync(s.writeFd);
      } catch {
        // already closed
      }
    }
    await Promise.all(socats.map(stop));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    socats.push(await startSocat(p('station'), p('station-inner'), stderr));
    socats.push(await startSocat(p('device'), p('device-inner'), stderr));
    const stationSide = openSide(p('station-inner'));
    sides.push(stationSide);
    const deviceSide = openSide(p('device-inner'));
    sides.push(deviceSide);

    const received: Record<Direction, number> = { toDevice: 0, toStation: 0 };
    const released: Record<Direction, number> = { toDevice: 0, toStation: 0 };
    const holds: Record<Direction, number> = { toDevice: 0, toStation: 0 };
    const lane = (from: Side, to: Side): Lane => ({ chunks: [], size: 0, tokens: burst, from, to, log: [], paused: false });
    const lanes: Record<Direction, Lane> = { toDevice: lane(stationSide, deviceSide), toStation: lane(deviceSide, stationSide) };

    const enqueue = (d: Direction, bytes: Uint8Array) => {
      const l = lanes[d];
      if (bytes.length === 0) return;
      l.chunks.push(Buffer.from(bytes));
      l.size += bytes.length;
      if (l.size >= queueLimit && !l.paused) {
        l.paused = true;
        holds[d] += 1;
        l.from.reader.pause();
      }
    };
    for (const d of ['toDevice', 'toStation'] as const) {
      lanes[d].from.reader.on('data', (chunk: Buffer) => {
        const offset = received[d];
        received[d] += chunk.length;
        enqueue(d, opts.transform ? opts.transform(d, chunk, offset) : chunk);
      });
      // EIO when socat goes away at close; nothing to report.
      lanes[d].from.reader.on('error', () => undefined);
    }

    let last = performance.now();
    const pump = () => {
      const now = performance.now();
      const earned = (rate * (now - last)) / 1000;
      last = now;
      for (const d of ['toDevice', 'toStation'] as const) {
        const l = lanes[d];
        l.tokens = Math.min(burst, l.tokens + earned);
        while (l.size > 0 && l.tokens >= 1) {
          const head = l.chunks[0]!;
          const n = Math.min(head.length, Math.floor(l.tokens));
          let wrote: number;
          try {
            wrote = writeSync(l.to.writeFd, head, 0, n);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break; // the far side is full: hold the bytes
            throw err;
          }
          if (wrote <= 0) break;
          l.tokens -= wrote;
          l.size -= wrote;
          released[d] += wrote;
          l.log.push({ t: now, bytes: wrote });
          if (wrote === head.length) l.chunks.shift();
          else l.chunks[0] = head.subarray(wrote);
        }
        if (l.paused && l.size < queueLimit / 2) {
          l.paused = false;
          l.from.reader.resume();
        }
      }
    };
    timer = setInterval(() => {
      try {
        pump();
      } catch {
        // the ptys are gone (closing); stop pacing
        clearInterval(timer);
      }
    }, tickMs);

    return {
      stationPath: p('station'),
      devicePath: p('device'),
      rate,
      burst,
      processGroups: socats.map((c) => c.pid!),
      received,
      released,
      holds,
      releases: (d) => lanes[d].log,
      queued: (d) => lanes[d].size,
      inject: (d, bytes) => enqueue(d, bytes),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A plain reader/writer on one end of the link, for tests that talk to it without a serial library. */
export interface PtyEnd {
  write(bytes: Uint8Array): Promise<void>;
  onData(listener: (bytes: Buffer) => void): void;
  close(): void;
}

export function openPtyEnd(p: string): PtyEnd {
  const side = openSide(p);
  side.reader.on('error', () => undefined);
  let open = true;
  return {
    async write(bytes) {
      let at = 0;
      while (at < bytes.length) {
        if (!open) throw new Error(`${p} is closed`);
        try {
          at += writeSync(side.writeFd, bytes, at, bytes.length - at);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          await new Promise<void>((r) => setTimeout(r, 2)); // the pty buffer is full: let the relay drain it
        }
      }
    },
    onData(listener) {
      side.reader.on('data', listener);
    },
    close() {
      open = false;
      side.reader.destroy();
      try {
        closeSync(side.writeFd);
      } catch {
        // already closed
      }
    },
  };
}
