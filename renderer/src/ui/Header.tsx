// The header: which station this is; whether its last contact with the server worked ("Server unreachable,
// retrying in 1:40", with why in the tooltip and for screen readers) and meanwhile the field kit's age
// ("Offline: field kit from 1 Dec 14:02"), how many messages wait to be sent;
// whether the console is connected; a clear DEMO badge; and the theme choice. A disk problem that holds
// the station back is a banner of its own (in App).
import type { StationInfo } from '../../../shared/contract/station-api.js';
import { clockDelay } from '../../../shared/model/verdict-words.js';
import { offlineWords } from '../../../shared/model/field-kit.js';
import type { ConnectionState } from '../client/connection.js';
import { useNow } from '../state/clock.js';
import type { ThemeChoice } from '../theme.js';

interface HeaderProps {
  station: StationInfo | null;
  connection: ConnectionState;
  via: 'electron' | 'websocket';
  theme: ThemeChoice;
  onTheme: (t: ThemeChoice) => void;
}

const CONNECTION_WORDS: Record<ConnectionState, string> = { connecting: 'Connecting…', open: 'Connected', closed: 'Station lost' };

function ServerPill({ station, now }: { station: StationInfo; now: number }) {
  const c = station.contact;
  if (c.state === 'unreachable') {
    const retry = c.retryAt ? Date.parse(c.retryAt) - now : null;
    const when = retry === null ? '' : retry > 0 ? `, retrying in ${clockDelay(retry)}` : ', retrying now';
    return <li className="pill bad" title={c.problem} aria-label={`Server ${c.server} unreachable${when}. ${c.problem}`}>Server unreachable{when}</li>;
  }
  if (c.state === 'unknown') return <li className="pill muted" title={c.server}>Contacting server…</li>;
  return <li className="pill good" title={c.server}>Server reachable</li>;
}

export function Header({ station, connection, via, theme, onTheme }: HeaderProps) {
  const now = useNow();
  return (
    <header className="app-header">
      <div className="brand">
        <h1>Dockhand station</h1>
        {station ? <span className="sub-inline">{station.id} · {station.contact.server} · version {station.version}</span> : null}
      </div>
      {station?.demo ? (
        <p className="demo-badge" role="note">
          <strong>DEMO</strong>
          <span>Bundled demo server and catalog — not a real deployment</span>
        </p>
      ) : null}
      <ul className="status-pills" aria-label="Station state">
        {station ? <ServerPill station={station} now={now} /> : null}
        {station?.contact.state === 'unreachable' ? (
          // What the station provisions from meanwhile: the field kit, and how old it is (docs/field-kit.md).
          <li className={`pill ${station.fieldKit.asOf ? 'warn' : 'bad'}`}>{offlineWords(station.fieldKit.asOf)}</li>
        ) : null}
        {station && station.contact.waiting > 0 ? (
          <li className="pill warn">{station.contact.waiting} message{station.contact.waiting === 1 ? '' : 's'} waiting</li>
        ) : null}
        {via === 'websocket' ? (
          <li className={`pill ${connection === 'open' ? 'good' : 'warn'}`}>{CONNECTION_WORDS[connection]}</li>
        ) : null}
      </ul>
      <label className="theme-choice">
        <span className="visually-hidden">Theme</span>
        <select value={theme} onChange={(e) => onTheme(e.target.value as ThemeChoice)}>
          <option value="system">System</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
    </header>
  );
}
