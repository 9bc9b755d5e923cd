// Repository over one target's client database. Every method is one short transaction, so a crash between
// two calls leaves the database at one of the two states, never between them.
import { openDatabase, type Db } from './sqlite.js';
import { clientMigrations } from './client-schema.js';
import type {
  CheckpointRecord, LogRecord, OutboxRecord, PackageRecord, PackageState, TaskKind, TaskRecord, TaskState,
} from '../../shared/model/client.js';

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
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
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
    waitingFor: String(r.waiting_for),
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
  'recurrenceMs' | 'behavior' | 'localDestination' | 'commandLine' | 'sourceFiles' | 'sha256'>;

const PACKAGE_COLUMNS: Record<string, string> = {
  state: 'state', accepted: 'accepted', fileName: 'file_name', savedPath: 'saved_path',
  downloaded: 'downloaded', runs: 'runs', lastResult: 'last_result',
};

const TASK_COLUMNS: Record<string, string> = {
  state: 'state', nextRun: 'next_run', attempts: 'attempts', phase: 'phase', waitingFor: 'waiting_for', lastError: 'last_error',
};

export class ClientStore {
  readonly db: Db;

  constructor(readonly file: string, options: { readonly?: boolean } = {}) {
    this.db = openDatabase(file, clientMigrations, options);
  }

  close(): void {
    this.db.close();
  }

  // ---- key/value: identity and settings ---------------------------------------------------------

  get(key: string): string | null {
    const r = this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as Row | undefined;
    return r ? String(r.value) : null;
  }

