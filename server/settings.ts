// Client settings the server hands out in every poll response: global defaults (scope '*') with
// per-device overrides on top, stored one key per row so that changing one value leaves the others.
import { prepared, type Db } from './db.js';
import type { FileFilterItem, PollResponseSettings } from '../shared/protocol/types.js';

export interface ReportBlock {
  enabled: boolean;
  filters: FileFilterItem[];
}

export interface EffectiveSettings {
  pollIntervalMs: number;
  retryCount: number;
  retryIntervalMs: number;
  /** Absent: the poll response says nothing, so the client keeps the server it has (spec §5.2). */
  pollServer?: string;
  /** The `Interval` of all three report blocks. */
  reportIntervalMs: number;
  softwareInventory: ReportBlock;
  machineInventory: { enabled: boolean };
  fileCollection: ReportBlock;
}

/** What one `server settings` call changes; absent fields stay as they are. */
export interface SettingsChange {
  pollIntervalMs?: number;
  retryCount?: number;
  retryIntervalMs?: number;
  pollServer?: string;
  reportIntervalMs?: number;
  softwareInventory?: { enabled?: boolean; filters?: FileFilterItem[] };
  machineInventory?: { enabled: boolean };
  fileCollection?: { enabled?: boolean; filters?: FileFilterItem[] };
}

const HOUR = 3_600_000;

/** The client's own factory defaults (spec §4.1, §17): 1 h polls, 5 retries 3 min apart; reports off. */
export function defaultSettings(): EffectiveSettings {
  return {
    pollIntervalMs: HOUR, retryCount: 5, retryIntervalMs: 3 * 60_000, reportIntervalMs: 24 * HOUR,
    softwareInventory: { enabled: false, filters: [] },
    machineInventory: { enabled: false },
    fileCollection: { enabled: false, filters: [] },
  };
}

export const GLOBAL_SCOPE = '*';

/** The flat keys a change writes. */
function changeToRows(change: SettingsChange): [string, unknown][] {
  const rows: [string, unknown][] = [];
  const put = (key: string, value: unknown): void => { if (value !== undefined) rows.push([key, value]); };
  put('pollIntervalMs', change.pollIntervalMs);
  put('retryCount', change.retryCount);
  put('retryIntervalMs', change.retryIntervalMs);
  put('pollServer', change.pollServer);
  put('reportIntervalMs', change.reportIntervalMs);
  put('softwareInventory.enabled', change.softwareInventory?.enabled);
  put('softwareInventory.filters', change.softwareInventory?.filters);
  put('machineInventory.enabled', change.machineInventory?.enabled);
  put('fileCollection.enabled', change.fileCollection?.enabled);
  put('fileCollection.filters', change.fileCollection?.filters);
  return rows;
}

export function writeSettings(db: Db, scope: string, change: SettingsChange, at: string): void {
  const stmt = db.prepare(`INSERT INTO settings (scope, key, value, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT(scope, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`);
  db.transaction(() => {
    for (const [key, value] of changeToRows(change)) stmt.run(scope, key, JSON.stringify(value), at);
  })();
}

function applyRow(s: EffectiveSettings, key: string, value: unknown): void {
  switch (key) {
    case 'pollIntervalMs': s.pollIntervalMs = value as number; break;
    case 'retryCount': s.retryCount = value as number; break;
    case 'retryIntervalMs': s.retryIntervalMs = value as number; break;
    case 'pollServer': s.pollServer = value as string; break;
    case 'reportIntervalMs': s.reportIntervalMs = value as number; break;
    case 'softwareInventory.enabled': s.softwareInventory.enabled = value as boolean; break;
    case 'softwareInventory.filters': s.softwareInventory.filters = value as FileFilterItem[]; break;
    case 'machineInventory.enabled': s.machineInventory.enabled = value as boolean; break;
    case 'fileCollection.enabled': s.fileCollection.enabled = value as boolean; break;
    case 'fileCollection.filters': s.fileCollection.filters = value as FileFilterItem[]; break;
    default: break; // a key written by a newer version: ignore rather than fail the poll
  }
}

/** Defaults, then the global rows, then the device's rows (two primary-key lookups: this runs on every poll). */
export function effectiveSettings(db: Db, deviceId?: string): EffectiveSettings {
  const s = defaultSettings();
  const byScope = prepared(db, 'SELECT key, value FROM settings WHERE scope = ?');
  for (const scope of deviceId === undefined || deviceId === GLOBAL_SCOPE ? [GLOBAL_SCOPE] : [GLOBAL_SCOPE, deviceId]) {
    for (const r of byScope.all(scope) as { key: string; value: string }[]) applyRow(s, r.key, JSON.parse(r.value));
  }
  return s;
}

/** The `Settings` block of a poll response: ClientSettings and all three report blocks (spec A12). */
export function toPollResponseSettings(s: EffectiveSettings): PollResponseSettings {
  return {
    ClientSettings: {
      version: '1.0',
      ...(s.pollServer !== undefined ? { PollServer: s.pollServer } : {}),
      PollInterval: s.pollIntervalMs,
      FailureRetryCount: s.retryCount,
      FailureRetryInterval: s.retryIntervalMs,
    },
    SoftwareInventorySettings: {
      Enabled: s.softwareInventory.enabled, Interval: s.reportIntervalMs, FileFilterItems: s.softwareInventory.filters,
    },
    FileCollectionSettings: {
      Enabled: s.fileCollection.enabled, Interval: s.reportIntervalMs, FileFilterItems: s.fileCollection.filters,
    },
    MachineInventorySettings: { Enabled: s.machineInventory.enabled, Interval: s.reportIntervalMs, FileFilterItems: [] },
  };
}
