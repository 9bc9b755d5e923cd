// One device as the station API carries it: identity, slot, and the verdict with the per-package results
// and download events it was computed from. Used by the running station's service and by the CLI (which
// reads a data folder), so both say the same thing about the same device.
import type { Device, DeviceEvent, DevicePackage, DeviceVerdict } from '../../../shared/contract/station-api.js';
import { deviceVerdict, packageResults, type PackageEvent, type Verdict, type VerdictTransfer } from '../../../shared/model/verdict.js';
import { packageResultWords, verdictDetail, verdictWords, VERDICT_TITLES } from '../../../shared/model/verdict-words.js';
import type { ClientStore } from '../../store/client-store.js';
import type { CacheEntry } from '../../store/cache-store.js';
import { historyOf, readTargetFacts } from './facts.js';
import { KIT_KV, kitSource, provisionedOffline } from '../../engine/kit/offline-state.js';

export const HISTORY_SHOWN = 50;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function verdictView(v: Verdict, now: number): DeviceVerdict {
  return {
    kind: v.kind, title: VERDICT_TITLES[v.kind], words: verdictWords(v, now), detail: verdictDetail(v, now),
    nextStep: v.kind === 'failed' ? v.nextStep : '',
    packageId: 'packageId' in v ? v.packageId : '',
    percent: v.kind === 'working' ? v.percent : null,
    until: v.kind === 'waiting' ? iso(v.until) : null,
  };
}

export function eventView(e: PackageEvent): DeviceEvent {
  return {
    packageId: e.packageId, name: e.name ?? e.packageId, sha256: e.sha256, startedAt: iso(e.startedAt)!, endedAt: iso(e.endedAt),
    outcome: e.outcome ?? 'running', failedPhase: e.failedPhase, exitCode: e.exitCode, reason: e.reason,
  };
}

export interface DeviceViewOptions {
  cache: CacheEntry[];
  slots: Record<string, string>;
  now: number;
  /** Transfers in flight for this device (the running station knows them; a data folder does not). */
  live?: VerdictTransfer[];
  /** Whether the device is docked now; a data folder read while no station runs has none docked. */
  docked: boolean;
  /** How many of the latest download events to carry (the board shows HISTORY_SHOWN; a record wants all). */
  historyLimit?: number;
  /** Names of the field-kit profiles by device ID (the profile a technician picked is stored by its ID). */
  kitProfiles?: Map<string, string>;
}

/** The device of a tethered target's client database. */
export function deviceView(store: ClientStore, o: DeviceViewOptions): Device {
  const id = store.get('id') ?? '?';
  const port = store.get('port') ?? '';
  const docked = store.get('last_docked_at');
  const facts = readTargetFacts(store, { docked: o.docked, cache: o.cache, now: o.now, ...(o.live ? { live: o.live } : {}) });
  const results = packageResults(facts.input);
  const packages: DevicePackage[] = results.map((r) => ({
    id: r.id, name: r.name, result: r.result, words: packageResultWords(r), phase: r.phase, reason: r.reason, exitCode: r.exitCode,
    sha256: r.sha256, startedAt: iso(r.startedAt), endedAt: iso(r.endedAt),
  }));
  const lastResult = facts.packages.filter((p) => p.lastResult).sort((a, b) => a.updatedAt - b.updatedAt).at(-1)?.lastResult ?? '';
  return {
    id, name: store.getJson<{ name?: string }>('hello')?.name ?? id, port, slot: o.slots[port] ?? '',
    state: o.docked ? 'docked' : 'undocked', currentPackage: store.get('current_package') ?? '', lastResult,
    lastDockedAt: docked ? new Date(Number(docked)).toISOString() : null, undockReason: store.get('undock_reason') ?? '',
    verdict: verdictView(deviceVerdict(facts.input), o.now), packages,
    history: historyOf(store, o.historyLimit === Infinity ? undefined : (o.historyLimit ?? HISTORY_SHOWN)).map(eventView),
    // The field kit (docs/field-kit.md): provisioned while the server could not be reached, and what still waits for it.
    provisionedOffline: provisionedOffline(store),
    kitProfile: kitSource(store)?.profileName ?? o.kitProfiles?.get(store.get(KIT_KV.choice) ?? '') ?? '',
    messagesWaiting: store.outbox(['queued']).length,
  };
}
