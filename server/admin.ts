// The administrator's operations on a data folder: the CLI calls these, tests and the station's demo
// mode call them in-process. Each opens the database for the call only, so they work beside a running
// server. Bad input throws InputError with a message a technician can act on.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { parseDmTime, formatDmTime } from '../shared/protocol/index.js';
import type { RecurrenceBehavior } from '../shared/protocol/types.js';
import { withDb } from './db.js';
import * as catalog from './catalog.js';
import type { CatalogPackage } from './catalog.js';
import { effectiveSettings, writeSettings, GLOBAL_SCOPE, type EffectiveSettings, type SettingsChange } from './settings.js';
import { readReceived, type LogEntry } from './received-log.js';
import { checkPackageFileName, installStaged, removeOtherFiles, removePackageFiles, stageFile } from './package-store.js';
import { InputError, checkDeviceId, hasControlChars, normalizePackageId } from './input-error.js';
import { checkSettingsChange } from './settings-check.js';

export interface AddPackageOptions {
  /** Path of the file to publish; its base name becomes the package file name. */
  file: string;
  name: string;
  /** A GUID; a new upper-case one when absent. The same ID replaces the package (bytes and fields). */
  id?: string;
  required?: boolean; // default true
  flags?: number; // 32-bit connection mask; absent = any connection
  /** `YYYY-MM-DD hh:mm:ss`; absent = immediately. */
  startTime?: string;
  startUtc?: boolean;
  recurrence?: { intervalMs: number; behavior: RecurrenceBehavior };
  localDestination?: string; // default '\Temp'
  commandLine?: string;
  shortDescription?: string;
  longDescription?: string;
  sourceFiles?: boolean; // default true
}

export type PackageListing = CatalogPackage & { assignedTo: string[] };

const now = (): string => new Date().toISOString();

function checkText(label: string, text: string | undefined, max: number, required = false): string | undefined {
  if (text === undefined) {
    if (required) throw new InputError(`${label} is required`);
    return undefined;
  }
  if (required && text.trim() === '') throw new InputError(`${label} must not be empty`);
  if (text.length > max) throw new InputError(`${label} is longer than ${max} characters`);
  if (hasControlChars(text)) throw new InputError(`${label} must be one line without control characters`);
  return text;
}

