// Commands a technician gives a station's client database, from the CLI or the UI.
import type { ClientStore } from '../store/client-store.js';
import { packageTransition } from '../engine/transitions.js';

/**
 * A technician accepts an optional package: it is scheduled like a required one, and its download event,
 * held for the acceptance, is let go (a running station picks it up at its next look, even when the
 * accept came from another process).
 */
export function acceptPackage(store: ClientStore, packageId: string, now: number): string {
  const pkg = store.package(packageId);
  if (!pkg) throw new Error(`no package ${packageId} is known to this station; \`dockhand station status\` lists them`);
  store.transaction(() => {
    packageTransition(store, packageId, 'accept', now, undefined, { accepted: true });
    store.releaseHeld(['acceptance'], now, packageId);
  });
  return `accepted ${pkg.name ?? packageId}`;
}
