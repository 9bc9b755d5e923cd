// The provisioning record as a printable PDF (pdfkit): a page per device — who it is, where it sat, the
// verdict in colour *and* words, and every download event with its package's full SHA-256, start, end,
// result and exit code — preceded, for a batch, by a summary page listing every device. A4, the standard
// PDF fonts (nothing to embed), page numbers and the station in every footer.
import type PDFDocument from 'pdfkit';
import type { DeviceEvent, DeviceVerdict } from '../../../shared/contract/station-api.js';
import { placeOf } from '../../../shared/model/place.js';
import { VERDICT_ORDER } from '../../../shared/model/verdict.js';
import { VERDICT_TITLES } from '../../../shared/model/verdict-words.js';
import { recordTime, type DeviceRecord, type ProvisioningRecord } from './record.js';

type Doc = InstanceType<typeof PDFDocument>;

const MARGIN = 48;
const INK = '#1b1f24';
const MUTED = '#566170';
const RULE = '#cfd5dc';

export const VERDICT_INK: Record<DeviceVerdict['kind'], string> = {
  done: '#1a7f37', failed: '#b42318', working: '#0b5cad', waiting: '#7d5300', undocked: '#c2410c',
};

const OUTCOME_INK: Record<DeviceEvent['outcome'], string> = { success: '#1a7f37', failed: '#b42318', interrupted: '#7d5300', running: '#0b5cad' };

/** The standard PDF fonts speak Windows-1252 only: other characters become their nearest ASCII. */
function latin(text: string): string {
  return text.replace(/…/g, '...').replace(/[→⇒]/g, '->').replace(/[‘’]/g, "'").replace(/[“”]/g, '"').replace(/[–—]/g, '-')
    .replace(/[^\t\n\r\x20-\x7e\xa0-\xff]/g, '?');
}

function text(doc: Doc, s: string, x: number, y: number, o: PDFKit.Mixins.TextOptions & { font?: string; size?: number; color?: string } = {}): number {
  const { font = 'Helvetica', size = 9, color = INK, ...rest } = o;
  doc.font(font).fontSize(size).fillColor(color).text(latin(s), x, y, { lineBreak: true, ...rest });
  return doc.y;
}

function heading(doc: Doc, rec: ProvisioningRecord, title: string, sub: string): number {
  const width = doc.page.width - 2 * MARGIN;
  text(doc, 'DOCKHAND PROVISIONING RECORD', MARGIN, MARGIN, { size: 8, color: MUTED });
  let y = text(doc, title, MARGIN, MARGIN + 14, { font: 'Helvetica-Bold', size: 20, width });
  y = text(doc, sub, MARGIN, y + 2, { size: 9.5, color: MUTED, width });
  if (rec.since) y = text(doc, `Download events since ${recordTime(rec.since)}`, MARGIN, y + 1, { size: 9.5, color: MUTED, width });
  doc.moveTo(MARGIN, y + 8).lineTo(MARGIN + width, y + 8).lineWidth(0.75).strokeColor(RULE).stroke();
  return y + 18;
}

/** The verdict: a coloured bar and badge, its title in capitals, and its sentence (and next step). */
function verdictBox(doc: Doc, v: DeviceVerdict, y: number): number {
  const width = doc.page.width - 2 * MARGIN;
  const ink = VERDICT_INK[v.kind];
  const inner = width - 120;
  doc.font('Helvetica').fontSize(10.5);
  const h1 = doc.heightOfString(latin(v.words), { width: inner });
  doc.fontSize(9);
  const h2 = v.nextStep ? doc.heightOfString(latin(`Next step: ${v.nextStep}`), { width: inner }) + 4 : 0;
  const h = Math.max(40, h1 + h2 + 20);
  doc.save().rect(MARGIN, y, width, h).fillOpacity(0.08).fill(ink).restore();
  doc.rect(MARGIN, y, 5, h).fill(ink);
  doc.roundedRect(MARGIN + 16, y + 10, 88, 20, 4).fill(ink);
  text(doc, v.title.toUpperCase(), MARGIN + 16, y + 15.5, { font: 'Helvetica-Bold', size: v.title.length > 10 ? 6.5 : 9, color: '#ffffff', width: 88, align: 'center' });
  let ty = text(doc, v.words, MARGIN + 116, y + 10, { size: 10.5, width: inner, font: v.kind === 'failed' ? 'Helvetica-Bold' : 'Helvetica' });
  if (v.nextStep) ty = text(doc, `Next step: ${v.nextStep}`, MARGIN + 116, ty + 4, { size: 9, color: MUTED, width: inner });
  return Math.max(y + h, ty + 10) + 14;
}

