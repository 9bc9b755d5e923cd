// The field kit standing in for the server, one request at a time (docs/field-kit.md): while the server
// cannot be reached, an instruction request is answered by the instructions the kit kept for the device's
// profile, and a download event whose package is in the station cache (same ID, size and hash) runs without
// its package location request. When the server can be reached, it is always asked.
import type { PackageRecord } from '../../../shared/model/client.js';
import { DockhandError } from '../../../shared/model/errors.js';
import { kitTime } from '../../../shared/model/field-kit.js';
import type { ClientSession } from '../session.js';
import type { KitAnswer, KitBytes } from './kit-access.js';

const unreachable = (err: unknown) => err instanceof DockhandError && err.code === 'NETWORK';
const fetched = (a: { fetchedAt: number }) => kitTime(new Date(a.fetchedAt).toISOString());

/** The instructions for `packageId`: the server's answer, or the kit's while the server cannot be reached. */
export async function instructionsAnswer(session: ClientSession, packageId: string, ask: () => Promise<Buffer>): Promise<{ body: Buffer; kit: KitAnswer | null }> {
  const fromKit = (): { body: Buffer; kit: KitAnswer } | null => {
    const answer = session.opts.kit?.answer(session, 'instructions', packageId);
    if (!answer) return null;
    session.log('info', `the server cannot be reached: instructions for ${packageId} from the field kit (profile ${answer.profileName}, ` +
      `answered ${fetched(answer)})`, packageId);
    return { body: answer.body, kit: answer };
  };
  if (session.isOffline()) {
    const kept = fromKit();
    if (kept) return kept;
  }
  try {
    return { body: await ask(), kit: null };
  } catch (err) {
    const kept = unreachable(err) ? fromKit() : null;
    if (kept) return kept;
    throw err;
  }
}

/**
 * Where the package's bytes are: the server's location answer, or — while the server cannot be reached —
 * the station cache's verified copy, with no location request at all.
 */
export async function locationOrCache(session: ClientSession, pkg: PackageRecord, locate: () => Promise<string>): Promise<{ url: string; cached: KitBytes | null }> {
  const fromCache = (): KitBytes | null => {
    const bytes = session.opts.kit?.bytes(pkg) ?? null;
    if (bytes) {
      session.log('info', `the server cannot be reached: ${pkg.name ?? pkg.id} is in the station cache (${bytes.size} bytes, sha256 ` +
        `${bytes.sha256.slice(0, 12)}…); installing it without a package location request`, pkg.id);
    }
    return bytes;
  };
  if (session.isOffline()) {
    const cached = fromCache();
    if (cached) return { url: cached.url, cached };
  }
  try {
    return { url: await locate(), cached: null };
  } catch (err) {
    const cached = unreachable(err) ? fromCache() : null;
    if (cached) return { url: cached.url, cached };
    throw err;
  }
}
