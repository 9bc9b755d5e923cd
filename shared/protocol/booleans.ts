// Yes/No values. The spec writes `Yes`/`No` for Required and SourceFiles, the seed sample writes `true` and
// `YES`, and real poll responses write `true`/`false` (once `True`): receivers accept all of them (spec A5).
import { ProtocolError, quote } from './errors.js';

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

export function parseBooleanText(text: string, document: string, path: string): boolean {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new ProtocolError(document, path, `${quote(text)} is not a yes/no value (use true/false, yes/no or 1/0)`);
}

/** The same as a value parser for El.read: context is added by the caller. */
export function parseBoolean(text: string): boolean {
  return parseBooleanText(text, 'boolean', '');
}

/** Settings booleans are written `true`/`false` (spec A5). */
export function formatBoolean(value: boolean): string {
  return value ? 'true' : 'false';
}

/** Required and SourceFiles follow the seed sample: `true`/`false` and `YES`/`NO` respectively. */
export function formatYesNo(value: boolean): string {
  return value ? 'YES' : 'NO';
}
