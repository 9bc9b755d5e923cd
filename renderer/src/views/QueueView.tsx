// Queue: every task of every target — what it is, for whom, what it waits for (in the engine's own words)
// — with the actions a technician may take: accept an optional package, retry now, cancel. A download whose
// command failed shows as failed, in red with the reason, never as done (taskOutcome).
import { useState } from 'react';
import type { Snapshot, Task } from '../../../shared/contract/station-api.js';
import { taskOutcome } from '../../../shared/model/verdict.js';
import { formatWhen } from '../format.js';
import { CommandButton } from '../ui/actions.js';

const KIND_WORDS: Record<Task['kind'], string> = {
  poll: 'Poll',
  instruction: 'Instructions',
  download: 'Download',
  'software-inventory': 'Software inventory',
  'machine-inventory': 'Machine inventory',
  'file-collection': 'File collection',
};

const STATE_ORDER: Record<Task['state'], number> = { running: 0, failed: 1, queued: 2, done: 3 };

/** An optional package whose download waits for a technician's yes. */
export const awaitsAcceptance = (t: Task) => t.optional && t.state === 'queued' && t.wait.kind === 'acceptance';

function sortTasks(tasks: Task[]): Task[] {
  return [...tasks].sort((a, b) => STATE_ORDER[taskOutcome(a)] - STATE_ORDER[taskOutcome(b)] || a.nextRun.localeCompare(b.nextRun));
}

function TaskActions({ t, pkg }: { t: Task; pkg: string }) {
  const whose = `${pkg} for ${t.targetName}`;
  const kind = KIND_WORDS[t.kind].toLowerCase();
  return (
    <div className="row-actions">
      {awaitsAcceptance(t) ? (
        <CommandButton command={{ type: 'acceptPackage', target: t.target, packageId: t.package }} label={`Accept ${whose}`} className="btn primary">
          Accept
        </CommandButton>
      ) : null}
      {t.state === 'queued' ? (
        <CommandButton command={{ type: 'retryNow', target: t.target, taskId: t.id }} label={`Retry ${kind} of ${whose} now`}>
          Retry now
        </CommandButton>
      ) : null}
      {t.kind !== 'poll' && (t.state === 'queued' || t.state === 'running') ? (
        <CommandButton command={{ type: 'cancelTask', target: t.target, taskId: t.id }} label={`Cancel ${kind} of ${whose}`} className="btn danger">
          Cancel
        </CommandButton>
      ) : null}
    </div>
  );
}

export function QueueView({ snapshot }: { snapshot: Snapshot }) {
  const [target, setTarget] = useState('');
  const [showDone, setShowDone] = useState(true);
  const targets = [...new Map(snapshot.tasks.map((t) => [t.target, t.targetName])).entries()];
  const tasks = sortTasks(snapshot.tasks.filter((t) => (!target || t.target === target) && (showDone || taskOutcome(t) !== 'done')));
  return (
    <>
      <div className="toolbar">
        <label>
          Target{' '}
          <select value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">All targets</option>
            {targets.map(([id, name]) => <option key={id} value={id}>{name}</option>)}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={showDone} onChange={(e) => setShowDone(e.target.checked)} /> Show finished tasks
        </label>
        <span className="count" aria-live="polite">{tasks.length} task{tasks.length === 1 ? '' : 's'}</span>
      </div>
      {tasks.length === 0 ? <p className="empty">No tasks. The station adds them when it polls its server.</p> : (
        <table className="grid queue">
          <caption className="visually-hidden">Tasks of every target</caption>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Target</th>
              <th scope="col">Package</th>
              <th scope="col">State</th>
              <th scope="col">Next run</th>
              <th scope="col">Waiting for</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => {
              const pkg = t.packageName ?? (t.package || '—');
              const outcome = taskOutcome(t);
              return (
                <tr key={`${t.target}|${t.id}`} data-task={t.id} className={`task-${outcome}`}>
                  <td>{KIND_WORDS[t.kind]}{t.optional ? <><br /><span className="tag">optional</span></> : null}</td>
                  <td>{t.targetName}</td>
                  <td className="wrap">{pkg}</td>
                  <td><span className={`pill state-${outcome}`}>{outcome}</span></td>
                  <td className="nowrap">{t.state === 'queued' ? formatWhen(t.nextRun) : '—'}</td>
                  <td className="wrap waiting">
                    {t.waitingFor || (t.state === 'queued' ? 'due now' : '')}
                    {t.attempts > 0 ? <span className="sub">attempt {t.attempts}</span> : null}
                    {t.lastError ? <span className="sub error-text">{outcome === 'failed' ? <strong>Failed: </strong> : null}{t.lastError}</span> : null}
                  </td>
                  <td><TaskActions t={t} pkg={pkg} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
