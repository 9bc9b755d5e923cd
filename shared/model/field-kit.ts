// The field kit as plain data (docs/field-kit.md): what the station keeps, per profile, so it can provision
// docked devices when the server cannot be reached — and the few sentences a technician reads about it,
// made here once for the header, the device cards and the command line.

/** A kind of part: a document exactly as the server answered it, or a package's bytes in the station cache. */
export type KitPartKind = 'poll' | 'instructions' | 'location' | 'file';

/** Where a profile comes from: station.json / --profile, a device that docked here, or an imported kit file. */
export type KitProfileOrigin = 'configured' | 'device' | 'imported';

export interface KitProfileView {
  /** The device identity the server knows this profile by (X-Device-UUID). */
  deviceId: string;
  name: string;
  origin: KitProfileOrigin;
  /** New devices are provisioned from this one when the server cannot be reached. */
  isDefault: boolean;
  /** When the server last answered a poll for this profile (ISO); null when the kit holds no answer. */
  polledAt: string | null;
  /** When its last complete refresh ended (ISO): every part fetched after that poll. */
  refreshedAt: string | null;
  packages: KitPackageView[];
}

export interface KitPackageView {
  id: string;
  name: string | null;
  /** ISO fetch time of each part; null when the kit lacks it. */
  instructionsAt: string | null;
  locationAt: string | null;
  fileAt: string | null;
  size: number | null;
  sha256: string | null;
  /** The bytes are in the station cache, complete, with the size and SHA-256 the kit recorded. */
  fileReady: boolean;
  /** Nothing to download (SourceFiles = No): the instructions are enough. */
  noFiles: boolean;
}

export interface KitView {
  /** When the default profile's poll answer was fetched (ISO): what "field kit from …" says. */
  asOf: string | null;
  defaultProfile: string | null;
  profiles: KitProfileView[];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "1 Dec 14:02", in the reader's local time. */
export function kitTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** The header's words while the last contact with the server failed. */
export function offlineWords(asOf: string | null): string {
  return asOf ? `Offline: field kit from ${kitTime(asOf)}` : 'Offline: no field kit';
}

/** A device card's words for a device provisioned from the kit whose messages wait for the server. */
export function provisionedOfflineWords(waiting: number): string {
  return `provisioned offline, ${waiting} message${waiting === 1 ? '' : 's'} waiting for the server`;
}

/** The queue's words for work the kit cannot stand in for (the `server` wait's detail). */
export function notInKitWords(packageName: string): string {
  return `needs the server: package ${packageName} is not in the field kit`;
}
