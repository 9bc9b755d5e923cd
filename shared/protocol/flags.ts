// Flags (spec §3.3): the 32-bit connection mask of an instruction, written as a little-endian byte dump,
// `03 00 00 00` = 0x00000003. Only three bits are defined; the others are ignored (spec A8).
import { ProtocolError, quote } from './errors.js';

export const FLAG_LOW_BANDWIDTH = 0x01; // a connection below 128 Kbps may be used (ADL_SLOW_NETWORK)
export const FLAG_HIGH_BANDWIDTH = 0x02; // a connection above 128 Kbps may be used (ADL_FAST_NETWORK)
export const FLAG_CRADLED = 0x04; // desktop pass-through while cradled (ADL_PASSTHROUGH)
const KNOWN = FLAG_LOW_BANDWIDTH | FLAG_HIGH_BANDWIDTH | FLAG_CRADLED;

/**
 * Accepts the documented `xx xx xx xx` and, leniently, 1–4 byte pairs separated by any whitespace or
 * written together (`03000000`, `03`). Every form is read as bytes, least significant first; missing high
 * bytes are zero. Anything else (0x prefixes, odd digit counts, more than four bytes) is refused.
 */
export function parseFlags(text: string): number {
  const t = text.trim();
  const pairs = /\s/.test(t) ? t.split(/\s+/) : t.match(/[0-9a-fA-F]{2}/g) ?? [];
  const joined = pairs.join('');
  const valid = pairs.length >= 1 && pairs.length <= 4 && pairs.every((p) => /^[0-9a-fA-F]{2}$/.test(p)) &&
    joined.length === t.replace(/\s+/g, '').length;
  if (!valid) {
    throw new ProtocolError('Flags', '', `${quote(text)} is not a connection mask in the form 'xx xx xx xx' (hex bytes, least significant first)`);
  }
  return pairs.reduce((value, pair, i) => value + parseInt(pair, 16) * 2 ** (8 * i), 0);
}

export function formatFlags(flags: number): string {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new ProtocolError('Flags', '', `${String(flags)} is not a 32-bit connection mask`);
  }
  const bytes: string[] = [];
  for (let i = 0; i < 4; i++) bytes.push((Math.floor(flags / 2 ** (8 * i)) & 0xff).toString(16).toUpperCase().padStart(2, '0'));
  return bytes.join(' ');
}

/** The connection a task would use right now, as the scheduler sees it. */
export interface ConnectionState {
  /** Link speed class of the network path to the server: below/at 128 Kbps is low (spec A8). */
  bandwidth: 'low' | 'high' | 'none';
  /** The device sits in its cradle / on the station's link (desktop pass-through). */
  cradled: boolean;
}

/**
 * Whether a package with these flags may run over this connection. 0 or absent means any connection, as
 * long as there is one; unknown bits are ignored; with no network (`none`) only the cradled path remains.
 */
export function flagsAllow(flags: number | undefined, c: ConnectionState): boolean {
  const known = (flags ?? 0) & KNOWN;
  if (known === 0) return c.bandwidth !== 'none' || c.cradled;
  return ((known & FLAG_LOW_BANDWIDTH) !== 0 && c.bandwidth === 'low') ||
    ((known & FLAG_HIGH_BANDWIDTH) !== 0 && c.bandwidth === 'high') ||
    ((known & FLAG_CRADLED) !== 0 && c.cradled);
}

/** Words for a technician: which connections a package waits for. */
export function describeFlags(flags: number | undefined): string {
  const value = flags ?? 0;
  const known = value & KNOWN;
  const unknown = value - (value & KNOWN);
  const words = known === 0 || known === KNOWN ? 'any connection' : ({
    [FLAG_LOW_BANDWIDTH]: 'low bandwidth only',
    [FLAG_HIGH_BANDWIDTH]: 'high bandwidth only',
    [FLAG_LOW_BANDWIDTH | FLAG_HIGH_BANDWIDTH]: 'low or high bandwidth',
    [FLAG_CRADLED]: 'cradled only',
    [FLAG_LOW_BANDWIDTH | FLAG_CRADLED]: 'low bandwidth or cradled',
    [FLAG_HIGH_BANDWIDTH | FLAG_CRADLED]: 'high bandwidth or cradled',
  } as Record<number, string>)[known] ?? 'any connection';
  return unknown === 0 ? words : `${words} (unknown bits 0x${unknown.toString(16).toUpperCase()} ignored)`;
}
