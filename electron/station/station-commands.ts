// Commands a technician gives a station's client database, from the CLI or the UI.
import type { ClientStore } from '../store/client-store.js';

/** A technician accepts an optional package: it is scheduled like a required one. */
export function acceptPackage(store: ClientStore, packageId: string, now: number): string {
  const pkg = store.package(packageId);
  if (!pkg) throw new Error(`no package ${packageId} is known to this station; \`dockhand station status\` lists them`);
  store.updatePackage(packageId, { accepted: true, ...(pkg.state === 'awaiting-acceptance' ? { state: 'scheduled' as const } : {}) }, now);
  return `accepted ${pkg.name ?? packageId}`;
}
