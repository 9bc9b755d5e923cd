// How a running station reports to a person: on a terminal, a progress bar per active transfer on the
// bottom line; otherwise (CI, a log file, a service manager) plain timestamped log lines.
import type { EngineEvent } from '../../shared/model/events.js';
import { formatBytes } from '../../shared/model/units.js';

export function progressBar(done: number, total: number | null, width = 24): string {
  if (!total) return `[${'?'.repeat(width)}] ${formatBytes(done)}`;
  const frac = Math.min(1, done / total);
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}% ${formatBytes(done)}/${formatBytes(total)}`;
}

export function createReporter(out: NodeJS.WriteStream, isTty = Boolean(out.isTTY)): (e: EngineEvent) => void {
  const lastDraw = new Map<string, number>();
  const lastLogged = new Map<string, number>();
  let barShown = false;
  const clearBar = () => {
    if (barShown) out.write('\r\x1b[2K');
    barShown = false;
  };
  return (e) => {
    const stamp = new Date().toISOString().replace('T', ' ').slice(0, 19);
    switch (e.type) {
      case 'log':
        clearBar();
        out.write(`${stamp} ${e.level.padEnd(5)} ${e.message}\n`);
        return;
      case 'progress': {
        const now = Date.now();
        const key = `${e.targetId}/${e.packageId}`;
        if (isTty) {
          if (now - (lastDraw.get(key) ?? 0) < 100) return;
          lastDraw.set(key, now);
          out.write(`\r\x1b[2K${e.name.slice(0, 30)} ${progressBar(e.bytesDone, e.total)}${e.resumedFrom ? ` (resumed at ${formatBytes(e.resumedFrom)})` : ''}`);
          barShown = true;
        } else if (now - (lastLogged.get(key) ?? 0) >= 5000) {
          lastLogged.set(key, now);
          out.write(`${stamp} info  ${e.name}: ${formatBytes(e.bytesDone)}${e.total ? ` of ${formatBytes(e.total)}` : ''}\n`);
        }
        return;
      }
      case 'transfer-end':
        clearBar();
        return;
      case 'changed':
        return;
    }
  };
}
