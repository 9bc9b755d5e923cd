// Bad administrator input (a wrong option value, an unknown package ID) is an expected failure: the
// CLI turns it into one line and exit code 2, and in-process callers can tell it from a bug.
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Package IDs are GUIDs (spec §3.4): upper-case hex, hyphenated, no braces. Braces and case are forgiven. */
export function normalizePackageId(text: string): string {
  const bare = text.trim().replace(/^\{(.*)\}$/, '$1');
  if (!/^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/.test(bare)) {
    throw new InputError(`package ID '${text}' is not a GUID like 9A437CA5-5B17-4486-9E87-260742074A72`);
  }
  return bare.toUpperCase();
}

/** Device IDs are opaque strings (spec §2.3) but they land in SQL rows and log lines: keep them printable. */
export function checkDeviceId(text: string): string {
  if (text.length === 0 || text.length > 256 || hasControlChars(text)) {
    throw new InputError(`device ID '${printable(text)}' is empty, too long or has control characters`);
  }
  return text;
}

export function hasControlChars(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** For echoing hostile input back in a message: control characters become '?'. */
export function printable(text: string, max = 120): string {
  let out = '';
  for (const ch of text.slice(0, max)) out += hasControlChars(ch) ? '?' : ch;
  return text.length > max ? `${out}…` : out;
}

export function parseYesNo(option: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['yes', 'true', '1', 'on'].includes(t)) return true;
  if (['no', 'false', '0', 'off'].includes(t)) return false;
  throw new InputError(`${option} must be yes or no, not '${text}'`);
}

export function parseCount(option: string, text: string): number {
  if (!/^\d{1,9}$/.test(text.trim())) throw new InputError(`${option} must be a whole number, not '${text}'`);
  return Number(text.trim());
}
