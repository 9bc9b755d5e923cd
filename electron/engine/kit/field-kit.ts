// The station's field kit (docs/field-kit.md): per profile — a device identity the server knows, standing
// for a kind of device — the server's answers and the package files needed to provision a docked device
// when the server cannot be reached. It answers the sessions (kit-access.ts) and keeps itself current:
//
//   profiles   the ones named in station.json or with --profile NAME=DEVICE-ID; when none are named, every
//              device that has docked here (and polled) is its own profile. The default profile — the one
//              a new device gets — is `defaultProfile` when set, else the one an imported kit named, else
//              the first profile the kit holds an answer for (the first device docked).
//   refresh    on every successful poll of a profile's own device (its answer is kept as it came), after
//              every poll of the station itself for named profiles not docked here whose answer is older
//              than the station's poll interval, and on request (`dockhand kit refresh`) for every profile.
//              One refresh runs at a time; refresh.ts says what each asks of the server.
import type { PackageRecord } from '../../../shared/model/client.js';
import type { Identification } from '../../../shared/protocol/types.js';
import type { KitView } from '../../../shared/model/field-kit.js';
import { DockhandError, describeError } from '../../../shared/model/errors.js';
import type { KitStore } from '../../store/kit-store.js';
import type { PackageCache } from '../package-cache.js';
import type { Clock } from '../clock.js';
import type { ClientSession } from '../session.js';
import type { DmResponse } from '../dm-http.js';
import type { FieldKitAccess, KitAnswer, KitBytes } from './kit-access.js';
import { KIT_KV, kitSource } from './offline-state.js';
import { keepFile, refreshProfile, type KitIdentity, type KitProfile } from './refresh.js';
import { packageKey } from '../confine.js';
import type { TaskWaitKind } from '../../../shared/model/wait.js';

/** Waits of a download event that will fetch its bytes by itself soon: due now, or trying the server again. */
const FETCHING_WAITS: readonly TaskWaitKind[] = ['none', 'server', 'retry', 'storage'];
import { defaultProfileOf, effectiveProfiles, findProfile, kitView } from './kit-view.js';

/** A profile as station.json and --profile name it. */
export interface ProfileSetting {
  name: string;
  device: string;
}

export interface FieldKitOptions {
  store: KitStore;
  cache: PackageCache;
  clock: Clock;
  /** Profiles named by the technician; when none are, every device that docked here is its own. */
  configured: () => ProfileSetting[];
  /** The default profile's name or device ID, when the technician chose one. */
  defaultProfile: () => string | undefined;
  /** The station's configured server: profiles are refreshed there. */
  server: () => string;
  /** The station's own poll interval: how old a named profile's answer may get before the station asks again. */
  pollIntervalMs: () => number;
  sessions: () => Iterable<ClientSession>;
  log: (level: 'info' | 'warn', message: string) => void;
  onContact: (server: string) => void;
  /** Something in the kit changed (status views). */
  onChange?: () => void;
}

