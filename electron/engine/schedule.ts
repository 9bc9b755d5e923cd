// Schedule arithmetic for download events and retries (spec §7, §15). Pure functions of their inputs.

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

/** Words for a delay in a status line: "in 45 s", "in 3 min", "in 2 h 5 min", "in 3 days". */
export function describeDelay(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.round(h / 24)} days`;
}

/** "scheduled 23 Nov 02:00" in the host's local time. */
export function describeWhen(at: number): string {
  const d = new Date(at);
  const month = d.toLocaleString('en-GB', { month: 'short' });
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  return `${d.getDate()} ${month} ${d.getFullYear() !== new Date().getFullYear() ? `${d.getFullYear()} ` : ''}${hh}:${mm}`;
}

export interface RetryPolicy {
  retryCount: number;
  retryIntervalMs: number;
}

/**
 * After a failed attempt (not a network outage: those wait without spending attempts), either try again
 * after the retry interval or give up once `retryCount` retries are spent (spec §15.2).
 */
export function afterFailure(attempts: number, policy: RetryPolicy, now: number): { giveUp: boolean; nextRun: number } {
  return attempts > policy.retryCount
    ? { giveUp: true, nextRun: now }
    : { giveUp: false, nextRun: now + policy.retryIntervalMs };
}
