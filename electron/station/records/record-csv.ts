// The provisioning record as CSV: one row per download event (a device without events in the range gets
// one row with its identity and verdict), so a spreadsheet can filter by device, package or result.
import { csvDocument } from '../../../shared/model/csv.js';
import { placeOf } from '../../../shared/model/place.js';
import { recordTime, type ProvisioningRecord } from './record.js';

export const RECORD_COLUMNS = [
  'station', 'station host', 'device id', 'device name', 'slot', 'port', 'verdict', 'package id', 'package name', 'sha256',
  'started', 'ended', 'result', 'failed phase', 'exit code', 'reason',
];

export function recordCsv(rec: ProvisioningRecord): string {
  const rows = [RECORD_COLUMNS];
  for (const { device: d, events } of rec.devices) {
    const who = [rec.station.id, rec.station.host, d.id, d.name, placeOf(d), d.port, d.verdict.words];
    if (events.length === 0) rows.push([...who, '', '', '', '', '', '', '', '', '']);
    for (const e of events) {
      rows.push([...who, e.packageId, e.name, e.sha256 ?? '', recordTime(e.startedAt), recordTime(e.endedAt), e.outcome,
        e.failedPhase ?? '', e.exitCode === null ? '' : String(e.exitCode), e.reason]);
    }
  }
  return csvDocument(rows);
}
