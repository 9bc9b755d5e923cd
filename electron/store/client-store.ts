// Repository over one target's client database. Every method is one short transaction, so a crash between
// two calls leaves the database at one of the two states, never between them.
import { openDatabase, type Db, type Statement } from './sqlite.js';
import { clientMigrations } from './client-schema.js';
import type {
  CheckpointRecord, DownloadRunRecord, EventOutcome, EventPhase, LogRecord, OutboxRecord, PackageRecord, PackageState,
  TaskKind, TaskRecord, TaskState,
} from '../../shared/model/client.js';
import { NO_WAIT, type TaskWait, type TaskWaitKind } from '../../shared/model/wait.js';

type Row = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toPackage(r: Row): PackageRecord {
  return {
    id: String(r.id),
    state: r.state as PackageState,
    name: str(r.name),
    shortDescription: str(r.short_description),
    longDescription: str(r.long_description),
    required: r.required === null ? null : Boolean(r.required),
    accepted: Boolean(r.accepted),
    packageSize: num(r.package_size),
    flags: num(r.flags),
    startAt: num(r.start_at),
    recurrenceMs: num(r.recurrence_ms),
    behavior: (str(r.behavior) as PackageRecord['behavior']),
    localDestination: str(r.local_destination),
    commandLine: str(r.command_line),
    sourceFiles: Boolean(r.source_files),
    sha256: str(r.sha256),
    fileName: str(r.file_name),
    savedPath: str(r.saved_path),
    downloaded: Boolean(r.downloaded),
    runs: Number(r.runs),
    lastResult: str(r.last_result),
    instructionsFrom: String(r.instructions_from ?? ''),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** A stored wait; a value this version cannot read (hand-edited, a newer version's kind) counts as none. */
function toWait(v: unknown): TaskWait {
  try {
    const w = JSON.parse(String(v)) as TaskWait;
    return typeof w === 'object' && w !== null && typeof w.kind === 'string' ? w : NO_WAIT;
  } catch {
    return NO_WAIT;
  }
}

function toTask(r: Row): TaskRecord {
  return {
    id: Number(r.id),
    kind: r.kind as TaskKind,
    packageId: String(r.package_id),
    state: r.state as TaskState,
    nextRun: Number(r.next_run),
    attempts: Number(r.attempts),
    phase: String(r.phase) as TaskRecord['phase'],
    wait: toWait(r.wait),
    lastError: String(r.last_error),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function toOutbox(r: Row): OutboxRecord {
  return {
    seq: Number(r.seq),
    action: r.action as OutboxRecord['action'],
    reportType: str(r.report_type) as OutboxRecord['reportType'],
    fileName: str(r.file_name),
    contentType: String(r.content_type),
    body: r.body as Buffer,
    summary: String(r.summary),
    state: r.state as OutboxRecord['state'],
    attempts: Number(r.attempts),
    lastError: String(r.last_error),
    createdAt: Number(r.created_at),
    sentAt: num(r.sent_at),
  };
}

/** Package metadata from an instruction response, as stored (times already made absolute). */
export type PackageInstructionFields = Pick<PackageRecord,
  'name' | 'shortDescription' | 'longDescription' | 'required' | 'packageSize' | 'flags' | 'startAt' |
  'recurrenceMs' | 'behavior' | 'localDestination' | 'commandLine' | 'sourceFiles' | 'sha256'> & {
  /** The field-kit profile whose kept answer gave these instructions; '' or absent: the server did. */
  instructionsFrom?: string;
};

const PACKAGE_COLUMNS: Record<string, string> = {
  state: 'state', accepted: 'accepted', fileName: 'file_name', savedPath: 'saved_path',
  downloaded: 'downloaded', runs: 'runs', lastResult: 'last_result',
};

const TASK_COLUMNS: Record<string, string> = {
  state: 'state', nextRun: 'next_run', attempts: 'attempts', phase: 'phase', wait: 'wait', lastError: 'last_error',
};

/** Two task lanes run side by side in a session: download events, and everything else. */
export type TaskLane = 'control' | 'download';

function toRun(r: Row): DownloadRunRecord {
  return {
    id: Number(r.id), packageId: String(r.package_id), name: str(r.name), sha256: str(r.sha256), startedAt: Number(r.started_at),
    endedAt: num(r.ended_at), outcome: str(r.outcome) as EventOutcome | null, failedPhase: str(r.failed_phase) as EventPhase | null,
    exitCode: num(r.exit_code), reason: String(r.reason),
  };
}

export class ClientStore {
  readonly db: Db;

  constructor(readonly file: string, options: { readonly?: boolean } = {}) {
    this.db = openDatabase(file, clientMigrations, options);
  }

  close(): void {
    this.db.close();
  }

  private readonly statements = new Map<string, Statement>();

  /** A prepared statement, prepared once per SQL text: the scheduler runs the same few thousands of times. */
  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` as one write transaction; called inside another, it joins that one. */
  transaction<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : this.db.transaction(fn).immediate();
  }

  // ---- key/value: identity and settings ---------------------------------------------------------

  get(key: string): string | null {
    const r = this.stmt('SELECT value FROM kv WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r.value) : null;
  }

  set(key: string, value: string): void {
    this.stmt('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  unset(key: string): void {
    this.stmt('DELETE FROM kv WHERE key = ?').run(key);
  }

  getJson<T>(key: string): T | null {
    const v = this.get(key);
    return v === null ? null : (JSON.parse(v) as T);
  }

  setJson(key: string, value: unknown): void {
    this.set(key, JSON.stringify(value));
  }

  // ---- packages --------------------------------------------------------------------------------

  packages(): PackageRecord[] {
    return (this.stmt('SELECT * FROM packages ORDER BY created_at, id').all() as Row[]).map(toPackage);
  }

  package(id: string): PackageRecord | null {
    const r = this.stmt('SELECT * FROM packages WHERE id = ?').get(id) as Row | undefined;
    return r ? toPackage(r) : null;
  }

  insertPackage(id: string, now: number): void {
    this.stmt(`INSERT INTO packages (id, state, created_at, updated_at) VALUES (?, 'needs-instructions', ?, ?)
      ON CONFLICT (id) DO UPDATE SET state = 'needs-instructions', updated_at = excluded.updated_at`).run(id, now, now);
  }

  /** Stores an instruction response's metadata; the package's state moves by its transition (transitions.ts). */
  setPackageInstructions(id: string, f: PackageInstructionFields): void {
    this.stmt(`UPDATE packages SET name = ?, short_description = ?, long_description = ?, required = ?,
        package_size = ?, flags = ?, start_at = ?, recurrence_ms = ?, behavior = ?, local_destination = ?,
        command_line = ?, source_files = ?, sha256 = ?, instructions_from = ? WHERE id = ?`)
      .run(f.name, f.shortDescription, f.longDescription, f.required === null ? null : Number(f.required),
        f.packageSize, f.flags, f.startAt, f.recurrenceMs, f.behavior, f.localDestination, f.commandLine,
        Number(f.sourceFiles), f.sha256, f.instructionsFrom ?? '', id);
  }

  updatePackage(id: string, fields: Partial<Pick<PackageRecord,
    'state' | 'accepted' | 'fileName' | 'savedPath' | 'downloaded' | 'runs' | 'lastResult'>>, now: number): void {
    this.updateColumns('packages', 'id', id, PACKAGE_COLUMNS, fields, now);
  }

  deletePackage(id: string): void {
    this.db.transaction(() => {
      this.stmt('DELETE FROM tasks WHERE package_id = ?').run(id);
      this.stmt('DELETE FROM checkpoints WHERE package_id = ?').run(id);
      this.stmt('DELETE FROM packages WHERE id = ?').run(id);
    }).immediate();
  }

  // ---- tasks -----------------------------------------------------------------------------------

  /** Rows of `tasks` read into records since the store opened: the scheduler's cost, for tests and benchmarks. */
  taskRowsRead = 0;

  private toTasks(rows: Row[]): TaskRecord[] {
    this.taskRowsRead += rows.length;
    return rows.map(toTask);
  }

  /** Every task (status views; the scheduler itself never reads them all). */
  tasks(): TaskRecord[] {
    return this.toTasks(this.stmt('SELECT * FROM tasks ORDER BY next_run, id').all() as Row[]);
  }

  task(kind: TaskKind, packageId = ''): TaskRecord | null {
    const r = this.stmt('SELECT * FROM tasks WHERE kind = ? AND package_id = ?').get(kind, packageId) as Row | undefined;
    return r ? this.toTasks([r])[0]! : null;
  }

  taskById(id: number): TaskRecord | null {
    const r = this.stmt('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
    return r ? this.toTasks([r])[0]! : null;
  }

  /**
   * The next task of `lane` that is due at `now` and not held by a condition, earliest first. One index
   * search (tasks_due); tasks held for a dock, a connection, an acceptance or a technician are not read.
   */
  dueTask(lane: TaskLane, now: number): TaskRecord | null {
    return this.dueTasks(lane, now, 1)[0] ?? null;
  }

  /** The first `limit` tasks `dueTask` would give one after the other (same index search). */
  dueTasks(lane: TaskLane, now: number, limit: number): TaskRecord[] {
    return this.toTasks(this.stmt(`SELECT * FROM tasks INDEXED BY tasks_due
      WHERE state = 'queued' AND lane = ? AND held = 0 AND next_run <= ? ORDER BY next_run, id LIMIT ?`).all(lane, now, limit) as Row[]);
  }

  /** When the earliest queued, unheld task of `lane` is due (null when none is). */
  nextDue(lane: TaskLane): number | null {
    const r = this.stmt(`SELECT MIN(next_run) AS at FROM tasks INDEXED BY tasks_due
      WHERE state = 'queued' AND lane = ? AND held = 0`).get(lane) as Row;
    return num(r.at);
  }

  /** Creates the task, or requeues the existing one of that kind and package (fresh attempts and phase). */
  scheduleTask(kind: TaskKind, packageId: string, nextRun: number, now: number, wait: TaskWait = NO_WAIT): TaskRecord {
    this.stmt(`INSERT INTO tasks (kind, package_id, state, next_run, wait, created_at, updated_at)
        VALUES (?, ?, 'queued', ?, ?, ?, ?)
      ON CONFLICT (kind, package_id) DO UPDATE SET state = 'queued', next_run = excluded.next_run, attempts = 0,
        phase = '', wait = excluded.wait, last_error = '', updated_at = excluded.updated_at`)
      .run(kind, packageId, nextRun, JSON.stringify(wait), now, now);
    return this.task(kind, packageId)!;
  }

  updateTask(id: number, fields: Partial<Pick<TaskRecord,
    'state' | 'nextRun' | 'attempts' | 'phase' | 'wait' | 'lastError'>>, now: number): void {
    const { wait, ...rest } = fields;
    this.updateColumns('tasks', 'id', id, TASK_COLUMNS, wait === undefined ? rest : { ...rest, wait: JSON.stringify(wait) }, now);
  }

  /** The same change for many tasks, as one UPDATE (the scheduler holding a slice of due tasks). */
  updateTasks(ids: readonly number[], fields: Partial<Pick<TaskRecord, 'nextRun' | 'wait'>>, now: number): void {
    if (ids.length === 0) return;
    const sets: string[] = [];
    const values: unknown[] = [];
    if (fields.nextRun !== undefined) {
      sets.push('next_run = ?');
      values.push(fields.nextRun);
    }
    if (fields.wait !== undefined) {
      sets.push('wait = ?');
      values.push(JSON.stringify(fields.wait));
    }
    this.stmt(`UPDATE tasks SET ${sets.join(', ')}, updated_at = ? WHERE id IN (SELECT value FROM json_each(?))`)
      .run(...values, now, JSON.stringify(ids));
  }

  /** One UPDATE of the named fields (booleans stored as 0/1) and `updated_at`. */
  private updateColumns(table: string, key: string, id: string | number, columns: Record<string, string>,
    fields: Record<string, unknown>, now: number): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [k, v] of Object.entries(fields)) {
      const col = columns[k];
      if (!col || v === undefined) continue;
      sets.push(`${col} = ?`);
      values.push(typeof v === 'boolean' ? Number(v) : v);
    }
    if (sets.length === 0) return;
    this.stmt(`UPDATE ${table} SET ${sets.join(', ')}, updated_at = ? WHERE ${key} = ?`).run(...values, now, id);
  }

  deleteTask(kind: TaskKind, packageId = ''): void {
    this.stmt('DELETE FROM tasks WHERE kind = ? AND package_id = ?').run(kind, packageId);
  }

  /**
   * Recover on start: a task left `running` was cut off by a crash. It becomes due now; its phase says
   * where it stopped, so the event neither repeats a status message nor skips one. A download run left
   * open ends as interrupted. Returns how many tasks were resumed.
   */
  recoverInterruptedTasks(now: number): number {
    return this.db.transaction(() => {
      this.stmt(`UPDATE download_history SET ended_at = ?, outcome = 'interrupted',
        reason = 'the station stopped while this ran (a crash or a kill); it resumes where it stopped' WHERE ended_at IS NULL`).run(now);
      return this.stmt(`UPDATE tasks SET state = 'queued', next_run = MIN(next_run, ?), wait = '{"kind":"none"}',
        updated_at = ? WHERE state = 'running'`).run(now, now).changes;
    }).immediate();
  }

  /**
   * Lets held tasks be looked at again: their condition (of one of `kinds`) may have changed. They become
   * unheld and the scheduler re-checks each when it comes due. `packageId` narrows it to one package.
   */
  releaseHeld(kinds: readonly TaskWaitKind[], now: number, packageId?: string): number {
    if (kinds.length === 0) return 0;
    const marks = kinds.map(() => '?').join(', ');
    const only = packageId === undefined ? '' : ' AND package_id = ?';
    return this.stmt(`UPDATE tasks INDEXED BY tasks_waiting SET wait = '{"kind":"none"}', updated_at = ?
      WHERE state = 'queued' AND wait_kind IN (${marks})${only}`)
      .run(now, ...kinds, ...(packageId === undefined ? [] : [packageId])).changes;
  }

  /** The server can be reached again (or the station restarted): work that only waited for it is due now. */
  wakeServerWaits(now: number): number {
    return this.stmt(`UPDATE tasks INDEXED BY tasks_waiting SET next_run = MIN(next_run, ?), wait = '{"kind":"none"}',
      updated_at = ? WHERE state = 'queued' AND wait_kind = 'server'`).run(now, now).changes;
  }

  /** Room came back on the disk: downloads that waited only for it are due now. */
  wakeStorageWaits(now: number): number {
    return this.stmt(`UPDATE tasks INDEXED BY tasks_waiting SET next_run = MIN(next_run, ?), wait = '{"kind":"none"}',
      updated_at = ? WHERE state = 'queued' AND wait_kind = 'storage'`).run(now, now).changes;
  }

  /**
   * The packages of download events that need room on the disk: running, or held back by nothing but the
   * server, a retry or the disk itself (through the wait index, not a scan of every task).
   */
  downloadsNeedingRoom(): string[] {
    const rows = this.stmt(`SELECT package_id FROM tasks INDEXED BY tasks_waiting
      WHERE kind = 'download' AND (state = 'running' OR (state = 'queued' AND wait_kind IN ('none', 'retry', 'server', 'storage')))`)
      .all() as Row[];
    return rows.map((r) => String(r.package_id));
  }

  /** How many queued tasks wait, per kind of wait (a status count; one index scan). */
  waitCounts(): Partial<Record<TaskWaitKind, number>> {
    const rows = this.stmt(`SELECT wait_kind AS k, COUNT(*) AS n FROM tasks INDEXED BY tasks_waiting
      WHERE state = 'queued' GROUP BY wait_kind`).all() as Row[];
    return Object.fromEntries(rows.map((r) => [String(r.k), Number(r.n)]));
  }

  // ---- download history --------------------------------------------------------------------------

  /** A download event starts a run; returns its id. */
  startRun(packageId: string, name: string | null, sha256: string | null, now: number): number {
    return Number(this.stmt('INSERT INTO download_history (package_id, name, sha256, started_at) VALUES (?, ?, ?, ?)')
      .run(packageId, name, sha256, now).lastInsertRowid);
  }

  /** The run ends (once: a run that already ended is left as it was). */
  endRun(id: number, end: { outcome: EventOutcome; failedPhase?: EventPhase | null; exitCode?: number | null; reason?: string; sha256?: string | null }, now: number): void {
    this.stmt(`UPDATE download_history SET ended_at = ?, outcome = ?, failed_phase = ?, exit_code = ?, reason = ?,
        sha256 = COALESCE(?, sha256) WHERE id = ? AND ended_at IS NULL`)
      .run(now, end.outcome, end.failedPhase ?? null, end.exitCode ?? null, end.reason ?? '', end.sha256 ?? null, id);
  }

  /** Runs of download events, oldest first: all, or one package's; at most `limit` of the newest. */
  downloadHistory(options: { packageId?: string; limit?: number } = {}): DownloadRunRecord[] {
    const limit = options.limit ?? -1;
    const rows = (options.packageId === undefined
      ? this.stmt('SELECT * FROM download_history ORDER BY id DESC LIMIT ?').all(limit)
      : this.stmt('SELECT * FROM download_history WHERE package_id = ? ORDER BY id DESC LIMIT ?').all(options.packageId, limit)) as Row[];
    return rows.reverse().map(toRun);
  }

  // ---- checkpoints -----------------------------------------------------------------------------

  checkpoint(packageId: string): CheckpointRecord | null {
    const r = this.stmt('SELECT * FROM checkpoints WHERE package_id = ?').get(packageId) as Row | undefined;
    if (!r) return null;
    return {
      packageId: String(r.package_id), url: String(r.url), validator: str(r.validator), bytesDone: Number(r.bytes_done),
      expectedSize: num(r.expected_size), partPath: String(r.part_path), updatedAt: Number(r.updated_at),
    };
  }

  checkpoints(): CheckpointRecord[] {
    return (this.stmt('SELECT package_id FROM checkpoints ORDER BY package_id').all() as Row[])
      .map((r) => this.checkpoint(String(r.package_id))!);
  }

  saveCheckpoint(cp: Omit<CheckpointRecord, 'updatedAt'>, now: number): void {
    this.stmt(`INSERT INTO checkpoints (package_id, url, validator, bytes_done, expected_size, part_path, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (package_id) DO UPDATE SET url = excluded.url, validator = excluded.validator,
        bytes_done = excluded.bytes_done, expected_size = excluded.expected_size, part_path = excluded.part_path,
        updated_at = excluded.updated_at`)
      .run(cp.packageId, cp.url, cp.validator, cp.bytesDone, cp.expectedSize, cp.partPath, now);
  }

  deleteCheckpoint(packageId: string): void {
    this.stmt('DELETE FROM checkpoints WHERE package_id = ?').run(packageId);
  }

  // ---- outbox ----------------------------------------------------------------------------------

  enqueue(item: Pick<OutboxRecord, 'action' | 'reportType' | 'fileName' | 'contentType' | 'summary'> & { body: Uint8Array }, now: number): number {
    return Number(this.stmt(`INSERT INTO outbox (action, report_type, file_name, content_type, body, summary, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(item.action, item.reportType, item.fileName, item.contentType, Buffer.from(item.body), item.summary, now)
      .lastInsertRowid);
  }

  /** The oldest message not yet delivered: delivery is strictly in order. */
  nextOutbox(): OutboxRecord | null {
    const r = this.stmt(`SELECT * FROM outbox WHERE state = 'queued' ORDER BY seq LIMIT 1`).get() as Row | undefined;
    return r ? toOutbox(r) : null;
  }

  outbox(states: OutboxRecord['state'][] = ['queued']): OutboxRecord[] {
    const marks = states.map(() => '?').join(', ');
    return (this.stmt(`SELECT * FROM outbox WHERE state IN (${marks}) ORDER BY seq`).all(...states) as Row[]).map(toOutbox);
  }

  markOutbox(seq: number, state: OutboxRecord['state'], error: string, now: number): void {
    this.stmt(`UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,
      sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE seq = ?`).run(state, error, state, now, seq);
    // Delivered bodies are not needed again; keep the row (summary) for the activity view, drop the bytes.
    if (state === 'sent') this.stmt(`UPDATE outbox SET body = X'' WHERE seq = ?`).run(seq);
  }

  noteOutboxFailure(seq: number, error: string): void {
    this.stmt('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?').run(error, seq);
  }

  // ---- log -------------------------------------------------------------------------------------

  log(level: LogRecord['level'], message: string, packageId = '', now = Date.now()): void {
    this.stmt('INSERT INTO log (at, level, package_id, message) VALUES (?, ?, ?, ?)').run(now, level, packageId, message);
  }

  logs(limit = 200): LogRecord[] {
    return (this.stmt('SELECT * FROM log ORDER BY seq DESC LIMIT ?').all(limit) as Row[]).reverse().map((r) => ({
      seq: Number(r.seq), at: Number(r.at), level: r.level as LogRecord['level'], packageId: String(r.package_id), message: String(r.message),
    }));
  }
}
