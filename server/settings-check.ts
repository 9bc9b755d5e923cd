// Validation of a settings change before it is stored: whatever is stored goes out in every poll
// response, so a bad value would reach every device.
import type { FileFilterItem } from '../shared/protocol/types.js';
import { InputError, hasControlChars, printable } from './input-error.js';
import { isSaneHost } from './http-io.js';
import type { SettingsChange } from './settings.js';

function checkInterval(label: string, ms: number | undefined): void {
  if (ms === undefined) return;
  if (!Number.isSafeInteger(ms) || ms < 1000) throw new InputError(`${label} must be at least one second`);
}

function checkFilters(label: string, filters: FileFilterItem[] | undefined): void {
  for (const f of filters ?? []) {
    for (const [what, text] of [['filter', f.Filter], ['path', f.Path]] as const) {
      if (text.trim() === '' || text.length > 259 || hasControlChars(text)) {
        throw new InputError(`${label} ${what} '${printable(text)}' must be a non-empty line of at most 259 characters`);
      }
    }
  }
}

export function checkSettingsChange(c: SettingsChange): void {
  checkInterval('the poll interval', c.pollIntervalMs);
  checkInterval('the retry interval', c.retryIntervalMs);
  checkInterval('the report interval', c.reportIntervalMs);
  if (c.retryCount !== undefined && (!Number.isInteger(c.retryCount) || c.retryCount < 0 || c.retryCount > 1000)) {
    throw new InputError('the retry count must be a whole number from 0 to 1000');
  }
  // PollServer is a host name, optionally host:port; the client puts it into its URL format (spec §2.1)
  if (c.pollServer !== undefined && !isSaneHost(c.pollServer)) {
    throw new InputError(`poll server '${printable(c.pollServer)}' is not a host name or host:port`);
  }
  checkFilters('software inventory', c.softwareInventory?.filters);
  checkFilters('file collection', c.fileCollection?.filters);
}
