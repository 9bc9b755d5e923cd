// Refreshing one profile's field kit while the server can be reached (docs/field-kit.md "What the server
// sees"). As the profile's device identity, the station:
//   1. polls — unless the profile's own device just did, whose answer is kept instead (no extra poll);
//   2. asks for the instructions of every package the answer lists (the device itself asks only for those
//      it needs now; the kit needs them all);
//   3. asks for a package's location only when the station cache lacks its bytes (or the kit never held an
//      answer): the location answer is kept, and its URL gives the bytes;
//   4. downloads missing bytes into the station cache — shared with the sessions, resumable, verified by
//      size and by SHA-256 where published — and pins them there for the kit; bytes a device's own download
//      event is fetching (or retrying) are left to it, and kept when they arrive.
// Each answer is kept exactly as it arrived, with its size, SHA-256 and fetch time, after it parsed. A
// package that fails (refused, unreadable, a hash mismatch) is skipped and named; an unreachable server ends
// the refresh, and the kit keeps what it had.
import type { Identification } from '../../../shared/protocol/types.js';
import {
  buildDeviceHeaders, buildInstructionsRequest, buildPackageLocationRequest, buildPollRequest, documentText, parseInstructions,
  parsePackageLocation, type DeviceAction,
} from '../../../shared/protocol/index.js';
import { DockhandError, describeError } from '../../../shared/model/errors.js';
import type { KitStore } from '../../store/kit-store.js';
import type { PackageCache } from '../package-cache.js';
import type { Clock } from '../clock.js';
import { postToServer, type DmResponse } from '../dm-http.js';
import { CLIENT_VERSION, MANAGEMENT_SYSTEM_NAME } from '../client-settings.js';
import { packageIdProblem, packageKey } from '../confine.js';
import { fileNameFromUrl } from '../download-event.js';
import { networkId } from '../local/host-network.js';
import { parseOffThread } from '../../protocol/parse-off-thread.js';

/** The cache user that pins the kit's package files (cache entries stay while any user remains). */
export const KIT_USER = 'field-kit';

export interface KitProfile {
  deviceId: string;
  name: string;
  origin: 'configured' | 'device' | 'imported';
}

/** Who the station says it is when it asks as the profile. */
export interface KitIdentity {
  identification: Identification;
  auth: string;
  timestamp: string;
}

export interface RefreshContext {
  store: KitStore;
  cache: PackageCache;
  clock: Clock;
  server: string;
  signal: AbortSignal;
  log: (level: 'info' | 'warn', message: string) => void;
  onContact: (server: string) => void;
  /** A device's own download event is fetching this package now (or retrying it): the kit does not compete. */
  fetchedElsewhere?: (packageId: string) => boolean;
}

export interface RefreshOutcome {
  packages: number;
  /** Packages the kit could not keep, each with why. */
  problems: string[];
}

const XML = 'text/xml; charset=utf-8';

/** Refreshes `profile`'s kit; `polled` is its device's own poll answer when that just arrived. */
export async function refreshProfile(ctx: RefreshContext, profile: KitProfile, identity: KitIdentity, polled: Buffer | null): Promise<RefreshOutcome> {
  const { store, cache } = ctx;
  const post = (action: DeviceAction, body: string) => ask(ctx, profile, identity, action, body);
  let pollBody = polled;
  if (!pollBody) {
    const res = await post('Poll', buildPollRequest({
      // As a Dockhand client polls (poll.ts): the server then sends what it sends Dockhand clients (SHA-256).
      ManagementSystem: { Name: MANAGEMENT_SYSTEM_NAME, Version: CLIENT_VERSION }, Identification: identity.identification,
      Connection: { AuthorizationToken: identity.auth || '0', Timestamp: identity.timestamp || '0' },
    }));
    pollBody = res.body;
    const stamp = res.headers['x-device-timestamp'];
    if (typeof stamp === 'string') identity.timestamp = stamp;
  }
  const answer = await parseOffThread('PollResponse', pollBody);
  store.upsertProfile(profile.deviceId, profile.name, profile.origin);
  store.setIdentity(profile.deviceId, { auth: identity.auth, timestamp: identity.timestamp });
  store.putPart(profile.deviceId, 'poll', '', pollBody, ctx.clock.now());
  const listed = [...new Map(answer.ApplicablePackages.filter((id) => !packageIdProblem(id)).map((id) => [packageKey(id), id])).values()];
  store.setListed(profile.deviceId, listed);

  const problems: string[] = [];
  for (const id of listed) {
    try {
      await keepPackage(ctx, profile, identity, id);
    } catch (err) {
      if (err instanceof DockhandError && (err.code === 'NETWORK' || err.code === 'CANCELLED')) throw err;
      problems.push(`${id}: ${describeError(err)}`);
      ctx.log('warn', `field kit: could not keep package ${id} for profile ${profile.name}: ${describeError(err)}`);
    }
  }
  store.keepPackages(profile.deviceId, listed);
  await releaseUnlisted(store, cache);
  store.markRefreshed(profile.deviceId, ctx.clock.now());
  return { packages: listed.length, problems };
}

