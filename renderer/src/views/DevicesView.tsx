// Devices: a card per device the station knows — docked ones first — with its identity, where it is
// attached, what it is installing (with the push progress) and how the last package went.
import type { Snapshot } from '../../../shared/contract/station-api.js';
import { formatWhen } from '../format.js';
import { packageNamer } from '../state/names.js';
import { shownState } from '../state/transfer-state.js';
import { CommandButton } from '../ui/actions.js';
import { TransferProgress } from '../ui/TransferProgress.js';

export function DevicesView({ snapshot }: { snapshot: Snapshot }) {
  const pkgName = packageNamer(snapshot);
  const devices = [...snapshot.devices].sort((a, b) => (a.state === b.state ? a.name.localeCompare(b.name) : a.state === 'docked' ? -1 : 1));
  if (devices.length === 0) {
    return (
      <p className="empty">
        No device has docked yet. Attach one to a watched serial port or USB filter (see Settings); its card appears here as soon as
        its agent answers.
      </p>
    );
  }
  return (
    <ul className="cards" aria-label="Devices">
      {devices.map((d) => {
        const pushes = snapshot.transfers.filter((t) => t.leg === 'push' && t.target === d.id && shownState(t) !== 'done');
        const headingId = `device-${d.id}`;
        return (
          <li key={d.id} className={`card device ${d.state}`}>
            <article aria-labelledby={headingId}>
              <header className="card-head">
                <h2 id={headingId}>{d.name}</h2>
                <span className={`pill ${d.state === 'docked' ? 'good' : 'muted'}`}>{d.state === 'docked' ? 'Docked' : 'Undocked'}</span>
              </header>
              <dl className="facts">
                <dt>ID</dt>
                <dd><code>{d.id}</code></dd>
                <dt>Port</dt>
                <dd>{d.port || '—'}</dd>
                <dt>Installing</dt>
                <dd>{d.currentPackage ? pkgName(d.currentPackage) : 'nothing now'}</dd>
                <dt>Last result</dt>
                <dd>{d.lastResult || '—'}</dd>
                <dt>{d.state === 'docked' ? 'Docked since' : 'Last docked'}</dt>
                <dd>{formatWhen(d.lastDockedAt) || 'never'}</dd>
                {d.state === 'undocked' && d.undockReason ? (
                  <>
                    <dt>Undocked because</dt>
                    <dd>{d.undockReason}</dd>
                  </>
                ) : null}
              </dl>
              {pushes.map((t) => (
                <TransferProgress key={t.id} transfer={t} name={`${t.packageName ?? pkgName(t.package)} to ${d.name}`} compact />
              ))}
              {d.state === 'undocked' ? (
                <div className="card-actions">
                  <CommandButton command={{ type: 'forgetDevice', id: d.id }} label={`Forget device ${d.name}`} className="btn quiet">
                    Forget device
                  </CommandButton>
                </div>
              ) : null}
            </article>
          </li>
        );
      })}
    </ul>
  );
}
