// Activity: what the station did and said — status messages sent, problems with the next step a
// technician can take — newest first, filterable by level, and exportable as CSV built in the page.
import { useState } from 'react';
import type { Activity, Snapshot } from '../../../shared/contract/station-api.js';
import { activityCsv } from '../csv.js';
import { downloadText } from '../download.js';
import { formatFullTime } from '../format.js';
import { packageNamer, targetNamer } from '../state/names.js';

const LEVELS: Array<{ level: Activity['level']; label: string }> = [
  { level: 'info', label: 'Information' },
  { level: 'warn', label: 'Warnings' },
  { level: 'error', label: 'Errors' },
];

const SHOWN = 300;

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`;
}

export function ActivityView({ snapshot }: { snapshot: Snapshot }) {
  const [levels, setLevels] = useState<Set<Activity['level']>>(() => new Set(['info', 'warn', 'error']));
  const target = targetNamer(snapshot);
  const pkg = packageNamer(snapshot);
  const entries = snapshot.activity.filter((e) => levels.has(e.level));
  const newestFirst = entries.slice(-SHOWN).reverse();
  const toggle = (level: Activity['level'], on: boolean) => {
    const next = new Set(levels);
    if (on) next.add(level);
    else next.delete(level);
    setLevels(next);
  };
  return (
    <>
      <div className="toolbar">
        <fieldset className="levels">
          <legend>Show</legend>
          {LEVELS.map(({ level, label }) => (
            <label key={level} className="check">
              <input type="checkbox" checked={levels.has(level)} onChange={(e) => toggle(level, e.target.checked)} /> {label}
            </label>
          ))}
        </fieldset>
        <span className="count" aria-live="polite">{entries.length} entr{entries.length === 1 ? 'y' : 'ies'}</span>
        <button
          type="button"
          className="btn"
          disabled={entries.length === 0}
          onClick={() => downloadText(`dockhand-activity-${stamp(new Date())}.csv`, activityCsv(entries, target), 'text/csv;charset=utf-8')}
        >
          Export CSV
        </button>
      </div>
      {newestFirst.length === 0 ? <p className="empty">Nothing to show at these levels yet.</p> : (
        <table className="grid activity">
          <caption className="visually-hidden">Activity, newest first{entries.length > SHOWN ? ` (latest ${SHOWN} of ${entries.length}; the export has all)` : ''}</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Level</th>
              <th scope="col">Target</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {newestFirst.map((e) => (
              <tr key={`${e.target}|${e.seq}`} className={`level-${e.level}`}>
                <td className="nowrap">{formatFullTime(e.at)}</td>
                <td><span className={`pill level-${e.level}`}>{e.level === 'warn' ? 'warning' : e.level}</span></td>
                <td>{target(e.target)}</td>
                <td className="wrap">
                  {e.packageId && !e.message.includes(pkg(e.packageId)) && !e.message.includes(e.packageId) ? <span className="sub-inline">{pkg(e.packageId)}: </span> : null}
                  {e.message}
                  {e.nextStep ? <span className="next-step"><strong>Next step:</strong> {e.nextStep}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