const COLS = [{ at: 0, w: 170, label: 'Package' }, { at: 170, w: 70, label: 'Result' }, { at: 240, w: 40, label: 'Exit' },
  { at: 285, w: 107, label: 'Started' }, { at: 392, w: 107, label: 'Ended' }];

function ensureRoom(doc: Doc, y: number, need: number, onNewPage: () => number): number {
  if (y + need <= doc.page.height - MARGIN - 24) return y;
  doc.addPage();
  return onNewPage();
}

function eventsTable(doc: Doc, events: DeviceEvent[], y0: number, continued: () => number): number {
  const width = doc.page.width - 2 * MARGIN;
  const head = (y: number) => {
    doc.rect(MARGIN, y, width, 16).fill('#eef1f4');
    for (const c of COLS) text(doc, c.label, MARGIN + c.at + 4, y + 4.5, { font: 'Helvetica-Bold', size: 8, color: MUTED, width: c.w - 6 });
    return y + 20;
  };
  let y = text(doc, 'Download events', MARGIN, y0, { font: 'Helvetica-Bold', size: 12 }) + 6;
  if (events.length === 0) return text(doc, 'No download events in this range.', MARGIN, y, { color: MUTED, size: 9.5 }) + 10;
  y = head(y);
  for (const e of events) {
    doc.font('Helvetica-Bold').fontSize(9);
    const nameH = doc.heightOfString(latin(e.name), { width: COLS[0]!.w - 6 });
    const reason = e.reason ? `${e.failedPhase ? `Failed in ${e.failedPhase}: ` : ''}${e.reason}` : '';
    doc.font('Helvetica').fontSize(8.5);
    const reasonH = reason ? doc.heightOfString(latin(reason), { width: width - 8 }) + 2 : 0;
    const rowH = Math.max(nameH, 11) + 12 + reasonH + 6;
    y = ensureRoom(doc, y, rowH, () => head(continued()));
    text(doc, e.name, MARGIN + 4, y, { font: 'Helvetica-Bold', size: 9, width: COLS[0]!.w - 6 });
    text(doc, e.outcome === 'success' ? 'installed' : e.outcome, MARGIN + COLS[1]!.at + 4, y, { font: 'Helvetica-Bold', size: 9, color: OUTCOME_INK[e.outcome] });
    text(doc, e.exitCode === null ? '-' : String(e.exitCode), MARGIN + COLS[2]!.at + 4, y, { size: 9 });
    text(doc, recordTime(e.startedAt), MARGIN + COLS[3]!.at + 4, y, { size: 8.5, width: COLS[3]!.w - 6 });
    text(doc, recordTime(e.endedAt) || 'running', MARGIN + COLS[4]!.at + 4, y, { size: 8.5, width: COLS[4]!.w - 6 });
    let ry = y + Math.max(nameH, 11) + 2;
    ry = text(doc, `SHA-256 ${e.sha256 ?? 'not published'}`, MARGIN + 4, ry, { font: 'Courier', size: 7.5, color: MUTED, width: width - 8 });
    if (reason) ry = text(doc, reason, MARGIN + 4, ry + 2, { size: 8.5, color: OUTCOME_INK[e.outcome], width: width - 8 });
    y = ry + 5;
    doc.moveTo(MARGIN, y).lineTo(MARGIN + width, y).lineWidth(0.5).strokeColor(RULE).stroke();
    y += 5;
  }
  return y;
}

function facts(doc: Doc, rows: Array<[string, string]>, y: number): number {
  for (const [k, v] of rows) {
    text(doc, k, MARGIN, y, { size: 9, color: MUTED, width: 90 });
    y = Math.max(doc.y, text(doc, v, MARGIN + 96, y, { size: 9, width: doc.page.width - 2 * MARGIN - 96 })) + 2;
  }
  return y + 10;
}

function devicePage(doc: Doc, rec: ProvisioningRecord, r: DeviceRecord): void {
  const d = r.device;
  const sub = `${placeOf(d)}  |  device ID ${d.id}`;
  let y = heading(doc, rec, d.name, sub);
  y = verdictBox(doc, d.verdict, y);
  y = facts(doc, [
    ['Device', `${d.name} (${d.id})`], ['Slot', d.slot || 'not named'], ['Port', d.port || 'unknown'],
    ['Last docked', recordTime(d.lastDockedAt) || 'never'], ['Station', `${rec.station.id} on ${rec.station.host}`],
  ], y);
  eventsTable(doc, r.events, y, () => heading(doc, rec, `${d.name} (continued)`, sub));
}

