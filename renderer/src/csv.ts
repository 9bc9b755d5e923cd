// The Activity view's export: RFC 4180 CSV (quoted where needed, CRLF rows) with a byte-order mark so
// spreadsheet programs read it as UTF-8. Cells that a spreadsheet would run as a formula (=, +, -, @) get
// a leading apostrophe: log messages quote server text, which must not become a formula on a
// technician's machine.
import type { Activity } from '../../shared/contract/station-api.js';

function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function activityCsv(entries: Activity[], targetName: (id: string) => string): string {
  const rows = [['time', 'level', 'target', 'package', 'message', 'next step']];
  for (const e of entries) rows.push([e.at, e.level, targetName(e.target), e.packageId, e.message, e.nextStep]);
  return `\ufeff${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
