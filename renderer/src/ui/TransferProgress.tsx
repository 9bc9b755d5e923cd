// One transfer's progress: a native <progress> bar (its value is exposed to assistive technology), a
// marker where the transfer resumed after a cut, and the numbers in words. The marker's position is the
// only style set from script (through the CSSOM, which a strict style-src CSP allows).
import type { Transfer } from '../../../shared/contract/station-api.js';
import { formatBytes, formatDuration, formatRate, percent } from '../format.js';

/** The coarse step a screen reader hears (every quarter), so it is not flooded with every update. */
function milestone(t: Transfer, name: string): string {
  if (t.state === 'done') return `${name}: transfer complete`;
  if (t.state === 'paused') return `${name}: paused at ${formatBytes(t.bytesDone)}`;
  const p = percent(t.bytesDone, t.total);
  const resumed = t.resumePoint > 0 ? `, resumed at ${formatBytes(t.resumePoint)}` : '';
  if (t.state === 'waiting') return `${name}: waiting${t.resumePoint > 0 ? `, resumes at ${formatBytes(t.resumePoint)}` : ''}`;
  return p === null ? `${name}: transferring${resumed}` : `${name}: ${Math.floor(p / 25) * 25}%${resumed}`;
}

export function TransferProgress({ transfer: t, name, compact = false }: { transfer: Transfer; name: string; compact?: boolean }) {
  const p = percent(t.bytesDone, t.total);
  const resumeAt = t.resumePoint > 0 ? percent(t.resumePoint, t.total) : null;
  const legWords = t.leg === 'push' ? 'to the device' : 'into the station cache';
  return (
    <div className={compact ? 'xfer compact' : 'xfer'}>
      <div className="bar">
        <progress
          max={t.total ?? undefined}
          value={t.total ? Math.min(t.bytesDone, t.total) : undefined}
          aria-label={`${name} ${legWords}`}
          aria-valuetext={p === null ? `${formatBytes(t.bytesDone)} so far` : `${p.toFixed(0)}%, ${formatBytes(t.bytesDone)} of ${formatBytes(t.total ?? 0)}`}
        />
        {resumeAt !== null ? (
          <span className="resume-marker" style={{ left: `${resumeAt}%` }} title={`${t.state === 'active' ? 'resumed' : 'resumes'} at ${formatBytes(t.resumePoint)}`} aria-hidden="true" />
        ) : null}
      </div>
      <p className="xfer-numbers">
        <span className="bytes">
          {formatBytes(t.bytesDone)} of {t.total === null ? 'unknown size' : formatBytes(t.total)}
          {p === null ? '' : ` (${p.toFixed(p < 10 ? 1 : 0)}%)`}
        </span>
        {t.resumePoint > 0 ? <span className="resumed">{t.state === 'active' ? 'resumed' : 'resumes'} at {formatBytes(t.resumePoint)}</span> : null}
        {!compact || t.state === 'active' ? (
          <>
            <span className="speed">{formatRate(t.bytesPerSecond)}</span>
            <span className="eta">ETA {formatDuration(t.etaSeconds)}</span>
          </>
        ) : null}
      </p>
      <span className="visually-hidden" aria-live="polite">{milestone(t, name)}</span>
    </div>
  );
}
