// Why a queued task is not running now — as data, not as a sentence. The engine records one of these on
// every task it cannot run; the store keeps it as JSON, the station API carries it, and the words a
// technician reads are made from it in exactly one place (`describeWait`). Nothing matches on the words.
//
// Kinds:
//   none        — nothing holds the task back (due now, or running)
//   dock        — the device is not docked (any of its work), or the package is cradled-only and the
//                 target is not cradled
//   connection  — the package's Flags allow none of the connections the target has now
//   schedule    — StartTime, the next recurrence or the next poll is in the future
//   acceptance  — an optional (Required = No) package waits for a technician to accept it
//   server      — the management server cannot be reached; the task tries again at `until`
//                 (`detail` may say more, e.g. what is missing from the field kit)
//   technician  — paused by a technician, or stopped with the station; resumes on request or at start
//   retry       — an attempt failed for a reason that spends a retry; the next attempt is at `until`
//   storage     — the disk that holds the package cache has no room for the download (`detail`: the
//                 words that say how much is needed and free); it spends no retry and tries again at
//                 `until`, or at once when the station sees room come back
export type TaskWait =
  | { kind: 'none' }
  | { kind: 'dock'; cradledOnly?: boolean }
  | { kind: 'connection'; flags: number }
  | { kind: 'schedule'; until: number }
  | { kind: 'acceptance' }
  | { kind: 'server'; until: number; detail?: string }
  | { kind: 'technician'; reason: 'paused' | 'stopped' }
  | { kind: 'retry'; until: number; attempt: number; of: number; reason: string }
  | { kind: 'storage'; until: number; detail: string };

export type TaskWaitKind = TaskWait['kind'];

export const NO_WAIT: TaskWait = { kind: 'none' };

/**
 * Waits that only an outside event can lift: a dock or undock, a change of connection, a technician's
 * accept or resume. The scheduler does not look at a task held by one of these on its ticks; the event
 * releases it (electron/engine/session.ts `release`). The others end by themselves at `until`.
 */
export const HELD_WAIT_KINDS = ['dock', 'connection', 'acceptance', 'technician'] as const satisfies readonly TaskWaitKind[];

export function isHeld(wait: TaskWait): boolean {
  return (HELD_WAIT_KINDS as readonly TaskWaitKind[]).includes(wait.kind);
}

/** Words for a delay: "45 s", "3 min", "2 h 5 min", "3 days". */
export function describeDelay(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.round(h / 24)} days`;
}

const FLAG_WORDS: Array<[number, string]> = [[0x01, 'low bandwidth'], [0x02, 'high bandwidth'], [0x04, 'cradled']];

function flagWords(flags: number): string {
  const words = FLAG_WORDS.filter(([bit]) => (flags & bit) !== 0).map(([, w]) => w);
  return words.length ? words.join(' or ') : 'any connection';
}

/** The one sentence a technician reads for a wait; '' when nothing holds the task back. */
export function describeWait(wait: TaskWait, now: number): string {
  switch (wait.kind) {
    case 'none':
      return '';
    case 'dock':
      return wait.cradledOnly ? 'waiting for dock (cradled-only package)' : 'waiting for dock';
    case 'connection':
      return `waiting for a permitted connection (${flagWords(wait.flags)})`;
    case 'schedule':
      return wait.until > now ? `scheduled in ${describeDelay(wait.until - now)}` : 'due now';
    case 'acceptance':
      return 'waiting for acceptance (optional package)';
    case 'server':
      return `the server cannot be reached${wait.detail ? ` (${wait.detail})` : ''}; retrying in ${describeDelay(wait.until - now)}`;
    case 'technician':
      return wait.reason === 'paused' ? 'paused by a technician' : 'stopped; resumes at next start';
    case 'retry':
      return `failed, retrying in ${describeDelay(wait.until - now)} (retry ${wait.attempt} of ${wait.of}): ${wait.reason}`;
    case 'storage':
      return `waiting for disk space: ${wait.detail}; retrying in ${describeDelay(wait.until - now)}`;
  }
}