/** Step 2–4 for one package: its instructions, its location when needed, and its bytes in the cache. */
async function keepPackage(ctx: RefreshContext, profile: KitProfile, identity: KitIdentity, id: string): Promise<void> {
  const { store, cache } = ctx;
  const post = (action: DeviceAction, body: string) => ask(ctx, profile, identity, action, body);
  const ires = await post('InstructionRequest', buildInstructionsRequest({ PackageID: id }));
  const p = parseInstructions(documentText(ires.body), id).Packages[0];
  if (!p) throw new DockhandError('PROTOCOL', `the instructions for ${id} hold no Package`);
  store.putPart(profile.deviceId, 'instructions', id, ires.body, ctx.clock.now());
  if (!p.SourceFiles) return; // nothing to download: the instructions are the whole package
  const size = p.PackageSize ?? null;
  const sha256 = p.SHA256 ?? null;
  let held = cache.verifiedCopy(id, size, sha256);
  if (!held || !store.part(profile.deviceId, 'location', id)) {
    const lres = await post('LocationRequest', buildPackageLocationRequest({ PackageID: id, ClientLocation: { IPAddresses: ipAddresses(identity) } }));
    const url = parsePackageLocation(documentText(lres.body)).Locations.find((l) => l.URL && /^https?:\/\//i.test(l.URL))?.URL;
    store.putPart(profile.deviceId, 'location', id, lres.body, ctx.clock.now());
    // A device's own event brings these bytes into the cache; the kit keeps them when they arrive (FieldKit.fetched).
    if (!held && ctx.fetchedElsewhere?.(id)) return;
    if (!held) {
      if (!url) throw new DockhandError('PROTOCOL', `the server offers package ${id} at no HTTP location`);
      await cache.fetch({
        packageId: id, url, fileName: fileNameFromUrl(url), userId: KIT_USER, name: p.Name, signal: ctx.signal,
        ...(size !== null ? { expectedSize: size } : {}), ...(sha256 ? { sha256 } : {}),
      });
      held = cache.verifiedCopy(id, size, sha256);
      if (!held) throw new DockhandError('SIZE_MISMATCH', `package ${id} was downloaded but is not the size or SHA-256 its instructions give`);
    }
  }
  keepFile(store, cache, held, id, p.Name);
}

/** Pins a package's verified bytes in the cache for the kit and records them (`name` from its instructions). */
export function keepFile(store: KitStore, cache: PackageCache, held: NonNullable<ReturnType<PackageCache['verifiedCopy']>>, packageId: string, name: string | null): void {
  cache.store.addUser(held.packageId, KIT_USER);
  const kept = store.file(packageId);
  store.putFile({
    packageId, name, fileName: held.fileName, size: held.expectedSize, sha256: held.sha256,
    fetchedAt: kept && kept.sha256 === held.sha256 ? kept.fetchedAt : held.updatedAt,
  });
}

/** Files no profile lists any more leave the kit (and the cache, when no device uses them either). */
async function releaseUnlisted(store: KitStore, cache: PackageCache): Promise<void> {
  const listed = new Set(store.listedPackages());
  for (const f of store.files()) {
    if (listed.has(packageKey(f.packageId))) continue;
    store.deleteFile(f.packageId);
    await cache.release(f.packageId, KIT_USER);
  }
}

/** One POST as the profile's device identity, with the standard headers (spec §2.3). */
async function ask(ctx: RefreshContext, profile: KitProfile, identity: KitIdentity, action: DeviceAction, body: string): Promise<DmResponse> {
  const headers = buildDeviceHeaders({ uuid: profile.deviceId, auth: identity.auth, timestamp: identity.timestamp, clientVersion: CLIENT_VERSION, action });
  try {
    const res = await postToServer(ctx.server, headers, Buffer.from(body, 'utf8'), XML, { signal: ctx.signal });
    const auth = res.headers['x-device-auth'];
    if (typeof auth === 'string' && auth !== '') identity.auth = auth;
    ctx.onContact(ctx.server);
    return res;
  } catch (err) {
    // An answer that refuses is still an answer: the server can be reached.
    if (err instanceof DockhandError && err.code === 'HTTP_STATUS') ctx.onContact(ctx.server);
    throw err;
  }
}

function ipAddresses(identity: KitIdentity) {
  const n = identity.identification.NetworkAdapter;
  return n?.IPAddress ? [{ address: n.IPAddress, subnet: networkId(n.IPAddress, n.IPSubnet ?? '255.255.255.255') }] : [];
}
