// Which profiles the field kit has, which one is the default, and what a status view shows of it — read
// from the kit's index alone, so `station status` and `kit status` can say the same as the running station.
import type { KitProfileView, KitView } from '../../../shared/model/field-kit.js';
import { documentText, parseInstructions } from '../../../shared/protocol/index.js';
import type { KitFileRecord, KitStore } from '../../store/kit-store.js';
import { packageKey } from '../confine.js';
import type { KitProfile } from './refresh.js';

/** Profiles named by the technician when there are any; else every profile the kit learned (devices, an import). */
export function effectiveProfiles(store: KitStore, configured: ReadonlyArray<{ name: string; device: string }>): KitProfile[] {
  if (configured.length) return configured.map((p) => ({ deviceId: p.device, name: p.name, origin: 'configured' as const }));
  return store.profiles().map((p) => ({ deviceId: p.deviceId, name: p.name, origin: p.origin }));
}

/** A profile by device ID, else by name. */
export function findProfile(profiles: KitProfile[], nameOrId: string): KitProfile | null {
  return profiles.find((p) => p.deviceId === nameOrId) ?? profiles.find((p) => p.name === nameOrId) ?? null;
}

/** The technician's default, else the one an imported kit named, else the first the kit holds an answer for. */
export function defaultProfileOf(store: KitStore, profiles: KitProfile[], chosen: string | undefined): KitProfile | null {
  const polled = store.pollTimes();
  const held = (p: KitProfile | null) => (p && polled.has(p.deviceId) ? p : null);
  const imported = store.get('default_profile');
  return held(chosen ? findProfile(profiles, chosen) : null) ?? held(imported ? findProfile(profiles, imported) : null) ??
    profiles.find((p) => polled.has(p.deviceId)) ?? null;
}

/** The kit as status views show it; `fileReady` says whether the cache still holds a kept file, verified. */
export function kitView(store: KitStore, profiles: KitProfile[], fallback: KitProfile | null, fileReady: (f: KitFileRecord) => boolean): KitView {
  const iso = (t: number | null | undefined) => (t === null || t === undefined ? null : new Date(t).toISOString());
  const times = store.partTimes();
  const files = new Map(store.files().map((f) => [packageKey(f.packageId), f]));
  const kept = new Map(store.profiles().map((p) => [p.deviceId, p]));
  const views: KitProfileView[] = profiles.map((p) => {
    const mine = times.filter((t) => t.profile === p.deviceId);
    const at = (kind: string, id: string) => mine.find((t) => t.kind === kind && packageKey(t.packageId) === packageKey(id))?.fetchedAt;
    const record = kept.get(p.deviceId);
    return {
      deviceId: p.deviceId, name: p.name, origin: p.origin, isDefault: fallback?.deviceId === p.deviceId,
      polledAt: iso(mine.find((t) => t.kind === 'poll')?.fetchedAt), refreshedAt: iso(record?.refreshedAt),
      packages: (record?.listed ?? []).map((id) => {
        const f = files.get(packageKey(id));
        const instructions = at('instructions', id) !== undefined ? store.part(p.deviceId, 'instructions', id) : null;
        return {
          id, name: f?.name ?? nameOf(instructions?.body, id), instructionsAt: iso(at('instructions', id)), locationAt: iso(at('location', id)),
          fileAt: iso(f?.fetchedAt), size: f?.size ?? null, sha256: f?.sha256 ?? null, fileReady: f ? fileReady(f) : false,
          noFiles: !f && sourceFilesOf(instructions?.body, id) === false,
        };
      }),
    };
  });
  return { asOf: views.find((p) => p.isDefault)?.polledAt ?? null, defaultProfile: fallback?.name ?? null, profiles: views };
}

function readInstructions(body: Buffer | undefined, id: string) {
  if (!body) return null;
  try {
    return parseInstructions(documentText(body), id).Packages[0] ?? null;
  } catch {
    return null;
  }
}

/** Whether the kept instructions bring files (SourceFiles); null when there are none or they do not read. */
function sourceFilesOf(body: Buffer | undefined, id: string): boolean | null {
  return readInstructions(body, id)?.SourceFiles ?? null;
}

function nameOf(body: Buffer | undefined, id: string): string | null {
  return readInstructions(body, id)?.Name ?? null;
}
