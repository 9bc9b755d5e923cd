// The station's package cache index (architecture §4): one row per package held in the shared cache, with
// the checkpoint of its download (URL, validator, bytes done, expected size) and which targets use it. A
// package is downloaded once per station and fanned out to every target that needs it; it leaves the cache
// when the last target that used it no longer does.
import { openDatabase, type Db, type Migration, type Statement } from './sqlite.js';

export interface CacheEntry {
  packageId: string;
  fileName: string;
  url: string;
  validator: string | null;
  bytesDone: number;
  expectedSize: number | null;
  sha256: string | null;
  partPath: string;
  complete: boolean;
  users: string[];
  updatedAt: number;
}

const migrations: Migration[] = [{
  version: 1,
  description: 'cache entries with download checkpoints',
  up: (db) => db.exec(`
    CREATE TABLE cache_entries (
      package_id    TEXT PRIMARY KEY,
      file_name     TEXT NOT NULL,
      url           TEXT NOT NULL,
      validator     TEXT,
      bytes_done    INTEGER NOT NULL DEFAULT 0,
      expected_size INTEGER,
      sha256        TEXT,
      part_path     TEXT NOT NULL,
      complete      INTEGER NOT NULL DEFAULT 0,
      users         TEXT NOT NULL DEFAULT '[]',
      updated_at    INTEGER NOT NULL
    );`),
}];

type Row = Record<string, unknown>;

function toEntry(r: Row): CacheEntry {
  return {
    packageId: String(r.package_id), fileName: String(r.file_name), url: String(r.url),
    validator: r.validator === null ? null : String(r.validator), bytesDone: Number(r.bytes_done),
    expectedSize: r.expected_size === null ? null : Number(r.expected_size), sha256: r.sha256 === null ? null : String(r.sha256),
    partPath: String(r.part_path), complete: Boolean(r.complete), users: JSON.parse(String(r.users)) as string[],
    updatedAt: Number(r.updated_at),
  };
}

export class CacheStore {
  readonly db: Db;
  // Prepared once: a download saves its checkpoint every second, and preparing costs more than the write.
  readonly #saveCheckpoint: Statement;

  constructor(file: string) {
    this.db = openDatabase(file, migrations);
    this.#saveCheckpoint = this.db.prepare(`INSERT INTO cache_entries (package_id, file_name, url, validator, bytes_done, expected_size, sha256, part_path, complete, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
      ON CONFLICT (package_id) DO UPDATE SET file_name = excluded.file_name, url = excluded.url, validator = excluded.validator,
        bytes_done = excluded.bytes_done, expected_size = excluded.expected_size,
        sha256 = COALESCE(excluded.sha256, cache_entries.sha256), part_path = excluded.part_path, complete = 0,
        updated_at = excluded.updated_at`);
  }

  close(): void {
    this.db.close();
  }

  entry(packageId: string): CacheEntry | null {
    const r = this.db.prepare('SELECT * FROM cache_entries WHERE package_id = ?').get(packageId) as Row | undefined;
    return r ? toEntry(r) : null;
  }

  entries(): CacheEntry[] {
    return (this.db.prepare('SELECT * FROM cache_entries ORDER BY package_id').all() as Row[]).map(toEntry);
  }

  /** Records where a download stands; a new URL or file name starts a new (incomplete) entry. */
  saveCheckpoint(e: Pick<CacheEntry, 'packageId' | 'fileName' | 'url' | 'validator' | 'bytesDone' | 'expectedSize' | 'partPath'> & { sha256?: string | null }, now: number): void {
    this.#saveCheckpoint.run(e.packageId, e.fileName, e.url, e.validator, e.bytesDone, e.expectedSize, e.sha256 ?? null, e.partPath, now);
  }

  markComplete(packageId: string, sha256: string, size: number, now: number): void {
    this.db.prepare('UPDATE cache_entries SET complete = 1, sha256 = ?, bytes_done = ?, expected_size = ?, updated_at = ? WHERE package_id = ?')
      .run(sha256, size, size, now, packageId);
  }

  addUser(packageId: string, targetId: string): void {
    const e = this.entry(packageId);
    if (!e || e.users.includes(targetId)) return;
    this.db.prepare('UPDATE cache_entries SET users = ? WHERE package_id = ?').run(JSON.stringify([...e.users, targetId]), packageId);
  }

  /** Drops a target from the entry's users; returns the users left. */
  removeUser(packageId: string, targetId: string): string[] {
    const e = this.entry(packageId);
    if (!e) return [];
    const left = e.users.filter((u) => u !== targetId);
    this.db.prepare('UPDATE cache_entries SET users = ? WHERE package_id = ?').run(JSON.stringify(left), packageId);
    return left;
  }

  /** Moves an entry to a new key and part path (entries of an earlier layout); on a clash the entry already under `key` stays. */
  rekey(packageId: string, key: string, partPath: string): void {
    this.db.transaction(() => {
      if (key !== packageId && this.entry(key)) {
        this.delete(packageId);
        return;
      }
      this.db.prepare('UPDATE cache_entries SET package_id = ?, part_path = ? WHERE package_id = ?').run(key, partPath, packageId);
    }).immediate();
  }

  delete(packageId: string): void {
    this.db.prepare('DELETE FROM cache_entries WHERE package_id = ?').run(packageId);
  }
}
