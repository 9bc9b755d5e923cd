// DM time (spec §3.2): `YYYY-MM-DD hh:mm:ss`, used both as an absolute time (StartTime, timestamps) and as a
// duration (PollInterval, Recurrence/Interval, …). Absolute times stay unbound to a zone until the caller
// says whether they are UTC or device local time, because the spec makes StartTime absolute only "once
// interpreted". Parsing is lenient (1-digit fields, extra spaces); writing is always zero-padded.
import type { DmTime } from './types.js';
import { ProtocolError, quote } from './errors.js';

const TIME = /^(\d{4})-(\d{1,2})-(\d{1,2})[ \t]+(\d{1,2}):(\d{1,2}):(\d{1,2})$/;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function daysInMonth(year: number, month: number): number {
  const lengths = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return lengths[month - 1] ?? 31;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function timeError(problem: string): never {
  throw new ProtocolError('DM time', '', problem);
}

export function parseDmTime(text: string): DmTime {
  const m = TIME.exec(text.trim());
  if (!m) timeError(`${quote(text)} is not a date and time in the form YYYY-MM-DD hh:mm:ss`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t: DmTime = { year, month, day, hour, minute, second };
  checkDmTime(t, text);
  return t;
}

function checkDmTime(t: DmTime, text: string): void {
  const bad = (what: string, range: string): never => timeError(`${quote(text)} has ${what} (must be ${range})`);
  const ints = [t.year, t.month, t.day, t.hour, t.minute, t.second];
  if (!ints.every(Number.isInteger)) timeError(`${quote(text)} has a field that is not a whole number`);
  if (t.year < 1 || t.year > 9999) bad(`year ${t.year}`, '0001–9999');
  if (t.month < 1 || t.month > 12) bad(`month ${t.month}`, '1–12');
  const last = daysInMonth(t.year, t.month);
  if (t.day < 1 || t.day > last) bad(`day ${t.day}`, `1–${last} in that month`);
  if (t.hour > 23 || t.hour < 0) bad(`hour ${t.hour}`, '0–23');
  if (t.minute > 59 || t.minute < 0) bad(`minute ${t.minute}`, '0–59');
  if (t.second > 59 || t.second < 0) bad(`second ${t.second}`, '0–59');
}

export function formatDmTime(t: DmTime): string {
  const text = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  checkDmTime(t, text);
  return text;
}

/** Binds a DM time to a zone: `utc` true → UTC, false → this host's local time (the device's clock). */
export function dmTimeToDate(t: DmTime, utc: boolean): Date {
  const d = new Date(0);
  if (utc) {
    d.setUTCFullYear(t.year, t.month - 1, t.day); // setFullYear keeps years < 100 literal, unlike Date.UTC
    d.setUTCHours(t.hour, t.minute, t.second, 0);
  } else {
    d.setFullYear(t.year, t.month - 1, t.day);
    d.setHours(t.hour, t.minute, t.second, 0);
  }
  return d;
}

export function dateToDmTime(d: Date, utc: boolean): DmTime {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) timeError('the date is not a valid time');
  const t: DmTime = utc
    ? { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() }
    : { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds() };
  if (t.year < 1 || t.year > 9999) timeError(`year ${t.year} cannot be written as a DM time`);
  return t;
}

/** `StatusMessage@timestamp`: device local time by default (spec A9). */
export function formatDmTimestamp(d: Date, utc = false): string {
  return formatDmTime(dateToDmTime(d, utc));
}

// ---- durations ---------------------------------------------------------------------------------

const SEP = '[-:]';
// Year 1–4 digits covers both the XML form (0000-00-01 …) and the registry form (00-00-00 00:03:00, whose
// documentation also spells the time with hyphens); other fields may overflow (36:00:00, 90 minutes).
const DURATION = new RegExp(`^(\\d{1,4})${SEP}(\\d{1,9})${SEP}(\\d{1,9})[ \\t]+(\\d{1,9})${SEP}(\\d{1,9})${SEP}(\\d{1,9})$`);

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration in milliseconds. Months count 30 days and years 365 days (spec A6). */
export function parseDmDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) {
    throw new ProtocolError('DM duration', '', `${quote(text)} is not a duration in the form YYYY-MM-DD hh:mm:ss`);
  }
  const [years, months, days, hours, minutes, seconds] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = (years * 365 + months * 30 + days) * DAY + hours * HOUR + minutes * MINUTE + seconds * SECOND;
  if (!Number.isSafeInteger(ms)) throw new ProtocolError('DM duration', '', `${quote(text)} is too long a duration`);
  return ms;
}

/** Zero-padded, hours ≤ 23, whole days for 24 h and more, never months or years (spec §3.2). */
export function formatDmDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new ProtocolError('DM duration', '', `${String(ms)} ms is not a duration (must be 0 or more)`);
  }
  let rest = Math.round(ms / SECOND);
  const seconds = rest % 60; rest = (rest - seconds) / 60;
  const minutes = rest % 60; rest = (rest - minutes) / 60;
  const hours = rest % 24;
  const days = (rest - hours) / 24;
  return `0000-00-${pad(days)} ${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
}

/** For element readers: a duration that must be greater than zero (an interval of 0 would spin). */
export function parsePositiveDmDuration(text: string): number {
  const ms = parseDmDuration(text);
  if (ms <= 0) throw new ProtocolError('DM duration', '', `${quote(text)} is not a positive duration`);
  return ms;
}
