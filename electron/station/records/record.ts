// The provisioning record: for each device, what happened to it — identity, slot, and every download
// event with the package's SHA-256, start and end, result, command exit code — with the station that
// did it. Built from the station API's devices (a running station) or from a data folder (the CLI);
// written out as CSV (record-csv.ts) or as printable PDF pages (record-pdf.ts).
import type { Device, DeviceEvent } from '../../../shared/contract/station-api.js';

export interface RecordStation {
  id: string;
  host: string;
}

export interface DeviceRecord {
  device: Device;
  /** The device's download events in the record's range, oldest first. */
  events: DeviceEvent[];
}

export interface ProvisioningRecord {
  station: RecordStation;
  generatedAt: string;
  /** The start of the range ("today's batch"), or null for everything. */
  since: string | null;
  devices: DeviceRecord[];
}

export interface RecordSelection {
  /** Device IDs; empty means every device (with events in the range, when `since` is given). */
  devices: string[];
  since: number | null;
  now: number;
}

/** A day ("2026-11-22", local midnight), a full ISO time, or "today". */
export function parseSince(text: string, now = Date.now()): number {
  const t = text.trim().toLowerCase();
  if (t === 'today') {
    const d = new Date(now);
    return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  }
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  const ms = day ? new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])).getTime() : Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`'${text}' is not a date; write YYYY-MM-DD, an ISO time, or today`);
  return ms;
}

export function buildRecord(devices: Device[], station: RecordStation, sel: RecordSelection): ProvisioningRecord {
  const wanted = new Set(sel.devices);
  const unknown = sel.devices.filter((id) => !devices.some((d) => d.id === id));
  if (unknown.length) throw new Error(`no device ${unknown.join(', ')} is known to this station`);
  const inRange = (e: DeviceEvent) => sel.since === null || Date.parse(e.endedAt ?? e.startedAt) >= sel.since;
  const chosen: DeviceRecord[] = [];
  for (const device of devices) {
    if (wanted.size && !wanted.has(device.id)) continue;
    const events = device.history.filter(inRange);
    if (!wanted.size && sel.since !== null && events.length === 0) continue;
    chosen.push({ device, events });
  }
  chosen.sort((a, b) => slotOrder(a.device).localeCompare(slotOrder(b.device), undefined, { numeric: true }) || a.device.name.localeCompare(b.device.name));
  return { station, generatedAt: new Date(sel.now).toISOString(), since: sel.since === null ? null : new Date(sel.since).toISOString(), devices: chosen };
}

const slotOrder = (d: Device) => d.slot || d.port;

/** "2026-11-22 14:03:07" in UTC: a record states times without the reader's time zone guessing. */
export function recordTime(iso: string | null): string {
  return iso ? `${iso.slice(0, 19).replace('T', ' ')} UTC` : '';
}

export function recordFileName(rec: ProvisioningRecord, ext: 'csv' | 'pdf'): string {
  const stamp = rec.generatedAt.slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  const who = rec.devices.length === 1 ? rec.devices[0]!.device.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) : `${rec.devices.length}-devices`;
  return `dockhand-record-${who}-${stamp}.${ext}`;
}
