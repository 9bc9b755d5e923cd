// Devices: the bench board. One dense tile per device — its slot, its name and its verdict in colour, icon
// and words — failures first, filterable by verdict, 16 to a 1024×700 window and 32 to a 1920×1080 one.
// A tile opens the device's detail; tiles can be selected for the provisioning record. Arrow keys move
// between tiles.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Device, Snapshot } from '../../../shared/contract/station-api.js';
import { boardOrder, cardName, filterDevices, FILTERS, placeOf, verdictCounts, type VerdictFilter } from '../state/board.js';
import { VerdictIcon } from '../ui/VerdictIcon.js';
import { provisionedOfflineWords } from '../../../shared/model/field-kit.js';
import { RecordExport } from '../ui/RecordExport.js';
import { DeviceDetail } from './DeviceDetail.js';

function Tile({ d, selected, onSelect, onOpen }: { d: Device; selected: boolean; onSelect: (on: boolean) => void; onOpen: () => void }) {
  const v = d.verdict;
  return (
    <li className={`tile v-${v.kind}${d.state === 'undocked' ? ' off' : ''}`} data-device={d.id} data-verdict={v.kind}>
      <article aria-label={cardName(d)}>
        <button type="button" className="tile-open" onClick={onOpen} aria-describedby={`step-${d.id}`}>
          <span className="tile-verdict">
            <VerdictIcon kind={v.kind} />
            <span className="tile-title">{v.kind === 'undocked' ? 'Undocked' : v.title}</span>
            {v.kind === 'working' && v.percent !== null ? <span className="tile-percent">{v.percent} %</span> : null}
          </span>
          <span className="tile-who">
            <span className="tile-slot">{placeOf(d)}</span>
            <span className="tile-name">{d.name}</span>
            {d.state === 'undocked' && v.kind !== 'undocked' ? <span className="tile-off">undocked</span> : null}
          </span>
          <span className="tile-words">{v.detail}</span>
          {d.provisionedOffline ? <span className="tile-kit">{provisionedOfflineWords(d.messagesWaiting)}</span> : null}
          {v.kind === 'working' && v.percent !== null ? (
            <span className="tile-bar" aria-hidden="true"><span className="tile-bar-fill" style={{ width: `${v.percent}%` }} /></span>
          ) : null}
        </button>
        <span id={`step-${d.id}`} className="visually-hidden">{v.nextStep ? `Next step: ${v.nextStep}` : ''}</span>
        <input
          type="checkbox"
          className="tile-select"
          checked={selected}
          onChange={(e) => onSelect(e.target.checked)}
          aria-label={`Select ${d.name} (${placeOf(d)}) for the record`}
        />
      </article>
    </li>
  );
}

/** Left/Right move one tile, Up/Down one row (the row length is read from the layout), Home/End to the ends. */
function moveFocus(e: KeyboardEvent<HTMLUListElement>) {
  const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>('button.tile-open')];
  const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
  if (at < 0) return;
  const top = buttons[0]!.getBoundingClientRect().top;
  const perRow = Math.max(1, buttons.filter((b) => Math.abs(b.getBoundingClientRect().top - top) < 4).length);
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, ArrowDown: at + perRow, ArrowUp: at - perRow, Home: 0, End: buttons.length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  buttons[Math.max(0, Math.min(buttons.length - 1, to))]!.focus();
}

export function DevicesView({ snapshot, stale }: { snapshot: Snapshot; stale: boolean }) {
  const [filter, setFilter] = useState<VerdictFilter>('all');
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const [open, setOpen] = useState<string | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  // Focus goes back to the tile that opened the detail once the dialog has left the page.
  useEffect(() => {
    if (open === null) opener.current?.focus();
  }, [open]);
  const counts = verdictCounts(snapshot.devices);
  const shown = filterDevices(boardOrder(snapshot.devices), filter);
  const openDevice = open ? snapshot.devices.find((d) => d.id === open) ?? null : null;
  if (snapshot.devices.length === 0) {
    return (
      <p className="empty">
        No device has docked yet. Attach one to a watched serial port or USB filter (see Settings); its tile appears here as soon as
        its agent answers.
      </p>
    );
  }
  const select = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const chosen = shown.filter((d) => selected.has(d.id));
  return (
    <div className={stale ? 'board-wrap stale' : 'board-wrap'}>
      <div className="toolbar board-tools">
        <div role="radiogroup" aria-label="Show devices" className="filters" onKeyDown={(e) => {
          // A radio group is one tab stop; arrows move the choice (skipping verdicts no device has).
          const usable = FILTERS.filter((f) => f.id === 'all' || counts[f.id] > 0 || f.id === filter);
          const at = usable.findIndex((f) => f.id === filter);
          const step = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
          if (!step) return;
          e.preventDefault();
          const next = usable[(at + step + usable.length) % usable.length]!;
          setFilter(next.id);
          e.currentTarget.querySelector<HTMLButtonElement>(`.f-${next.id}`)?.focus();
        }}>
          {FILTERS.map((f) => (
            <button
              key={f.id}
              type="button"
              role="radio"
              tabIndex={filter === f.id ? 0 : -1}
              aria-checked={filter === f.id}
              className={`filter f-${f.id}`}
              disabled={f.id !== 'all' && counts[f.id] === 0 && filter !== f.id}
              onClick={() => setFilter(f.id)}
            >
              {f.id !== 'all' ? <VerdictIcon kind={f.id} className="small" /> : null}
              {f.label} <span className="filter-count">{counts[f.id]}</span>
            </button>
          ))}
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={shown.length > 0 && chosen.length === shown.length}
            ref={(el) => { if (el) el.indeterminate = chosen.length > 0 && chosen.length < shown.length; }}
            onChange={(e) => setSelected(e.target.checked ? new Set(shown.map((d) => d.id)) : new Set())}
          /> Select all
        </label>
        <RecordExport devices={chosen.length ? chosen : shown} what={chosen.length ? `${chosen.length} selected` : `all ${shown.length} shown`} />
      </div>
      {shown.length === 0 ? <p className="empty">No device is {filter} now.</p> : (
        <ul className="board" aria-label={`Devices, ${filter === 'all' ? 'all' : filter}, failures first`} onKeyDown={moveFocus}>
          {shown.map((d) => (
            <Tile
              key={d.id}
              d={d}
              selected={selected.has(d.id)}
              onSelect={(on) => select(d.id, on)}
              onOpen={() => {
                opener.current = document.activeElement as HTMLElement | null;
                setOpen(d.id);
              }}
            />
          ))}
        </ul>
      )}
      {openDevice ? (
        <DeviceDetail
          device={openDevice}
          snapshot={snapshot}
          onClose={() => setOpen(null)}
        />
      ) : null}
    </div>
  );
}
