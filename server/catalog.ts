// Package catalog and assignments: the rows behind ApplicablePackages, Instructions and the
// package downloads. Every read goes to the database so admin changes apply at the next request.
import { prepared, type Db } from './db.js';
import type { RecurrenceBehavior } from '../shared/protocol/types.js';

export interface CatalogPackage {
  id: string;
  name: string;
  fileName: string;
  size: number;
  sha256: string;
  fileStamp: string;
  required: boolean;
  flags?: number;
  /** DM time text `YYYY-MM-DD hh:mm:ss`, interpreted as UTC when `startUtc`. */
  startTime?: string;
  startUtc: boolean;
  recurrence?: { intervalMs: number; behavior: RecurrenceBehavior };
  localDestination: string;
  commandLine?: string;
  shortDescription?: string;
  longDescription?: string;
  sourceFiles: boolean;
  addedAt: string;
}

interface PackageRow {
  id: string;
  name: string;
  file_name: string;
  size: number;
  sha256: string;
  file_stamp: string;
  required: number;
  flags: number | null;
  start_time: string | null;
  start_utc: number;
  recur_interval_ms: number | null;
  recur_behavior: string | null;
  local_destination: string;
  command_line: string | null;
  short_description: string | null;
  long_description: string | null;
  source_files: number;
  added_at: string;
}

function fromRow(r: PackageRow): CatalogPackage {
  const p: CatalogPackage = {
    id: r.id, name: r.name, fileName: r.file_name, size: r.size, sha256: r.sha256, fileStamp: r.file_stamp,
    required: r.required !== 0, startUtc: r.start_utc !== 0, localDestination: r.local_destination,
    sourceFiles: r.source_files !== 0, addedAt: r.added_at,
  };
  if (r.flags !== null) p.flags = r.flags;
  if (r.start_time !== null) p.startTime = r.start_time;
  if (r.recur_interval_ms !== null && r.recur_behavior !== null) {
    p.recurrence = { intervalMs: r.recur_interval_ms, behavior: r.recur_behavior as RecurrenceBehavior };
  }
  if (r.command_line !== null) p.commandLine = r.command_line;
  if (r.short_description !== null) p.shortDescription = r.short_description;
  if (r.long_description !== null) p.longDescription = r.long_description;
  return p;
}

/** A strong validator that changes whenever the bytes do (the architecture's cache key). */
export function etagOf(p: Pick<CatalogPackage, 'sha256'>): string {
  return `"${p.sha256}"`;
}

export function getPackage(db: Db, id: string): CatalogPackage | undefined {
  const row = prepared(db, 'SELECT * FROM packages WHERE id = ?').get(id) as PackageRow | undefined;
  return row && fromRow(row);
}

export function listPackages(db: Db): CatalogPackage[] {
  const rows = db.prepare('SELECT * FROM packages ORDER BY added_at, id').all() as PackageRow[];
  return rows.map(fromRow);
}

/** Insert or replace in place; an upsert (not REPLACE) so the package keeps its assignments. */
export function savePackage(db: Db, p: CatalogPackage): void {
  db.prepare(`
    INSERT INTO packages (id, name, file_name, size, sha256, file_stamp, required, flags, start_time, start_utc,
      recur_interval_ms, recur_behavior, local_destination, command_line, short_description, long_description,
      source_files, added_at)
    VALUES (@id, @name, @file_name, @size, @sha256, @file_stamp, @required, @flags, @start_time, @start_utc,
      @recur_interval_ms, @recur_behavior, @local_destination, @command_line, @short_description, @long_description,
      @source_files, @added_at)
    ON CONFLICT(id) DO UPDATE SET name = excluded.name, file_name = excluded.file_name, size = excluded.size,
      sha256 = excluded.sha256, file_stamp = excluded.file_stamp, required = excluded.required,
      flags = excluded.flags, start_time = excluded.start_time, start_utc = excluded.start_utc,
      recur_interval_ms = excluded.recur_interval_ms, recur_behavior = excluded.recur_behavior,
      local_destination = excluded.local_destination, command_line = excluded.command_line,
      short_description = excluded.short_description, long_description = excluded.long_description,
      source_files = excluded.source_files
  `).run({
    id: p.id, name: p.name, file_name: p.fileName, size: p.size, sha256: p.sha256, file_stamp: p.fileStamp,
    required: p.required ? 1 : 0, flags: p.flags ?? null, start_time: p.startTime ?? null,
    start_utc: p.startUtc ? 1 : 0, recur_interval_ms: p.recurrence?.intervalMs ?? null,
    recur_behavior: p.recurrence?.behavior ?? null, local_destination: p.localDestination,
    command_line: p.commandLine ?? null, short_description: p.shortDescription ?? null,
    long_description: p.longDescription ?? null, source_files: p.sourceFiles ? 1 : 0, added_at: p.addedAt,
  });
}

/** Records the stamp of a file whose content was checked; a no-op when the row changed meanwhile. */
export function restamp(db: Db, id: string, from: string, to: string): void {
  prepared(db, 'UPDATE packages SET file_stamp = ? WHERE id = ? AND file_stamp = ?').run(to, id, from);
}

export function deletePackage(db: Db, id: string): boolean {
  return db.prepare('DELETE FROM packages WHERE id = ?').run(id).changes > 0;
}

export function assign(db: Db, packageId: string, deviceId: string, at: string): boolean {
  return db.prepare('INSERT OR IGNORE INTO assignments (package_id, device_id, assigned_at) VALUES (?, ?, ?)')
    .run(packageId, deviceId, at).changes > 0;
}

export function unassign(db: Db, packageId: string, deviceId: string): boolean {
  return db.prepare('DELETE FROM assignments WHERE package_id = ? AND device_id = ?').run(packageId, deviceId).changes > 0;
}

export function assignmentsOf(db: Db, packageId: string): string[] {
  const rows = db.prepare('SELECT device_id FROM assignments WHERE package_id = ? ORDER BY device_id')
    .all(packageId) as { device_id: string }[];
  return rows.map((r) => r.device_id);
}

/**
 * The IDs a device must have (spec §5.1: the full desired state): assigned to '*' or to one of its IDs (the
 * poll's Identification/ID and X-Device-UUID, usually the same). Runs on every poll: one prepared statement
 * through the assignments_by_device index, so its cost does not grow with the fleet.
 */
export function applicablePackageIds(db: Db, deviceIds: [string] | [string, string]): string[] {
  const rows = prepared(db, `
    SELECT p.id FROM packages p
    WHERE p.id IN (SELECT package_id FROM assignments WHERE device_id IN ('*', ?, ?))
    ORDER BY p.added_at, p.id
  `).all(deviceIds[0], deviceIds[1] ?? deviceIds[0]) as { id: string }[];
  return rows.map((r) => r.id);
}