export class FieldKit implements FieldKitAccess {
  readonly store: KitStore;
  private readonly abort = new AbortController();
  /** Profiles waiting for a refresh, with their device's own poll answer when that is what started it. */
  private readonly queue = new Map<string, Buffer | null>();
  private worker: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly opts: FieldKitOptions) {
    this.store = opts.store;
  }

  // ---- profiles -------------------------------------------------------------------------------------

  profiles(): KitProfile[] {
    return effectiveProfiles(this.store, this.opts.configured());
  }

  profile(nameOrId: string): KitProfile | null {
    return findProfile(this.profiles(), nameOrId);
  }

  /** The profile a new device is provisioned from; null when the kit holds no answer for any profile. */
  defaultProfile(): KitProfile | null {
    return defaultProfileOf(this.store, this.profiles(), this.opts.defaultProfile());
  }

  /** The profile whose answers stand in for this session's server: the one it was provisioned from, else its own. */
  private profileOf(session: ClientSession): KitProfile | null {
    const source = kitSource(session.store);
    if (source) return this.profile(source.profile) ?? { deviceId: source.profile, name: source.profileName, origin: 'device' };
    return this.profiles().find((p) => p.deviceId === session.target.id) ?? null;
  }

  // ---- what the sessions ask -------------------------------------------------------------------------

  inUse(): boolean {
    return this.profiles().length > 0;
  }

  forNewDevice(session: ClientSession): KitAnswer | null {
    if (session.target.kind !== 'tethered') return null;
    const choice = session.store.get(KIT_KV.choice);
    const profile = (choice ? this.profile(choice) : null) ?? this.defaultProfile();
    const part = profile ? this.store.part(profile.deviceId, 'poll') : null;
    return profile && part ? { profile: profile.deviceId, profileName: profile.name, body: part.body, fetchedAt: part.fetchedAt } : null;
  }

  answer(session: ClientSession, kind: 'instructions' | 'location', packageId: string): KitAnswer | null {
    const profile = this.profileOf(session);
    const part = profile ? this.store.part(profile.deviceId, kind, packageId) : null;
    return profile && part ? { profile: profile.deviceId, profileName: profile.name, body: part.body, fetchedAt: part.fetchedAt } : null;
  }

  bytes(pkg: PackageRecord): KitBytes | null {
    const held = this.opts.cache.verifiedCopy(pkg.id, pkg.packageSize, pkg.sha256);
    return held ? { url: held.url, fileName: held.fileName, size: held.expectedSize, sha256: held.sha256 } : null;
  }

  fetched(pkg: PackageRecord): void {
    if (this.closed || !this.store.listedPackages().includes(packageKey(pkg.id))) return;
    const held = this.opts.cache.verifiedCopy(pkg.id, pkg.packageSize, pkg.sha256);
    if (held) keepFile(this.store, this.opts.cache, held, pkg.id, pkg.name);
  }

  /** A download event of some target is fetching this package now, or will retry it: the kit leaves it to it. */
  private fetchedElsewhere(packageId: string): boolean {
    const key = packageKey(packageId);
    return [...this.opts.sessions()].some((s) => s.store.tasks().some((t) => t.kind === 'download' && packageKey(t.packageId) === key &&
      (t.state === 'running' || (t.state === 'queued' && FETCHING_WAITS.includes(t.wait.kind)))));
  }

  /**
   * Before a device's own poll answer is refreshed into the kit, the device asks for its instructions: then
   * its download events, not the kit, fetch what it needs now (the kit keeps those bytes when they arrive).
   */
  private async settle(session: ClientSession): Promise<void> {
    const asking = () => session.store.tasks().some((t) => t.kind === 'instruction' &&
      (t.state === 'running' || (t.state === 'queued' && t.wait.kind === 'none' && t.nextRun <= session.now())));
    while (!this.closed && !session.signal.aborted && session.connected() && asking()) await session.whenChanged();
  }

  polled(session: ClientSession, res: DmResponse): void {
    if (this.closed) return;
    if (session.target.kind !== 'tethered') {
      this.refreshStale();
      return;
    }
    const id = session.target.id;
    const named = this.opts.configured();
    const profile = named.length ? this.profile(id) : { deviceId: id, name: deviceName(session), origin: 'device' as const };
    if (!profile || profile.deviceId !== id) return;
    this.enqueue(id, res.body);
  }

  // ---- refreshing ------------------------------------------------------------------------------------

  /** Refreshes the given profiles (all when none are given), polling as each; resolves when done. */
  async refresh(ids?: string[]): Promise<void> {
    for (const p of this.profiles()) if (!ids || ids.includes(p.deviceId)) this.enqueue(p.deviceId, null);
    await this.idle();
  }

  /** Named profiles whose device is not docked here and whose answer is older than the station's poll interval. */
  private refreshStale(): void {
    const now = this.opts.clock.now();
    const docked = new Set([...this.opts.sessions()].filter((s) => s.target.kind === 'tethered' && s.connected()).map((s) => s.target.id));
    for (const p of this.opts.configured()) {
      const poll = this.store.part(p.device, 'poll');
      if (!docked.has(p.device) && (!poll || now - poll.fetchedAt >= this.opts.pollIntervalMs())) this.enqueue(p.device, null);
    }
  }

  private enqueue(deviceId: string, polled: Buffer | null): void {
    if (this.closed) return;
    // A device's own answer is newer than a poll the refresh would make: keep it if one is queued.
    if (!this.queue.has(deviceId) || polled) this.queue.set(deviceId, polled);
    this.worker ??= this.work().finally(() => {
      this.worker = null;
    });
  }

  private async work(): Promise<void> {
    for (const [id, polled] of this.queue) {
      this.queue.delete(id);
      const profile = this.profile(id) ?? this.profileFromSession(id);
      if (!profile || this.closed) continue;
      try {
        const own = polled ? [...this.opts.sessions()].find((s) => s.target.id === id && s.target.kind === 'tethered') : undefined;
        if (own) await this.settle(own);
        const identity = await this.identity(profile);
        const out = await refreshProfile({
          store: this.store, cache: this.opts.cache, clock: this.opts.clock, server: this.opts.server(), signal: this.abort.signal,
          log: this.opts.log, onContact: this.opts.onContact, fetchedElsewhere: (p) => this.fetchedElsewhere(p),
        }, profile, identity, polled);
        this.opts.log(out.problems.length ? 'warn' : 'info', `field kit: profile ${profile.name} refreshed (${out.packages} package(s)` +
          `${out.problems.length ? `; ${out.problems.length} could not be kept` : ''})`);
      } catch (err) {
        if (this.closed) return;
        this.opts.log('warn', `field kit: the refresh of profile ${profile.name} stopped: ${describeError(err)}; the kit keeps what it held`);
        if (err instanceof DockhandError && err.code === 'NETWORK') this.queue.clear(); // the others would fail the same way
      } finally {
        this.opts.onChange?.();
      }
    }
  }

  /** A docked device that is its own profile (no profiles named), seen for the first time. */
  private profileFromSession(id: string): KitProfile | null {
    if (this.opts.configured().length) return null;
    const session = [...this.opts.sessions()].find((s) => s.target.id === id);
    return session ? { deviceId: id, name: deviceName(session), origin: 'device' } : null;
  }

  /** The identity the station asks as: the device's own when it docked here, else the kit's record of it. */
  private async identity(profile: KitProfile): Promise<KitIdentity> {
    const session = [...this.opts.sessions()].find((s) => s.target.id === profile.deviceId && s.target.kind === 'tethered');
    if (session) {
      const s = session.settings();
      return { identification: await session.target.identification(), auth: s.auth, timestamp: s.timestamp };
    }
    const kept = this.store.profile(profile.deviceId);
    return { identification: stationIdentification(profile), auth: kept?.auth ?? '', timestamp: kept?.timestamp ?? '' };
  }

  /** Resolves once no refresh is queued or running. */
  async idle(): Promise<void> {
    while (this.worker) await this.worker;
  }

  busy(): boolean {
    return this.worker !== null;
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
    this.abort.abort();
  }

  // ---- what status views show ------------------------------------------------------------------------

  /**
   * The kit at a glance (the header, the cards): its profiles, the default and when the server last answered
   * for each — without reading any answer, so the station service can ask at every change.
   */
  summary(): { asOf: string | null; defaultProfile: string | null; profiles: Array<{ deviceId: string; name: string; polledAt: string | null; isDefault: boolean }> } {
    const polled = this.store.pollTimes();
    const fallback = this.defaultProfile();
    const profiles = this.profiles().map((p) => {
      const at = polled.get(p.deviceId);
      return { deviceId: p.deviceId, name: p.name, polledAt: at === undefined ? null : new Date(at).toISOString(), isDefault: p.deviceId === fallback?.deviceId };
    });
    return { asOf: profiles.find((p) => p.isDefault)?.polledAt ?? null, defaultProfile: fallback?.name ?? null, profiles };
  }

  view(): KitView {
    return kitView(this.store, this.profiles(), this.defaultProfile(), (f) => this.opts.cache.verifiedCopy(f.packageId, f.size, f.sha256) !== null);
  }
}

function deviceName(session: ClientSession): string {
  return session.store.getJson<{ name?: string }>('hello')?.name ?? session.target.id;
}

/**
 * How the station identifies itself when it polls as a named profile whose device never docked here: the
 * profile's ID and name, and a platform that says what it is (docs/field-kit.md).
 */
function stationIdentification(profile: KitProfile): Identification {
  return { ID: profile.deviceId, DeviceName: profile.name, Platform: 'Dockhand field kit profile', Processor: '0', CodePage: 65001, SystemDefaultLCID: 1033 };
}
