// Transfers: downloads into the station's cache and pushes to docked devices, with where each resumed
// after a cut (the checkpoint), speed and time left; a technician can pause and resume them.
import type { Snapshot, Transfer } from '../../../shared/contract/station-api.js';
import { packageNamer, targetNamer } from '../state/names.js';
import { shownState } from '../state/transfer-state.js';
import { CommandButton } from '../ui/actions.js';
import { TransferProgress } from '../ui/TransferProgress.js';

const STATE_WORDS: Record<Transfer['state'], string> = { active: 'Active', paused: 'Paused', waiting: 'Waiting', done: 'Done' };

export function TransfersView({ snapshot }: { snapshot: Snapshot }) {
  const target = targetNamer(snapshot);
  const pkg = packageNamer(snapshot);
  const order = { active: 0, paused: 1, waiting: 2, done: 3 };
  const transfers = snapshot.transfers.map((t) => ({ ...t, state: shownState(t) })).sort((a, b) => order[a.state] - order[b.state]);
  // A kept push checkpoint of a device that left waits for that device, not for the station.
  const undocked = (target: string) => snapshot.devices.some((d) => d.id === target && d.state === 'undocked');
  if (transfers.length === 0) return <p className="empty">No transfers now. Downloads and pushes show here while they run, and afterwards while a checkpoint is kept.</p>;
  return (
    <ul className="transfers" aria-label="Transfers">
      {transfers.map((t) => {
        const name = t.packageName ?? pkg(t.package);
        const where = t.leg === 'push' ? `to ${target(t.target)}` : `into the cache for ${target(t.target)}`;
        const headingId = `xfer-${t.id}`;
        return (
          <li key={t.id} className={`card transfer ${t.state}`} aria-labelledby={headingId}>
            <div className="transfer-head">
              <h2 id={headingId}>
                {name} <span className="sub-inline">{t.leg === 'push' ? 'push' : 'download'} {where}</span>
              </h2>
              <span className={`pill xstate-${t.state}`}>{t.state === 'waiting' && undocked(t.target) ? 'Waiting for dock' : STATE_WORDS[t.state]}</span>
              <div className="row-actions">
                {t.state === 'active' || t.state === 'waiting' ? (
                  <CommandButton command={{ type: 'pauseTransfer', target: t.target, packageId: t.package }} label={`Pause ${t.leg} of ${name} ${where}`}>
                    Pause
                  </CommandButton>
                ) : null}
                {t.state === 'paused' ? (
                  <CommandButton command={{ type: 'resumeTransfer', target: t.target, packageId: t.package }} label={`Resume ${t.leg} of ${name} ${where}`} className="btn primary">
                    Resume
                  </CommandButton>
                ) : null}
              </div>
            </div>
            <TransferProgress transfer={t} name={`${name} ${where}`} />
          </li>
        );
      })}
    </ul>
  );
}
