// Everything devices sent us, one row per item in arrival order, so `server log` can replay it
// chronologically: polls, status messages, inventories and collected files.
import type { Db } from './db.js';
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

export function appendReceived(db: Db, deviceId: string, receivedAt: string, items: ReceivedItem[]): void {
  const stmt = db.prepare('INSERT INTO received (kind, device_id, received_at, data) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const item of items) stmt.run(item.kind, deviceId, receivedAt, JSON.stringify(item));
  })();
}

export function readReceived(db: Db, deviceId?: string): LogEntry[] {
  const rows = (deviceId === undefined
    ? db.prepare('SELECT * FROM received ORDER BY seq').all()
    : db.prepare('SELECT * FROM received WHERE device_id = ? ORDER BY seq').all(deviceId)) as
    { seq: number; device_id: string; received_at: string; data: string }[];
  return rows.map((r) => ({ seq: r.seq, deviceId: r.device_id, receivedAt: r.received_at, ...(JSON.parse(r.data) as ReceivedItem) }));
}
