// The server's SQLite file: catalog, assignments, settings and everything received from devices.
// The running server and the admin commands open the same file at once; WAL plus a busy timeout
// (set by openDatabase) lets them take turns, and the server re-reads rows on every request so an
// admin change shows up at the next poll.
import path from 'node:path';
import { openDatabase, type Db, type Migration, type Statement } from '../electron/store/sqlite.js';

export type { Db };

const migrations: Migration[] = [
  {
    version: 1,
    description: 'catalog, assignments, settings, received log',
    // IF NOT EXISTS: the server and an admin command opening a brand-new folder at the same moment may
    // both decide to run this step; the second run must be harmless
    up: (db) => {
      db.exec(`
        CREATE TABLE IF NOT EXISTS packages (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          file_name TEXT NOT NULL,
          size INTEGER NOT NULL,
          sha256 TEXT NOT NULL,
          -- identity of the stored file (size:mtime; inode:size:mtime before, re-stamped at the first
          -- download after a content check); a download that finds another file on
          -- disk than this row describes is mid-replacement and must not be served under this ETag
          file_stamp TEXT NOT NULL,
          required INTEGER NOT NULL,
          flags INTEGER,
          start_time TEXT,
          start_utc INTEGER NOT NULL DEFAULT 0,
          recur_interval_ms INTEGER,
          recur_behavior TEXT,
          local_destination TEXT NOT NULL,
          command_line TEXT,
          short_description TEXT,
          long_description TEXT,
          source_files INTEGER NOT NULL,
          added_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS assignments (
          package_id TEXT NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
          device_id TEXT NOT NULL,
          assigned_at TEXT NOT NULL,
          PRIMARY KEY (package_id, device_id)
        );
        CREATE INDEX IF NOT EXISTS assignments_by_device ON assignments(device_id);
        -- scope '*' holds the global defaults, any other scope is a device ID's overrides
        CREATE TABLE IF NOT EXISTS settings (
          scope TEXT NOT NULL,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          updated_at TEXT NOT NULL,
          PRIMARY KEY (scope, key)
        );
        -- one row per thing a device sent us, in arrival order: polls, status messages, reports
        CREATE TABLE IF NOT EXISTS received (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          kind TEXT NOT NULL,
          device_id TEXT NOT NULL,
          received_at TEXT NOT NULL,
          data TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS received_by_device ON received(device_id, seq);
      `);
    },
  },
  {
    version: 2,
    description: 'status de-duplication key; the devices seen and the client each one runs',
    up: (db) => {
      db.exec(`
        -- a status message's identity (see received-log.ts): a second delivery of the same message,
        -- after a client crash between our write and our answer, finds it taken
        ALTER TABLE received ADD COLUMN dedup_key TEXT;
        CREATE UNIQUE INDEX IF NOT EXISTS received_once ON received(dedup_key) WHERE dedup_key IS NOT NULL;
        -- one row per device, updated at every poll: which management system it says it is (Dockhand
        -- extensions go only to Dockhand clients) and when it last polled
        CREATE TABLE IF NOT EXISTS devices (
          device_id TEXT PRIMARY KEY,
          management_system TEXT NOT NULL,
          management_version TEXT NOT NULL,
          last_poll_at TEXT NOT NULL
        );
      `);
    },
  },
];

export const DATABASE_FILE = 'server.sqlite';

const statements = new WeakMap<Db, Map<string, Statement>>();

/** `db.prepare(sql)`, compiled once per connection: the request path runs the same few statements. */
export function prepared(db: Db, sql: string): Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}

export function openServerDb(dataDir: string): Db {
  return openDatabase(path.join(dataDir, DATABASE_FILE), migrations, { busyTimeoutMs: 10_000 });
}

/** Open, run, close: the admin functions are short-lived and must not keep the file open. */
export function withDb<T>(dataDir: string, work: (db: Db) => T): T {
  const db = openServerDb(dataDir);
  try {
    return work(db);
  } finally {
    db.close();
  }
}
