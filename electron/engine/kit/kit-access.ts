// What a client session may ask of the station's field kit (docs/field-kit.md). The station's FieldKit
// (field-kit.ts) answers; a session without one (tests, a station without a data folder) simply has none.
import type { PackageRecord } from '../../../shared/model/client.js';
import type { ClientSession } from '../session.js';
import type { DmResponse } from '../dm-http.js';

/** One answer the kit kept, exactly as the server sent it, and for which profile. */
export interface KitAnswer {
  /** The profile's device ID. */
  profile: string;
  profileName: string;
  body: Buffer;
  fetchedAt: number;
}

/** A package's verified bytes in the station cache: where they came from and under which file name. */
export interface KitBytes {
  url: string;
  fileName: string;
  size: number;
  sha256: string;
}

export interface FieldKitAccess {
  /** The station keeps a kit at all (it has profiles): only then does a wait say what the kit lacks. */
  inUse(): boolean;
  /**
   * The poll answer a device that has never reached the server is provisioned from while the server cannot
   * be reached: the profile a technician picked on its card, else the default profile. Null when the kit
   * holds none.
   */
  forNewDevice(session: ClientSession): KitAnswer | null;
  /** The kept answer of the session's profile for one package; null when the kit lacks it. */
  answer(session: ClientSession, kind: 'instructions' | 'location', packageId: string): KitAnswer | null;
  /**
   * The package's bytes in the station cache with the same ID, the declared size and the published SHA-256
   * (at least one of the two must be known): a download event can run without the location request.
   */
  bytes(pkg: PackageRecord): KitBytes | null;
  /** The server answered the session's poll: the kit keeps it when the target is a profile, and refreshes. */
  polled(session: ClientSession, res: DmResponse): void;
  /** A session's download event has the package's verified bytes in the cache: the kit keeps them if it lists it. */
  fetched(pkg: PackageRecord): void;
}
