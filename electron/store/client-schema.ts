// Schema of one target's client database (spec §16 "Device Management Client Database", plus what the
// engine needs to survive a crash: tasks with their next run and attempts, transfer checkpoints, and the
// ordered outbox of status messages and reports that waits while the server is unreachable).
import type { Migration } from './sqlite.js';
import type { TaskWait } from '../../shared/model/wait.js';

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
  {
    version: 2,
    description: 'a task waits for data, not words; due tasks are found by index; download event history',
    up: (db) => {
      // The tasks table is rebuilt (SQLite cannot drop a column that way or add stored columns): the
      // `waiting_for` sentence becomes the `wait` JSON (shared/model/wait.ts), and three columns computed
      // from it and from the kind let one index serve the scheduler's question "which task of this lane is
      // due now and not held by a condition?" without reading the others.
      db.exec(`
        CREATE TABLE tasks_v2 (
          id          INTEGER PRIMARY KEY AUTOINCREMENT,
          kind        TEXT NOT NULL,
          package_id  TEXT NOT NULL DEFAULT '',
          state       TEXT NOT NULL,
          next_run    INTEGER NOT NULL,
          attempts    INTEGER NOT NULL DEFAULT 0,
          phase       TEXT NOT NULL DEFAULT '',
          wait        TEXT NOT NULL DEFAULT '{"kind":"none"}' CHECK (json_valid(wait)),
          last_error  TEXT NOT NULL DEFAULT '',
          created_at  INTEGER NOT NULL,
          updated_at  INTEGER NOT NULL,
          -- download events run in their own lane, everything else (poll, instructions, reports) in the other
          lane        TEXT GENERATED ALWAYS AS (CASE kind WHEN 'download' THEN 'download' ELSE 'control' END) VIRTUAL,
          wait_kind   TEXT GENERATED ALWAYS AS (json_extract(wait, '$.kind')) VIRTUAL,
          -- held: only an outside event (dock, accept, resume, connection change) can let it run
          held        INTEGER GENERATED ALWAYS AS (json_extract(wait, '$.kind') IN ('dock', 'connection', 'acceptance', 'technician')) VIRTUAL,
          UNIQUE (kind, package_id)
        );
      `);
      const insert = db.prepare(`INSERT INTO tasks_v2 (id, kind, package_id, state, next_run, attempts, phase, wait, last_error,
        created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const r of db.prepare('SELECT * FROM tasks ORDER BY id').all() as Array<Record<string, unknown>>) {
        const wait = waitFromOldWords(String(r.waiting_for), Number(r.next_run), String(r.last_error));
        // `located` was never written by a released version, but a phase that is not one of ours is dropped.
        const phase = ['started', 'downloaded', 'executed'].includes(String(r.phase)) ? String(r.phase) : '';
        insert.run(r.id, r.kind, r.package_id, r.state, r.next_run, r.attempts, phase, JSON.stringify(wait), r.last_error,
          r.created_at, r.updated_at);
      }
      db.exec(`
        DROP TABLE tasks;
        ALTER TABLE tasks_v2 RENAME TO tasks;
        CREATE INDEX tasks_due ON tasks (state, lane, held, next_run);
        CREATE INDEX tasks_waiting ON tasks (state, wait_kind);

        -- One row per run of a download event (shared/model/client.ts DownloadRunRecord). Written by the
        -- engine; read by the bench board and the provisioning record.
        CREATE TABLE download_history (
          id           INTEGER PRIMARY KEY AUTOINCREMENT,
          package_id   TEXT NOT NULL,
          name         TEXT,
          sha256       TEXT,
          started_at   INTEGER NOT NULL,
          ended_at     INTEGER,
          outcome      TEXT CHECK (outcome IN ('success', 'failed', 'interrupted')),
          failed_phase TEXT CHECK (failed_phase IN ('location', 'download', 'verify', 'install', 'push', 'command')),
          exit_code    INTEGER,
          reason       TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX download_history_package ON download_history (package_id, id);
        CREATE INDEX download_history_open ON download_history (ended_at) WHERE ended_at IS NULL;
      `);
    },
  },
  {
    version: 3,
    description: 'where a package\'s instructions came from: the server, or the field kit of a profile',
    up: (db) => {
      // '' = the server answered; otherwise the device ID of the field-kit profile whose kept answer was used
      // while the server could not be reached (docs/field-kit.md). The server's own answer replaces it later.
      db.exec(`ALTER TABLE packages ADD COLUMN instructions_from TEXT NOT NULL DEFAULT ''`);
    },
  },
];

/**
 * The sentences version 1 stored in `waiting_for`, read back as data. This is the one place that reads
 * them; nothing after this migration matches on words. Held waits are looked at again at start-up anyway
 * (the device may be docked, the package accepted), so an approximate `flags` is harmless.
 */
export function waitFromOldWords(words: string, nextRun: number, lastError: string): TaskWait {
  const retry = /^(offline|failed), retrying in .*?(?:\(retry (\d+) of (\d+)\))?$/.exec(words);
  if (retry) {
    if (retry[1] === 'offline') return { kind: 'server', until: nextRun };
    return { kind: 'retry', until: nextRun, attempt: Number(retry[2] ?? 1), of: Number(retry[3] ?? retry[2] ?? 1), reason: lastError };
  }
  if (words === 'waiting for dock (cradled-only package)') return { kind: 'dock', cradledOnly: true };
  if (words === 'waiting for dock') return { kind: 'dock' };
  if (words.startsWith('waiting for acceptance')) return { kind: 'acceptance' };
  if (words === 'waiting for a connection') return { kind: 'connection', flags: 0 };
  if (words.startsWith('waiting for a permitted connection')) {
    const flags = (/low/.test(words) ? 0x01 : 0) | (/high/.test(words) ? 0x02 : 0) | (/cradled/.test(words) ? 0x04 : 0);
    return { kind: 'connection', flags };
  }
  if (words === 'paused by a technician') return { kind: 'technician', reason: 'paused' };
  if (words.startsWith('stopped')) return { kind: 'technician', reason: 'stopped' };
  if (/^poll failed .*; next poll in/.test(words)) return { kind: 'schedule', until: nextRun };
  return { kind: 'none' };
}
