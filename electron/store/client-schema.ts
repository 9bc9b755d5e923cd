// Schema of one target's client database (spec §16 "Device Management Client Database", plus what the
// engine needs to survive a crash: tasks with their next run and attempts, transfer checkpoints, and the
// ordered outbox of status messages and reports that waits while the server is unreachable).
import type { Migration } from './sqlite.js';

export const clientMigrations: Migration[] = [
  {
    version: 1,
    description: 'identity, settings, packages, tasks, checkpoints, outbox, log',
    up: (db) => {
      db.exec(`
        CREATE TABLE kv (
          key   TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );

        -- One row per package the server listed (spec §16): metadata from the instruction response,
        -- the state of the package on this target, and where its file was saved.
        CREATE TABLE packages (
          id                TEXT PRIMARY KEY,
          state             TEXT NOT NULL,
          name              TEXT,
          short_description TEXT,
          long_description  TEXT,
          required          INTEGER,
          accepted          INTEGER NOT NULL DEFAULT 0,
          package_size      INTEGER,
          flags             INTEGER,
          start_at          INTEGER,
          recurrence_ms     INTEGER,
          behavior          TEXT,
          local_destination TEXT,
          command_line      TEXT,
          source_files      INTEGER NOT NULL DEFAULT 1,
          sha256            TEXT,
          file_name         TEXT,
          saved_path        TEXT,
          downloaded        INTEGER NOT NULL DEFAULT 0,
          runs              INTEGER NOT NULL DEFAULT 0,
          last_result       TEXT,
          created_at        INTEGER NOT NULL,
          updated_at        INTEGER NOT NULL
        );

        -- Scheduled work. Written before the side effect it stands for ("persist first, then act").
        CREATE TABLE tasks (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          kind        TEXT NOT NULL,
          package_id  TEXT NOT NULL DEFAULT '',
          state       TEXT NOT NULL,
          next_run    INTEGER NOT NULL,
          attempts    INTEGER NOT NULL DEFAULT 0,
          phase       TEXT NOT NULL DEFAULT '',
          waiting_for TEXT NOT NULL DEFAULT '',
          last_error  TEXT NOT NULL DEFAULT '',
          created_at  INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL,
          UNIQUE (kind, package_id)
        );

        -- Checkpoint restart (spec §14): what the station holds of a package download.
        CREATE TABLE checkpoints (
          package_id    TEXT PRIMARY KEY,
          url           TEXT NOT NULL,
          validator     TEXT,
          bytes_done    INTEGER NOT NULL,
          expected_size INTEGER,
          part_path     TEXT NOT NULL,
          updated_at    INTEGER NOT NULL
        );

        -- Status messages and reports, delivered strictly in order once the server can be reached.
        CREATE TABLE outbox (
          seq          INTEGER PRIMARY KEY AUTOINCREMENT,
          action       TEXT NOT NULL,
          report_type  TEXT,
          file_name    TEXT,
          content_type TEXT NOT NULL,
          body         BLOB NOT NULL,
          summary      TEXT NOT NULL,
          state        TEXT NOT NULL DEFAULT 'queued',
          attempts     INTEGER NOT NULL DEFAULT 0,
          last_error   TEXT NOT NULL DEFAULT '',
          created_at   INTEGER NOT NULL,
          sent_at      INTEGER
        );

        CREATE TABLE log (
          seq        INTEGER PRIMARY KEY AUTOINCREMENT,
          at         INTEGER NOT NULL,
          level      TEXT NOT NULL,
          package_id TEXT NOT NULL DEFAULT '',
          message    TEXT NOT NULL
        );
        CREATE INDEX log_at ON log (at);
      `);
    },
  },
];
