// Everything devices sent us, one row per item in arrival order, so `server log` can replay it
// chronologically: polls, status messages, inventories and collected files. A status message delivered
// twice is recorded once (see statusKey).
import { createHash } from 'node:crypto';
import { prepared, type Db } from './db.js';
import type { FileReport, Identification, Inventory, StatusParameter } from '../shared/protocol/types.js';

export interface PollEntry {
  kind: 'poll';
  deviceName: string;
  identification: Identification;
  managementSystem: { Name: string; Version: string };
  /** What the device sent in X-Device-Timestamp (empty on a first poll) and what we answered. */
  deviceTimestamp: string;
  serverTimestamp: string;
  clientVersion?: string;
  applicablePackages: string[];
}

export interface StatusEntry {
  kind: 'status';
  packageID: string;
  messageID: number;
  timestamp: string;
  parameters: StatusParameter[];
}

export interface SoftwareInventoryEntry {
  kind: 'softwareInventory';
  report: FileReport;
}

export interface MachineInventoryEntry {
  kind: 'machineInventory';
  inventory: Inventory;
}

export interface FileCollectionEntry {
  kind: 'fileCollection';
  /** X-Device-FullyQualifiedFilename as sent (control characters shown as '?'). */
  devicePath: string;
  size: number;
  sha256: string;
  /** Where the bytes are, relative to the data folder, '/'-separated. */
  storedAs: string;
}

export type ReceivedItem = PollEntry | StatusEntry | SoftwareInventoryEntry | MachineInventoryEntry | FileCollectionEntry;

export type LogEntry = ReceivedItem & { seq: number; deviceId: string; receivedAt: string };

/**
 * What makes two status messages the same message: the device, and everything the device put in it
 * (package, code, its timestamp, the parameters in order). A client that crashed between our write and our
 * answer sends the very same document again (its outbox keeps the body), so the second copy has this key.
 * Two real events would differ at least in code or timestamp; only two identical messages of one package in
 * the same second collapse into one, and they say nothing the first did not.
 */
export function statusKey(deviceId: string, m: Pick<StatusEntry, 'packageID' | 'messageID' | 'timestamp' | 'parameters'>): string {
  const canonical = JSON.stringify([deviceId, m.packageID, m.messageID, m.timestamp, m.parameters.map((p) => [p.name, p.value])]);
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Records the items in one transaction. Returns, per item, whether it was new: a status message whose key
 * is already recorded is not stored again. `json[i]`, when given, is item i's JSON already made (a large
 * report's, by jsonInSlices, so that making it did not hold the event loop).
 */
export function appendReceived(db: Db, deviceId: string, receivedAt: string, items: ReceivedItem[], json: ReadonlyArray<string | undefined> = []): boolean[] {
  const stmt = prepared(db, 'INSERT OR IGNORE INTO received (kind, device_id, received_at, data, dedup_key) VALUES (?, ?, ?, ?, ?)');
  return db.transaction(() => items.map((item, i) => {
    const key = item.kind === 'status' ? statusKey(deviceId, item) : null;
    return stmt.run(item.kind, deviceId, receivedAt, json[i] ?? JSON.stringify(item), key).changes > 0;
  }))();
}

export function readReceived(db: Db, deviceId?: string): LogEntry[] {
  const rows = (deviceId === undefined
    ? db.prepare('SELECT * FROM received ORDER BY seq').all()
    : db.prepare('SELECT * FROM received WHERE device_id = ? ORDER BY seq').all(deviceId)) as
    { seq: number; device_id: string; received_at: string; data: string }[];
  return rows.map((r) => ({ seq: r.seq, deviceId: r.device_id, receivedAt: r.received_at, ...(JSON.parse(r.data) as ReceivedItem) }));
}
