// The server's SQLite file: catalog, assignments, settings and everything received from devices.
// The running server and the admin commands open the same file at once; WAL plus a busy timeout
// (set by openDatabase) lets them take turns, and the server re-reads rows on every request so an
// admin change shows up at the next poll.
import path from 'node:path';
import { openDatabase, type Db, type Migration } from '../electron/store/sqlite.js';

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
          -- identity of the stored file (inode:size:mtime); a download that finds another file on
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
];

export const DATABASE_FILE = 'server.sqlite';

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
