// The provisioning record as a file for the station API's exportRecord command: CSV as text, PDF as
// base64, each with the name a save dialog or a browser download offers.
import type { CommandResult, Device } from '../../../shared/contract/station-api.js';
import { buildRecord, parseSince, recordFileName, type RecordStation } from './record.js';
import { recordCsv } from './record-csv.js';
import { recordPdf } from './record-pdf.js';

export async function exportRecord(devices: Device[], station: RecordStation,
  c: { format: 'csv' | 'pdf'; devices: string[]; since?: string | undefined }, now: number): Promise<CommandResult> {
  const rec = buildRecord(devices, station, { devices: c.devices, since: c.since ? parseSince(c.since, now) : null, now });
  if (rec.devices.length === 0) {
    return { ok: false, message: c.since ? `no device has download events since ${c.since}` : 'no device is known to this station yet' };
  }
  const what = `${rec.devices.length} device${rec.devices.length === 1 ? '' : 's'}`;
  if (c.format === 'csv') {
    return { ok: true, message: `${recordFileName(rec, 'csv')}, ${what}`, file: { name: recordFileName(rec, 'csv'), contentType: 'text/csv;charset=utf-8', encoding: 'utf8', data: recordCsv(rec) } };
  }
  const pdf = await recordPdf(rec);
  return { ok: true, message: `${recordFileName(rec, 'pdf')}, ${what}`,
    file: { name: recordFileName(rec, 'pdf'), contentType: 'application/pdf', encoding: 'base64', data: pdf.toString('base64') } };
}
