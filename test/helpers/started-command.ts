// The long-running test commands write `$!` to `child`, then `$$` to `pid`, and wait. A file exists (empty)
// before its line is in it, and `child` comes first, so a test reads both only once each holds a whole line.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from './tmp.js';

/** A number written on a line of its own into `file`; null until the whole line is there. */
function writtenNumber(file: string): number | null {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  return text.endsWith('\n') ? Number(text.trim()) : null;
}

/** Waits until the command in `folder` has written both its pid and its child's; returns them. */
export async function commandStarted(folder: string, timeoutMs = 60_000): Promise<{ pid: number; child: number }> {
  return waitFor('the command to write its pid and its child\'s', () => {
    const pid = writtenNumber(path.join(folder, 'pid'));
    const child = writtenNumber(path.join(folder, 'child'));
    return pid !== null && child !== null ? { pid, child } : null;
  }, timeoutMs);
}