function summaryPage(doc: Doc, rec: ProvisioningRecord): void {
  const counts = new Map<DeviceVerdict['kind'], number>();
  for (const r of rec.devices) counts.set(r.device.verdict.kind, (counts.get(r.device.verdict.kind) ?? 0) + 1);
  const tally = [...counts].sort(([a], [b]) => VERDICT_ORDER[a] - VERDICT_ORDER[b])
    .map(([k, n]) => `${n} ${VERDICT_TITLES[k].toLowerCase()}`).join(', ');
  const sub = `${rec.devices.length} devices: ${tally}  |  station ${rec.station.id} on ${rec.station.host}`;
  let y = heading(doc, rec, 'Batch summary', sub);
  const width = doc.page.width - 2 * MARGIN;
  const cols = [{ at: 0, w: 80, label: 'Slot' }, { at: 80, w: 150, label: 'Device' }, { at: 230, w: 269, label: 'Verdict' }];
  const head = (yy: number) => {
    doc.rect(MARGIN, yy, width, 16).fill('#eef1f4');
    for (const c of cols) text(doc, c.label, MARGIN + c.at + 4, yy + 4.5, { font: 'Helvetica-Bold', size: 8, color: MUTED });
    return yy + 20;
  };
  y = head(y);
  for (const { device: d } of rec.devices) {
    doc.font('Helvetica').fontSize(9);
    const h = Math.max(doc.heightOfString(latin(d.verdict.words), { width: cols[2]!.w - 6 }), 22) + 6;
    y = ensureRoom(doc, y, h, () => head(heading(doc, rec, 'Batch summary (continued)', sub)));
    const ink = VERDICT_INK[d.verdict.kind];
    doc.rect(MARGIN, y - 2, 3, h - 4).fill(ink);
    text(doc, placeOf(d), MARGIN + 8, y, { size: 9, width: cols[0]!.w - 10 });
    text(doc, d.name, MARGIN + cols[1]!.at + 4, y, { font: 'Helvetica-Bold', size: 9, width: cols[1]!.w - 6 });
    text(doc, d.id, MARGIN + cols[1]!.at + 4, y + 11, { size: 7.5, color: MUTED, width: cols[1]!.w - 6 });
    text(doc, d.verdict.words, MARGIN + cols[2]!.at + 4, y, { size: 9, color: ink, width: cols[2]!.w - 6 });
    y += h;
    doc.moveTo(MARGIN, y - 3).lineTo(MARGIN + width, y - 3).lineWidth(0.5).strokeColor(RULE).stroke();
  }
}

/** Footers on every page: station, time of the record, page n of m. */
function footers(doc: Doc, rec: ProvisioningRecord): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i += 1) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0; // writing inside the margin must not start a new page
    text(doc, `Station ${rec.station.id} on ${rec.station.host}  |  generated ${recordTime(rec.generatedAt)}  |  page ${i + 1} of ${range.count}`,
      MARGIN, doc.page.height - MARGIN + 14, { size: 7.5, color: MUTED, width: doc.page.width - 2 * MARGIN, align: 'center', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}

export async function recordPdf(rec: ProvisioningRecord): Promise<Buffer> {
  // Loaded on first use: a station that never prints a record never loads the PDF library.
  const { default: PDF } = await import('pdfkit');
  const doc = new PDF({
    size: 'A4', margin: MARGIN, bufferPages: true, autoFirstPage: false,
    info: { Title: `Dockhand provisioning record (${rec.devices.length} device${rec.devices.length === 1 ? '' : 's'})`, Author: `Dockhand station ${rec.station.id}`,
      CreationDate: new Date(rec.generatedAt) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  if (rec.devices.length !== 1) {
    doc.addPage();
    if (rec.devices.length === 0) heading(doc, rec, 'No devices in this record', `station ${rec.station.id} on ${rec.station.host}`);
    else summaryPage(doc, rec);
  }
  for (const r of rec.devices) {
    doc.addPage();
    devicePage(doc, rec, r);
  }
  footers(doc, rec);
  doc.end();
  return await done;
}
