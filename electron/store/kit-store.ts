// The field kit's index (DATA/kit/kit.sqlite, docs/field-kit.md): per profile — a device identity the server
// knows — the server's answers exactly as they arrived (poll, the instructions of every listed package, the
// package location), each with its size, SHA-256 and fetch time; and the package files the kit holds in the
// station cache, with the size and SHA-256 they were verified against. Nothing here is a file named by the
// server: IDs are keys inside the database.
import { createHash } from 'node:crypto';
import { openDatabase, type Db, type Migration } from './sqlite.js';
import type { KitPartKind, KitProfileOrigin } from '../../shared/model/field-kit.js';

export type KitAnswerKind = Exclude<KitPartKind, 'file'>;

export interface KitProfileRecord {
  deviceId: string;
  name: string;
  origin: KitProfileOrigin;
  position: number;
  /** X-Device-Auth and X-Device-Timestamp the server last gave this identity when the kit polled as it. */
  auth: string;
  timestamp: string;
  refreshedAt: number | null;
  /** The package IDs its kept poll answer lists (read from it when it was kept). */
  listed: string[];
}

export interface KitPartRecord {
  profile: string;
  kind: KitAnswerKind;
  /** The package ID as the server spelled it; '' for the poll answer. */
  packageId: string;
  body: Buffer;
  size: number;
  sha256: string;
  fetchedAt: number;
}

export interface KitFileRecord {
  packageId: string;
  name: string | null;
  fileName: string;
  size: number;
  sha256: string;
  fetchedAt: number;
}

const migrations: Migration[] = [{
  version: 1,
  description: 'profiles, the server answers per profile, and the package files the kit holds in the cache',
  up: (db) => db.exec(`
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE profiles (
      device_id    TEXT PRIMARY KEY,
      name         TEXT NOT NULL,
      origin       TEXT NOT NULL CHECK (origin IN ('configured', 'device', 'imported')),
      position     INTEGER NOT NULL,
      auth         TEXT NOT NULL DEFAULT '',
      timestamp    TEXT NOT NULL DEFAULT '',
      refreshed_at INTEGER,
      listed       TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TABLE parts (
      profile     TEXT NOT NULL,
      kind        TEXT NOT NULL CHECK (kind IN ('poll', 'instructions', 'location')),
      package_key TEXT NOT NULL DEFAULT '',
      package_id  TEXT NOT NULL DEFAULT '',
      body        BLOB NOT NULL,
      size        INTEGER NOT NULL,
      sha256      TEXT NOT NULL,
      fetched_at  INTEGER NOT NULL,
      PRIMARY KEY (profile, kind, package_key)
    );
    CREATE TABLE files (
      package_key TEXT PRIMARY KEY,
      package_id  TEXT NOT NULL,
      name        TEXT,
      file_name   TEXT NOT NULL,
      size        INTEGER NOT NULL,
      sha256      TEXT NOT NULL,
      fetched_at  INTEGER NOT NULL
    );`),
}];

type Row = Record<string, unknown>;

/** One package whatever the case of its ID (GUIDs); the same fold as confine.ts `packageKey`. */
const keyOf = (packageId: string) => packageId.toUpperCase();

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const toProfile = (r: Row): KitProfileRecord => ({
  deviceId: String(r.device_id), name: String(r.name), origin: r.origin as KitProfileOrigin, position: Number(r.position),
  auth: String(r.auth), timestamp: String(r.timestamp), refreshedAt: r.refreshed_at === null ? null : Number(r.refreshed_at),
  listed: JSON.parse(String(r.listed)) as string[],
});

export type KitPartMeta = Omit<KitPartRecord, 'body'>;

const toMeta = (r: Row): KitPartMeta => ({
  profile: String(r.profile), kind: r.kind as KitAnswerKind, packageId: String(r.package_id),
  size: Number(r.size), sha256: String(r.sha256), fetchedAt: Number(r.fetched_at),
});

const toPart = (r: Row): KitPartRecord => ({ ...toMeta(r), body: r.body as Buffer });

const toFile = (r: Row): KitFileRecord => ({
  packageId: String(r.package_id), name: r.name === null ? null : String(r.name), fileName: String(r.file_name),
  size: Number(r.size), sha256: String(r.sha256), fetchedAt: Number(r.fetched_at),
});

/** Everything a kit file carries, for an import that replaces the kit in one transaction. */
export interface KitContents {
  defaultProfile: string | null;
  profiles: Array<Omit<KitProfileRecord, 'position'>>;
  parts: KitPartRecord[];
  files: KitFileRecord[];
}

export class KitStore {
  readonly db: Db;

  constructor(file: string, options: { readonly?: boolean } = {}) {
    this.db = openDatabase(file, migrations, options);
  }

  close(): void {
    this.db.close();
  }

