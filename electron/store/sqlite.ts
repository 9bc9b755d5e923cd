// The only importer of better-sqlite3. Everything else gets a `Db` and a list of migrations.
// WAL journal + synchronous=NORMAL: a crash (kill -9) loses at most the last transaction, never
// corrupts; that is what "persist first, then act" needs from the database.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;
export type Statement = Database.Statement;

/** One schema step. `version` values are 1, 2, 3… in order; a step runs once, inside a transaction. */
export interface Migration {
  version: number;
  description: string;
  up: (db: Db) => void;
}

export interface OpenOptions {
  /** Wait this long for a lock held by another process (server admin commands run beside the server). */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

export function openDatabase(file: string, migrations: Migration[], options: OpenOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false });
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, migrations);
  }
  return db;
}

export function migrate(db: Db, migrations: Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list is not 1..n: found version ${m.version} at ${i + 1}`);
  });
  if (current > sorted.length) {
    throw new Error(`database schema version ${current} is newer than this program knows (${sorted.length}); ` +
      'use a newer Dockhand or a fresh data folder');
  }
  for (const m of sorted.slice(current)) {
    db.transaction(() => {
      // Another process (an admin command beside a running server) may have migrated meanwhile: the
      // version is read again under the write lock, so each step runs exactly once.
      if ((db.pragma('user_version', { simple: true }) as number) >= m.version) return;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
