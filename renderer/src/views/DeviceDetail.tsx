// One device in full, in a modal dialog (Escape closes it, focus returns to its tile): the verdict with the
// next step, the slot's name (renamable: the name belongs to the port, so the next device there keeps it),
// every package with its result, exit code and SHA-256, the device's transfers and its activity.
import { useEffect, useRef, useState } from 'react';
import type { Device, Snapshot } from '../../../shared/contract/station-api.js';
import { formatFullTime, formatWhen, shortHash } from '../format.js';
import { placeOf } from '../state/board.js';
import { shownState } from '../state/transfer-state.js';
import { CommandButton, useActions } from '../ui/actions.js';
import { RecordExport } from '../ui/RecordExport.js';
import { TransferProgress } from '../ui/TransferProgress.js';
import { VerdictIcon } from '../ui/VerdictIcon.js';
import { provisionedOfflineWords } from '../../../shared/model/field-kit.js';

const RESULT_KIND = { installed: 'done', failed: 'failed', working: 'working', waiting: 'waiting', pending: 'waiting' } as const;
const RESULT_WORDS = { installed: 'Installed', failed: 'Failed', working: 'Working', waiting: 'Waiting', pending: 'Not started' } as const;

function SlotName({ device }: { device: Device }) {
  const { run } = useActions();
  const [label, setLabel] = useState(device.slot);
  useEffect(() => setLabel(device.slot), [device.slot]);
  if (!device.port) return null;
  return (
    <form
      className="slot-form"
      onSubmit={(e) => {
        e.preventDefault();
        void run({ type: 'renameSlot', port: device.port, label }, 'Slot name');
      }}
    >
      <label htmlFor="slot-label">Slot name</label>
      <input id="slot-label" value={label} maxLength={40} placeholder="e.g. Slot 3" onChange={(e) => setLabel(e.target.value)} />
      <button type="submit" className="btn" disabled={label.trim() === device.slot}>Save</button>
      <span className="hint">for <code>{device.port}</code>, whichever device docks there</span>
    </form>
  );
}

/**
 * The field kit on a device's card: "provisioned offline, N messages waiting for the server", and — while
 * it may still change anything — the profile it is provisioned from, which a technician can pick.
 */
function KitProfile({ device: d, snapshot }: { device: Device; snapshot: Snapshot }) {
  const { run } = useActions();
  const profiles = snapshot.station.fieldKit.profiles;
  const current = profiles.find((p) => p.name === d.kitProfile) ?? profiles.find((p) => p.isDefault);
  const [chosen, setChosen] = useState(current?.deviceId ?? '');
  useEffect(() => setChosen(current?.deviceId ?? ''), [current?.deviceId]);
  // A profile is picked before the first package starts (the station refuses it after): once one has, the
  // picker would only offer an error.
  const started = d.packages.some((p) => p.startedAt !== null || (p.result !== 'pending' && p.result !== 'waiting'));
  const mayPick = profiles.length > 1 && !started;
  if (!d.provisionedOffline && !mayPick) return null;
  return (
    <section aria-label="Field kit">
      <h3>Field kit</h3>
      {d.provisionedOffline ? (
        <p>{d.kitProfile ? `From profile ${d.kitProfile}: ` : ''}{provisionedOfflineWords(d.messagesWaiting)}.</p>
      ) : <p className="hint">Provisioned from the field kit if the server cannot be reached when it docks.</p>}
      {mayPick ? (
        <form className="kit-form" onSubmit={(e) => {
          e.preventDefault();
          void run({ type: 'useKitProfile', target: d.id, profile: chosen }, 'Field-kit profile');
        }}>
          <label htmlFor="kit-profile">Profile</label>
          <select id="kit-profile" value={chosen} onChange={(e) => setChosen(e.target.value)}>
            {profiles.map((p) => <option key={p.deviceId} value={p.deviceId}>{p.name}{p.isDefault ? ' (default)' : ''}</option>)}
          </select>
          <button type="submit" className="btn" disabled={!chosen || (chosen === current?.deviceId && d.kitProfile !== '')}>Provision from this profile</button>
          <span className="hint">before its first package starts</span>
        </form>
      ) : null}
    </section>
  );
}

