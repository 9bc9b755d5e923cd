// How a running station reports to a person: on a terminal, a progress bar for the transfer moving now on
// the bottom line, with its rate and time left; otherwise (CI, a log file, a service manager) plain
// timestamped log lines, and a progress line per transfer every few seconds.
import type { EngineEvent } from '../../shared/model/events.js';
import { formatBytes } from '../../shared/model/units.js';
import { clockDelay } from '../../shared/model/verdict-words.js';

export function progressBar(done: number, total: number | null, width = 24): string {
  if (!total) return `[${'?'.repeat(width)}] ${formatBytes(done)}`;
  const frac = Math.min(1, done / total);
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}% ${formatBytes(done)}/${formatBytes(total)}`;
}

/** Rate over windows of at least a second (progress comes in bursts), smoothed. */
class Rate {
  private at: number;
  private bytes: number;
  perSecond = 0;
  constructor(now: number, bytes: number) {
    this.at = now;
    this.bytes = bytes;
  }
  update(now: number, bytes: number): void {
    const elapsed = now - this.at;
    if (elapsed < 1000 && this.perSecond > 0) return;
    if (elapsed < 250) return;
    const r = Math.max(0, (bytes - this.bytes) / (elapsed / 1000));
    this.perSecond = this.perSecond ? this.perSecond * 0.5 + r * 0.5 : r;
    this.at = now;
    this.bytes = bytes;
  }
}

/** "512 KiB/s, 0:04 left"; '' before the first estimate. */
export function rateWords(bytesPerSecond: number, remaining: number | null): string {
  if (bytesPerSecond <= 0) return '';
  const eta = remaining !== null ? `, ${clockDelay((remaining / bytesPerSecond) * 1000)} left` : '';
  return `${formatBytes(Math.round(bytesPerSecond))}/s${eta}`;
}

/**
 * `label(targetId)` names the device a line is about ("scanner-44: "), '' for the station itself, so a
 * bench of devices does not print a dozen "sent status 11031" lines nobody can tell apart.
 */
export function createReporter(out: NodeJS.WriteStream, isTty = Boolean(out.isTTY), now = () => Date.now(),
  label: (targetId: string) => string = () => ''): (e: EngineEvent) => void {
  const lastDraw = new Map<string, number>();
  const lastLogged = new Map<string, number>();
  const rates = new Map<string, Rate>();
  let barShown = false;
  const clearBar = () => {
    if (barShown) out.write('\r\x1b[2K');
    barShown = false;
  };
  return (e) => {
    const stamp = new Date(now()).toISOString().replace('T', ' ').slice(0, 19);
    switch (e.type) {
      case 'log':
        clearBar();
        out.write(`${stamp} ${e.level.padEnd(5)} ${label(e.targetId)}${e.message}\n`);
        return;
      case 'progress': {
        const t = now();
        const key = `${e.targetId}/${e.leg}/${e.packageId}`;
        let rate = rates.get(key);
        if (!rate) rates.set(key, (rate = new Rate(t, e.bytesDone)));
        rate.update(t, e.bytesDone);
        const speed = rateWords(rate.perSecond, e.total !== null ? e.total - e.bytesDone : null);
        if (isTty) {
          if (t - (lastDraw.get(key) ?? 0) < 100) return;
          lastDraw.set(key, t);
          out.write(`\r\x1b[2K${e.name.slice(0, 30)} ${progressBar(e.bytesDone, e.total)}${speed ? ` ${speed}` : ''}` +
            `${e.resumedFrom ? ` (resumed at ${formatBytes(e.resumedFrom)})` : ''}`);
          barShown = true;
        } else if (t - (lastLogged.get(key) ?? 0) >= 5000) {
          lastLogged.set(key, t);
          out.write(`${stamp} info  ${e.name}: ${formatBytes(e.bytesDone)}${e.total ? ` of ${formatBytes(e.total)}` : ''}${speed ? `, ${speed}` : ''}\n`);
        }
        return;
      }
      case 'transfer-end':
        rates.delete(`${e.targetId}/${e.leg}/${e.packageId}`);
        clearBar();
        return;
      case 'changed':
        return;
    }
  };
}
