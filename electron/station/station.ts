// Composition root of the station: the local target's client database and session, the shared package
// cache and rate limiter, and the loop that runs every session's due work.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { EngineEvent } from '../../shared/model/events.js';
import { ClientStore } from '../store/client-store.js';
import { ClientSession } from '../engine/session.js';
import { LocalTarget } from '../engine/local-target.js';
import { systemClock, type Clock } from '../engine/clock.js';
import { RateLimiter } from '../engine/transfer/rate-limiter.js';
import { PackageCache } from '../engine/package-cache.js';
import { detectBandwidthClass, type BandwidthClass } from '../engine/local/host-identity.js';

export interface StationOptions {
  dataDir: string;
  /** Folder the station's own packages land in; default DATA/root. */
  root?: string;
  /** Management server URL (…/devicemgmt/server.aspx). Required: the CLI starts the demo server when none is given. */
  server: string;
  /** Device ID of the station itself; generated once and kept when absent. */
  id?: string;
  allowCommands?: boolean;
  /** Shared download cap in bytes per second; 0 = unlimited. */
  rateLimit?: number;
  /** How the station classifies its own connection for package Flags; `auto` reads the link speed. */
  bandwidth?: 'auto' | BandwidthClass;
  clock?: Clock;
  emit?: (e: EngineEvent) => void;
  commandTimeoutMs?: number;
}

export const localTargetDb = (dataDir: string) => path.join(dataDir, 'targets', 'local', 'client.sqlite');

/** Picks the local target's device ID: the one asked for, else the one kept, else a new GUID. */
function resolveId(store: ClientStore, wanted: string | undefined): string {
  const kept = store.get('id');
  const id = wanted?.trim() || kept || randomUUID().toUpperCase();
  if (id !== kept) store.set('id', id);
  return id;
}

export class Station {
  readonly sessions: ClientSession[] = [];
  readonly limiter: RateLimiter;
  readonly root: string;
  private wakeUp: (() => void) | null = null;

  private constructor(readonly opts: StationOptions, readonly local: ClientSession, readonly cache: PackageCache, limiter: RateLimiter) {
    this.sessions.push(local);
    this.limiter = limiter;
    this.root = opts.root ?? path.join(opts.dataDir, 'root');
  }

  static async open(opts: StationOptions): Promise<Station> {
    const root = path.resolve(opts.root ?? path.join(opts.dataDir, 'root'));
    await mkdir(root, { recursive: true });
    const cacheDir = path.join(opts.dataDir, 'cache');
    await mkdir(cacheDir, { recursive: true });
    const store = new ClientStore(localTargetDb(opts.dataDir));
    const id = resolveId(store, opts.id);
    // A server given on the command line replaces the one kept (even one a PollServer moved us to).
    if (store.get('configured_server') !== opts.server) {
      store.set('configured_server', opts.server);
      store.set('server', opts.server);
    }
    store.set('root', root);
    const bandwidthSetting = opts.bandwidth ?? 'auto';
    let detected: BandwidthClass | null = null;
    const bandwidth = (): BandwidthClass => {
      if (bandwidthSetting !== 'auto') return bandwidthSetting;
      detected ??= detectBandwidthClass();
      return detected;
    };
    const limiter = new RateLimiter(opts.rateLimit ?? 0);
    const clock = opts.clock ?? systemClock;
    const cache = new PackageCache(cacheDir, limiter, clock);
    const target = new LocalTarget({ id, root, bandwidth, ...(opts.commandTimeoutMs ? { commandTimeoutMs: opts.commandTimeoutMs } : {}) });
    const session = new ClientSession({
      store, target, clock, cache,
      allowCommands: opts.allowCommands ?? false, ...(opts.emit ? { emit: opts.emit } : {}),
    });
    session.start();
    return new Station({ ...opts, root }, session, cache, limiter);
  }

  /** Runs every session's due work until nothing more is due now. */
  async runUntilIdle(maxSteps = 10_000): Promise<void> {
    for (let step = 0; step < maxSteps; step += 1) {
      let worked = false;
      for (const s of this.sessions) {
        if (await s.tick()) worked = true;
      }
      if (!worked) return;
    }
    throw new Error(`the station did ${maxSteps} steps without becoming idle; a task is probably looping`);
  }

  /** Runs until `signal` aborts, sleeping until the next due task (re-checking every few seconds). */
  async run(signal: AbortSignal, recheckMs = 2000): Promise<void> {
    while (!signal.aborted) {
      await this.runUntilIdle();
      const now = (this.opts.clock ?? systemClock).now();
      const wakes = this.sessions.map((s) => s.nextWake()).filter((w): w is number => w !== null);
      const delay = Math.max(10, Math.min(recheckMs, ...wakes.map((w) => w - now)));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        const onAbort = () => done();
        signal.addEventListener('abort', onAbort, { once: true });
        this.wakeUp = done;
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve();
        }
      });
      this.wakeUp = null;
    }
  }

  /** Something outside changed (a device docked, a package was accepted): look again now. */
  wake(): void {
    this.wakeUp?.();
  }

  problems(): string[] {
    return this.sessions.flatMap((s) => s.problems.map((p) => p.message));
  }

  close(): void {
    for (const s of this.sessions) {
      s.stop();
      s.store.close();
    }
    this.cache.close();
  }
}
