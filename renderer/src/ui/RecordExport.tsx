// The provisioning record of some devices, exported by the station (exportRecord) and saved as a file: CSV
// for a spreadsheet, PDF to print and hand over. "Today only" limits it to today's download events — the
// day's batch.
import { useState } from 'react';
import type { Device } from '../../../shared/contract/station-api.js';
import { downloadCommandFile } from '../download.js';
import { useActions } from './actions.js';

/** Local midnight today, as the station reads `since`. */
function startOfToday(): string {
  const d = new Date();
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).toISOString();
}

export function RecordExport({ devices, what }: { devices: Device[]; what: string }) {
  const { run } = useActions();
  const [today, setToday] = useState(false);
  const [busy, setBusy] = useState(false);
  const save = async (format: 'csv' | 'pdf') => {
    setBusy(true);
    try {
      const result = await run({
        type: 'exportRecord', format, devices: devices.map((d) => d.id), ...(today ? { since: startOfToday() } : {}),
      }, `Record of ${what} as ${format.toUpperCase()}`);
      if (result.ok && result.file) downloadCommandFile(result.file);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="record-export" role="group" aria-label={`Provisioning record of ${what}`}>
      <span className="record-label" aria-hidden="true">Record</span>
      <label className="check"><input type="checkbox" checked={today} onChange={(e) => setToday(e.target.checked)} /> today only</label>
      <button type="button" className="btn small" disabled={busy || devices.length === 0} onClick={() => void save('csv')} aria-label={`Export the record of ${what} as CSV`}>
        CSV
      </button>
      <button type="button" className="btn small" disabled={busy || devices.length === 0} onClick={() => void save('pdf')} aria-label={`Export the record of ${what} as PDF`}>
        PDF
      </button>
    </div>
  );
}