  get(key: string): string | null {
    const r = this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r.value) : null;
  }

  set(key: string, value: string | null): void {
    if (value === null) this.db.prepare('DELETE FROM kv WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ---- profiles -------------------------------------------------------------------------------------

  profiles(): KitProfileRecord[] {
    return (this.db.prepare('SELECT * FROM profiles ORDER BY position, device_id').all() as Row[]).map(toProfile);
  }

  profile(deviceId: string): KitProfileRecord | null {
    const r = this.db.prepare('SELECT * FROM profiles WHERE device_id = ?').get(deviceId) as Row | undefined;
    return r ? toProfile(r) : null;
  }

  /** Adds a profile at the end of the list, or renames one already known (keeping its place and origin). */
  upsertProfile(deviceId: string, name: string, origin: KitProfileOrigin): void {
    this.db.prepare(`INSERT INTO profiles (device_id, name, origin, position)
        VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM profiles))
      ON CONFLICT (device_id) DO UPDATE SET name = excluded.name`).run(deviceId, name, origin);
  }

  setIdentity(deviceId: string, values: { auth?: string; timestamp?: string }): void {
    if (values.auth !== undefined) this.db.prepare('UPDATE profiles SET auth = ? WHERE device_id = ?').run(values.auth, deviceId);
    if (values.timestamp !== undefined) this.db.prepare('UPDATE profiles SET timestamp = ? WHERE device_id = ?').run(values.timestamp, deviceId);
  }

  setListed(deviceId: string, listed: readonly string[]): void {
    this.db.prepare('UPDATE profiles SET listed = ? WHERE device_id = ?').run(JSON.stringify(listed), deviceId);
  }

  markRefreshed(deviceId: string, at: number): void {
    this.db.prepare('UPDATE profiles SET refreshed_at = ? WHERE device_id = ?').run(at, deviceId);
  }

  // ---- the server's answers -------------------------------------------------------------------------

  part(profile: string, kind: KitAnswerKind, packageId = ''): KitPartRecord | null {
    const r = this.db.prepare('SELECT * FROM parts WHERE profile = ? AND kind = ? AND package_key = ?')
      .get(profile, kind, keyOf(packageId)) as Row | undefined;
    return r ? toPart(r) : null;
  }

  /** Every answer of one profile (or of all), the poll first, then per package. */
  parts(profile?: string): KitPartRecord[] {
    const rows = profile === undefined
      ? this.db.prepare(`SELECT * FROM parts ORDER BY profile, kind != 'poll', package_key, kind`).all()
      : this.db.prepare(`SELECT * FROM parts WHERE profile = ? ORDER BY kind != 'poll', package_key, kind`).all(profile);
    return (rows as Row[]).map(toPart);
  }

  /** When each profile's poll answer was fetched, by profile. */
  pollTimes(): Map<string, number> {
    const rows = this.db.prepare(`SELECT profile, fetched_at FROM parts WHERE kind = 'poll'`).all() as Row[];
    return new Map(rows.map((r) => [String(r.profile), Number(r.fetched_at)]));
  }

  /** Metadata of every answer without their bodies (status views). */
  partTimes(): KitPartMeta[] {
    return (this.db.prepare(`SELECT profile, kind, package_id, size, sha256, fetched_at FROM parts
      ORDER BY profile, kind != 'poll', package_key, kind`).all() as Row[]).map(toMeta);
  }

  putPart(profile: string, kind: KitAnswerKind, packageId: string, body: Uint8Array, now: number): void {
    const bytes = Buffer.from(body);
    this.db.prepare(`INSERT INTO parts (profile, kind, package_key, package_id, body, size, sha256, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (profile, kind, package_key) DO UPDATE SET package_id = excluded.package_id, body = excluded.body,
        size = excluded.size, sha256 = excluded.sha256, fetched_at = excluded.fetched_at`)
      .run(profile, kind, keyOf(packageId), packageId, bytes, bytes.length, sha256Hex(bytes), now);
  }

  /** Forgets a profile's package answers of packages it no longer lists. */
  keepPackages(profile: string, listed: readonly string[]): void {
    this.db.prepare(`DELETE FROM parts WHERE profile = ? AND kind != 'poll'
      AND package_key NOT IN (SELECT value FROM json_each(?))`).run(profile, JSON.stringify(listed.map(keyOf)));
  }

  // ---- package files --------------------------------------------------------------------------------

  file(packageId: string): KitFileRecord | null {
    const r = this.db.prepare('SELECT * FROM files WHERE package_key = ?').get(keyOf(packageId)) as Row | undefined;
    return r ? toFile(r) : null;
  }

  files(): KitFileRecord[] {
    return (this.db.prepare('SELECT * FROM files ORDER BY package_key').all() as Row[]).map(toFile);
  }

  putFile(f: KitFileRecord): void {
    this.db.prepare(`INSERT INTO files (package_key, package_id, name, file_name, size, sha256, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (package_key) DO UPDATE SET package_id = excluded.package_id, name = excluded.name, file_name = excluded.file_name,
        size = excluded.size, sha256 = excluded.sha256, fetched_at = excluded.fetched_at`)
      .run(keyOf(f.packageId), f.packageId, f.name, f.fileName, f.size, f.sha256, f.fetchedAt);
  }

  deleteFile(packageId: string): void {
    this.db.prepare('DELETE FROM files WHERE package_key = ?').run(keyOf(packageId));
  }

  /** Package IDs some profile's answers still name (the files the kit must keep). */
  listedPackages(): string[] {
    return (this.db.prepare(`SELECT DISTINCT package_key FROM parts WHERE kind = 'instructions'`).all() as Row[]).map((r) => String(r.package_key));
  }

  /** An imported kit replaces what the station held, in one transaction: all of it, or nothing. */
  replaceAll(c: KitContents): void {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM parts; DELETE FROM files; DELETE FROM profiles;');
      c.profiles.forEach((p, i) => {
        this.db.prepare(`INSERT INTO profiles (device_id, name, origin, position, auth, timestamp, refreshed_at, listed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(p.deviceId, p.name, p.origin, i + 1, p.auth, p.timestamp, p.refreshedAt, JSON.stringify(p.listed));
      });
      for (const p of c.parts) {
        this.db.prepare(`INSERT INTO parts (profile, kind, package_key, package_id, body, size, sha256, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(p.profile, p.kind, keyOf(p.packageId), p.packageId, p.body, p.size, p.sha256, p.fetchedAt);
      }
      for (const f of c.files) this.putFile(f);
      this.set('default_profile', c.defaultProfile);
    }).immediate();
  }
}