  set(key: string, value: string): void {
    this.db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, value);
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
    return (this.db.prepare('SELECT * FROM packages ORDER BY created_at, id').all() as Row[]).map(toPackage);
  }

  package(id: string): PackageRecord | null {
    const r = this.db.prepare('SELECT * FROM packages WHERE id = ?').get(id) as Row | undefined;
    return r ? toPackage(r) : null;
  }

  insertPackage(id: string, now: number): void {
    this.db.prepare(`INSERT INTO packages (id, state, created_at, updated_at) VALUES (?, 'needs-instructions', ?, ?)
      ON CONFLICT (id) DO UPDATE SET state = 'needs-instructions', updated_at = excluded.updated_at`).run(id, now, now);
  }

  setPackageInstructions(id: string, f: PackageInstructionFields, state: PackageState, now: number): void {
    this.db.prepare(`UPDATE packages SET name = ?, short_description = ?, long_description = ?, required = ?,
        package_size = ?, flags = ?, start_at = ?, recurrence_ms = ?, behavior = ?, local_destination = ?,
        command_line = ?, source_files = ?, sha256 = ?, state = ?, updated_at = ? WHERE id = ?`)
      .run(f.name, f.shortDescription, f.longDescription, f.required === null ? null : Number(f.required),
        f.packageSize, f.flags, f.startAt, f.recurrenceMs, f.behavior, f.localDestination, f.commandLine,
        Number(f.sourceFiles), f.sha256, state, now, id);
  }

  updatePackage(id: string, fields: Partial<Pick<PackageRecord,
    'state' | 'accepted' | 'fileName' | 'savedPath' | 'downloaded' | 'runs' | 'lastResult'>>, now: number): void {
    this.updateColumns('packages', 'id', id, PACKAGE_COLUMNS, fields, now);
  }

  deletePackage(id: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM tasks WHERE package_id = ?').run(id);
      this.db.prepare('DELETE FROM checkpoints WHERE package_id = ?').run(id);
      this.db.prepare('DELETE FROM packages WHERE id = ?').run(id);
    }).immediate();
  }

  // ---- tasks -----------------------------------------------------------------------------------

  tasks(): TaskRecord[] {
    return (this.db.prepare('SELECT * FROM tasks ORDER BY next_run, id').all() as Row[]).map(toTask);
  }

  task(kind: TaskKind, packageId = ''): TaskRecord | null {
    const r = this.db.prepare('SELECT * FROM tasks WHERE kind = ? AND package_id = ?').get(kind, packageId) as Row | undefined;
    return r ? toTask(r) : null;
  }

  /** Creates the task, or requeues the existing one of that kind and package (fresh attempts and phase). */
  scheduleTask(kind: TaskKind, packageId: string, nextRun: number, now: number, waitingFor = ''): TaskRecord {
    this.db.prepare(`INSERT INTO tasks (kind, package_id, state, next_run, waiting_for, created_at, updated_at)
        VALUES (?, ?, 'queued', ?, ?, ?, ?)
      ON CONFLICT (kind, package_id) DO UPDATE SET state = 'queued', next_run = excluded.next_run, attempts = 0,
        phase = '', waiting_for = excluded.waiting_for, last_error = '', updated_at = excluded.updated_at`)
      .run(kind, packageId, nextRun, waitingFor, now, now);
    return this.task(kind, packageId)!;
  }

  updateTask(id: number, fields: Partial<Pick<TaskRecord,
    'state' | 'nextRun' | 'attempts' | 'phase' | 'waitingFor' | 'lastError'>>, now: number): void {
    this.updateColumns('tasks', 'id', id, TASK_COLUMNS, fields, now);
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
    this.db.prepare(`UPDATE ${table} SET ${sets.join(', ')}, updated_at = ? WHERE ${key} = ?`).run(...values, now, id);
  }

  deleteTask(kind: TaskKind, packageId = ''): void {
    this.db.prepare('DELETE FROM tasks WHERE kind = ? AND package_id = ?').run(kind, packageId);
  }

  /**
   * Recover on start: a task left `running` was cut off by a crash. It becomes due now; its phase says
   * where it stopped, so the event neither repeats a status message nor skips one.
   */
  recoverInterruptedTasks(now: number): number {
    return this.db.prepare(`UPDATE tasks SET state = 'queued', next_run = MIN(next_run, ?), waiting_for = '',
      updated_at = ? WHERE state = 'running'`).run(now, now).changes;
  }

  /** After a restart, work that was only waiting for the network is tried again at once. */
  wakeNetworkWaits(now: number): void {
    this.db.prepare(`UPDATE tasks SET next_run = ?, updated_at = ? WHERE state = 'queued' AND next_run > ?
      AND waiting_for LIKE 'offline%'`).run(now, now, now);
  }

  // ---- checkpoints -----------------------------------------------------------------------------

  checkpoint(packageId: string): CheckpointRecord | null {
    const r = this.db.prepare('SELECT * FROM checkpoints WHERE package_id = ?').get(packageId) as Row | undefined;
    if (!r) return null;
    return {
      packageId: String(r.package_id), url: String(r.url), validator: str(r.validator), bytesDone: Number(r.bytes_done),
      expectedSize: num(r.expected_size), partPath: String(r.part_path), updatedAt: Number(r.updated_at),
    };
  }

  checkpoints(): CheckpointRecord[] {
    return (this.db.prepare('SELECT package_id FROM checkpoints ORDER BY package_id').all() as Row[])
      .map((r) => this.checkpoint(String(r.package_id))!);
  }

  saveCheckpoint(cp: Omit<CheckpointRecord, 'updatedAt'>, now: number): void {
    this.db.prepare(`INSERT INTO checkpoints (package_id, url, validator, bytes_done, expected_size, part_path, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (package_id) DO UPDATE SET url = excluded.url, validator = excluded.validator,
        bytes_done = excluded.bytes_done, expected_size = excluded.expected_size, part_path = excluded.part_path,
        updated_at = excluded.updated_at`)
      .run(cp.packageId, cp.url, cp.validator, cp.bytesDone, cp.expectedSize, cp.partPath, now);
  }

  deleteCheckpoint(packageId: string): void {
    this.db.prepare('DELETE FROM checkpoints WHERE package_id = ?').run(packageId);
  }

  // ---- outbox ----------------------------------------------------------------------------------

  enqueue(item: Pick<OutboxRecord, 'action' | 'reportType' | 'fileName' | 'contentType' | 'summary'> & { body: Uint8Array }, now: number): number {
    return Number(this.db.prepare(`INSERT INTO outbox (action, report_type, file_name, content_type, body, summary, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(item.action, item.reportType, item.fileName, item.contentType, Buffer.from(item.body), item.summary, now)
      .lastInsertRowid);
  }

  /** The oldest message not yet delivered: delivery is strictly in order. */
  nextOutbox(): OutboxRecord | null {
    const r = this.db.prepare(`SELECT * FROM outbox WHERE state = 'queued' ORDER BY seq LIMIT 1`).get() as Row | undefined;
    return r ? toOutbox(r) : null;
  }

  outbox(states: OutboxRecord['state'][] = ['queued']): OutboxRecord[] {
    const marks = states.map(() => '?').join(', ');
    return (this.db.prepare(`SELECT * FROM outbox WHERE state IN (${marks}) ORDER BY seq`).all(...states) as Row[]).map(toOutbox);
  }

  markOutbox(seq: number, state: OutboxRecord['state'], error: string, now: number): void {
    this.db.prepare(`UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,
      sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE seq = ?`).run(state, error, state, now, seq);
    // Delivered bodies are not needed again; keep the row (summary) for the activity view, drop the bytes.
    if (state === 'sent') this.db.prepare(`UPDATE outbox SET body = X'' WHERE seq = ?`).run(seq);
  }

  noteOutboxFailure(seq: number, error: string): void {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?').run(error, seq);
  }

  // ---- log -------------------------------------------------------------------------------------

  log(level: LogRecord['level'], message: string, packageId = '', now = Date.now()): void {
    this.db.prepare('INSERT INTO log (at, level, package_id, message) VALUES (?, ?, ?, ?)').run(now, level, packageId, message);
  }

  logs(limit = 200): LogRecord[] {
    return (this.db.prepare('SELECT * FROM log ORDER BY seq DESC LIMIT ?').all(limit) as Row[]).reverse().map((r) => ({
      seq: Number(r.seq), at: Number(r.at), level: r.level as LogRecord['level'], packageId: String(r.package_id), message: String(r.message),
    }));
  }
}