function checkAddOptions(o: AddPackageOptions): void {
  checkText('the package name', o.name, 256, true);
  checkText('the short description', o.shortDescription, 256);
  checkText('the long description', o.longDescription, 2000);
  // MAX_PATH on the device (spec §16: wzDest[MAX_PATH], wzCmdLine[MAX_PATH])
  checkText('the local destination', o.localDestination, 259, o.localDestination !== undefined);
  checkText('the command line', o.commandLine, 259);
  if (o.flags !== undefined && (!Number.isInteger(o.flags) || o.flags < 0 || o.flags > 0xffffffff)) {
    throw new InputError(`flags ${o.flags} are not a 32-bit value`);
  }
  if (o.startTime !== undefined) {
    try {
      parseDmTime(o.startTime);
    } catch (err) {
      throw new InputError(`start time: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (o.recurrence) {
    if (!Number.isSafeInteger(o.recurrence.intervalMs) || o.recurrence.intervalMs <= 0) {
      throw new InputError('the recurrence interval must be longer than zero');
    }
    if (o.recurrence.behavior !== 'Download and Execute' && o.recurrence.behavior !== 'Execute Only') {
      throw new InputError(`recurrence behavior must be "Download and Execute" or "Execute Only", not '${String(o.recurrence.behavior)}'`);
    }
  }
}

/** Copy the file in, hash it, and save (or replace) the catalog row. Returns the saved package. */
export async function addPackage(dataDir: string, o: AddPackageOptions): Promise<CatalogPackage> {
  checkAddOptions(o);
  const id = o.id === undefined ? randomUUID().toUpperCase() : normalizePackageId(o.id);
  const fileName = checkPackageFileName(path.basename(o.file));
  const staged = await stageFile(dataDir, o.file);
  const pkg: CatalogPackage = {
    id, name: o.name, fileName, size: staged.size, sha256: staged.sha256, fileStamp: '',
    required: o.required ?? true, startUtc: o.startUtc ?? false, localDestination: o.localDestination ?? '\\Temp',
    sourceFiles: o.sourceFiles ?? true, addedAt: now(),
  };
  if (o.flags !== undefined) pkg.flags = o.flags;
  if (o.startTime !== undefined) pkg.startTime = formatDmTime(parseDmTime(o.startTime));
  if (o.recurrence) pkg.recurrence = o.recurrence;
  if (o.commandLine !== undefined) pkg.commandLine = o.commandLine;
  if (o.shortDescription !== undefined) pkg.shortDescription = o.shortDescription;
  if (o.longDescription !== undefined) pkg.longDescription = o.longDescription;
  try {
    // rename first, then commit: until the row names the new file's stamp, downloads answer 503
    pkg.fileStamp = await installStaged(dataDir, staged, id, fileName);
  } catch (err) {
    await rm(staged.stagingPath, { force: true });
    throw err;
  }
  withDb(dataDir, (db) => catalog.savePackage(db, pkg));
  await removeOtherFiles(dataDir, id, fileName);
  return withDb(dataDir, (db) => catalog.getPackage(db, id)) ?? pkg;
}

export function listPackages(dataDir: string): PackageListing[] {
  return withDb(dataDir, (db) => catalog.listPackages(db).map((p) => ({ ...p, assignedTo: catalog.assignmentsOf(db, p.id) })));
}

export function getPackage(dataDir: string, id: string): PackageListing | undefined {
  const key = normalizePackageId(id);
  return withDb(dataDir, (db) => {
    const p = catalog.getPackage(db, key);
    return p && { ...p, assignedTo: catalog.assignmentsOf(db, p.id) };
  });
}

export async function removePackage(dataDir: string, id: string): Promise<void> {
  const key = normalizePackageId(id);
  const removed = withDb(dataDir, (db) => catalog.deletePackage(db, key));
  if (!removed) throw new InputError(`there is no package ${key} in the catalog`);
  await removePackageFiles(dataDir, key);
}

/** Assign to one device ID, or to every device with '*'. Returns false when it was already assigned. */
export function assignPackage(dataDir: string, id: string, deviceId: string): boolean {
  const key = normalizePackageId(id);
  const device = checkDeviceId(deviceId);
  return withDb(dataDir, (db) => {
    if (!catalog.getPackage(db, key)) throw new InputError(`there is no package ${key} in the catalog`);
    return catalog.assign(db, key, device, now());
  });
}

/** Returns false when there was no such assignment. */
export function unassignPackage(dataDir: string, id: string, deviceId: string): boolean {
  const key = normalizePackageId(id);
  const device = checkDeviceId(deviceId);
  return withDb(dataDir, (db) => {
    if (!catalog.getPackage(db, key)) throw new InputError(`there is no package ${key} in the catalog`);
    return catalog.unassign(db, key, device);
  });
}

/** Change the global defaults (no device) or one device's overrides; returns the resulting settings. */
export function setSettings(dataDir: string, change: SettingsChange, deviceId?: string): EffectiveSettings {
  checkSettingsChange(change);
  const scope = deviceId === undefined ? GLOBAL_SCOPE : checkDeviceId(deviceId);
  return withDb(dataDir, (db) => {
    writeSettings(db, scope, change, now());
    return effectiveSettings(db, deviceId);
  });
}

export function getSettings(dataDir: string, deviceId?: string): EffectiveSettings {
  return withDb(dataDir, (db) => effectiveSettings(db, deviceId));
}

/** Everything received, oldest first; only one device's items when `deviceId` is given. */
export function readLog(dataDir: string, options: { deviceId?: string } = {}): LogEntry[] {
  return withDb(dataDir, (db) => readReceived(db, options.deviceId));
}