export function DeviceDetail({ device: d, snapshot, onClose }: { device: Device; snapshot: Snapshot; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  const v = d.verdict;
  const transfers = snapshot.transfers.filter((t) => t.target === d.id && shownState(t) !== 'done');
  const activity = snapshot.activity.filter((a) => a.target === d.id).slice(-40).reverse();
  return (
    <dialog ref={ref} className="detail" aria-labelledby="detail-title" onClose={onClose} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <header className="detail-head">
        <div>
          <h2 id="detail-title">{d.name} <span className="sub-inline">{placeOf(d)}</span></h2>
          <p className="detail-facts">
            <code>{d.id}</code> · {d.state === 'docked' ? `docked on ${d.port}` : `undocked${d.undockReason ? ` (${d.undockReason})` : ''}`}
            {d.lastDockedAt ? ` · ${d.state === 'docked' ? 'since' : 'last docked'} ${formatWhen(d.lastDockedAt)}` : ''}
          </p>
        </div>
        <button type="button" className="btn quiet" onClick={onClose} aria-label={`Close the details of ${d.name}`}>Close</button>
      </header>
      <section className={`verdict-banner v-${v.kind}`} aria-label="Verdict">
        <VerdictIcon kind={v.kind} />
        <div>
          <p className="verdict-words"><strong>{v.words}</strong></p>
          {v.nextStep ? <p className="next-step"><strong>Next step:</strong> {v.nextStep}</p> : null}
        </div>
      </section>
      <SlotName device={d} />
      <KitProfile device={d} snapshot={snapshot} />
      <h3>Packages</h3>
      {d.packages.length === 0 ? <p className="empty small">The server has listed no package for this device yet.</p> : (
        <table className="grid device-packages">
          <caption className="visually-hidden">Packages of {d.name} and what became of each</caption>
          <thead><tr><th scope="col">Package</th><th scope="col">Result</th><th scope="col" className="num">Exit code</th><th scope="col">SHA-256</th><th scope="col">Ended</th></tr></thead>
          <tbody>
            {d.packages.map((p) => (
              <tr key={p.id} className={`r-${p.result}`}>
                <td className="wrap">{p.name}</td>
                <td className="wrap">
                  <span className={`result v-${RESULT_KIND[p.result]}`}><VerdictIcon kind={RESULT_KIND[p.result]} className="small" /> {RESULT_WORDS[p.result]}</span>
                  {p.result !== 'installed' && p.words ? <span className="sub">{p.words}</span> : null}
                </td>
                <td className="num">{p.exitCode ?? '—'}</td>
                <td className="nowrap">{p.sha256 ? <code title={p.sha256}>{shortHash(p.sha256)}</code> : '—'}</td>
                <td className="nowrap">{formatWhen(p.endedAt) || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {transfers.length ? (
        <>
          <h3>Transfers</h3>
          {transfers.map((t) => <TransferProgress key={t.id} transfer={t} name={`${t.packageName ?? t.package} ${t.leg === 'push' ? 'to' : 'for'} ${d.name}`} />)}
        </>
      ) : null}
      <h3>Activity</h3>
      {activity.length === 0 ? <p className="empty small">Nothing logged for this device yet.</p> : (
        <ol className="detail-activity">
          {activity.map((a) => (
            <li key={a.seq} className={`level-${a.level}`}>
              <time dateTime={a.at}>{formatFullTime(a.at)}</time> <span>{a.message}</span>
            </li>
          ))}
        </ol>
      )}
      <footer className="detail-actions">
        <RecordExport devices={[d]} what={d.name} />
        {d.state === 'undocked' ? (
          <CommandButton command={{ type: 'forgetDevice', id: d.id }} label={`Forget device ${d.name}`} className="btn quiet">Forget device</CommandButton>
        ) : null}
      </footer>
    </dialog>
  );
}
