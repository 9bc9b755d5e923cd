// The Activity view's export, as CSV (shared/model/csv.ts: quoting, BOM, formula-safe cells).
import type { Activity } from '../../shared/contract/station-api.js';
import { csvDocument } from '../../shared/model/csv.js';

export function activityCsv(entries: Activity[], targetName: (id: string) => string): string {
  const rows = [['time', 'level', 'target', 'package', 'message', 'next step']];
  for (const e of entries) rows.push([e.at, e.level, targetName(e.target), e.packageId, e.message, e.nextStep]);
  return csvDocument(rows);
}
