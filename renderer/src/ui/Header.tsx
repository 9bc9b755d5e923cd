// The header: which station this is, whether it reaches its server, whether the console is connected,
// a clear DEMO badge when the station runs the bundled demo server, and the theme choice.
import type { StationInfo } from '../../../shared/contract/station-api.js';
import type { ConnectionState } from '../client/connection.js';
import type { ThemeChoice } from '../theme.js';

interface HeaderProps {
  station: StationInfo | null;
  connection: ConnectionState;
  via: 'electron' | 'websocket';
  theme: ThemeChoice;
  onTheme: (t: ThemeChoice) => void;
}

const CONNECTION_WORDS: Record<ConnectionState, string> = { connecting: 'Connecting…', open: 'Connected', closed: 'Reconnecting…' };

export function Header({ station, connection, via, theme, onTheme }: HeaderProps) {
  return (
    <header className="app-header">
      <div className="brand">
        <h1>Dockhand station</h1>
        {station ? <span className="sub-inline">{station.id} · version {station.version}</span> : null}
      </div>
      {station?.demo ? (
        <p className="demo-badge" role="note">
          <strong>DEMO</strong>
          <span>Bundled demo server and catalog — not a real deployment</span>
        </p>
      ) : null}
      <ul className="status-pills" aria-label="Station state">
        {station ? (
          <li className={`pill ${station.online ? 'good' : 'bad'}`}>{station.online ? 'Server online' : 'Server offline'}</li>
        ) : null}
        {via === 'websocket' ? (
          <li className={`pill ${connection === 'open' ? 'good' : 'warn'}`}>{CONNECTION_WORDS[connection]}</li>
        ) : null}
      </ul>
      <label className="theme-choice">
        Theme{' '}
        <select value={theme} onChange={(e) => onTheme(e.target.value as ThemeChoice)}>
          <option value="system">System</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
    </header>
  );
}
