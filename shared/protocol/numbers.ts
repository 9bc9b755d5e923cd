// Decimal numbers in DM documents (sizes, counts, code pages, status codes). Strict on purpose: a size that is
// negative, hexadecimal, fractional or beyond what a double holds exactly would make the byte counting of a
// resumable download lie, so it is refused rather than rounded.
import { ProtocolError, quote } from './errors.js';

const DECIMAL = /^\+?[0-9]+$/;

/** A non-negative decimal integer no larger than 2^53 − 1 (surrounding whitespace allowed). */
export function parseDecimal(text: string, max: number = Number.MAX_SAFE_INTEGER): number {
  const t = text.trim();
  if (!DECIMAL.test(t)) {
    throw new ProtocolError('number', '', `${quote(text)} is not a non-negative decimal number`);
  }
  const digits = t.replace(/^\+?0*(?=\d)/, '');
  const value = Number(digits);
  if (digits.length > 16 || !Number.isSafeInteger(value) || value > max) {
    const limit = max === Number.MAX_SAFE_INTEGER ? '2^53 − 1' : String(max);
    throw new ProtocolError('number', '', `${quote(text)} is larger than ${limit}`);
  }
  return value;
}

export const MAX_UINT32 = 0xffffffff;

/** A 32-bit unsigned value such as a code page, a locale ID or a status code. */
export function parseUint32(text: string): number {
  return parseDecimal(text, MAX_UINT32);
}

/** Checks a number before it is written, so a builder never emits `NaN`, `-1` or `1.5` as a count. */
export function formatDecimal(value: number, document: string, path: string, max: number = Number.MAX_SAFE_INTEGER): string {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new ProtocolError(document, path, `${String(value)} is not a whole number between 0 and ${max}`);
  }
  return String(value);
}
