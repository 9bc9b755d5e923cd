// Schedule arithmetic for download events (spec §7, §15). Pure functions of their inputs. Retries are rows of
// the transition table (transitions.ts); delays are worded with every wait, in shared/model/wait.ts.

/**
 * The first occurrence of a recurring event strictly after `now`, on the grid start + k·interval. Using the
 * grid rather than "last run + interval" keeps a daily 02:00 package at 02:00 even after a late run.
 */
export function nextOccurrence(startAt: number, intervalMs: number, now: number): number {
  if (!(intervalMs > 0)) throw new RangeError('a recurrence interval must be positive');
  if (startAt > now) return startAt;
  const k = Math.floor((now - startAt) / intervalMs) + 1;
  return startAt + k * intervalMs;
}

/** "scheduled 23 Nov 02:00" in the host's local time. */
export function describeWhen(at: number): string {
  const d = new Date(at);
  const month = d.toLocaleString('en-GB', { month: 'short' });
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  return `${d.getDate()} ${month} ${d.getFullYear() !== new Date().getFullYear() ? `${d.getFullYear()} ` : ''}${hh}:${mm}`;
}

