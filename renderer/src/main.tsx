// Entry point: pick the station client (Electron's window.station, or the web console's WebSocket),
// then render the console. Without either, say plainly how to open the console instead.
import { createRoot } from 'react-dom/client';
import { StrictMode } from 'react';
import { App } from './App.js';
import { pickClient } from './client/pick-client.js';
import { StationStore } from './state/station-store.js';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
const picked = pickClient(window);
if (picked.client) {
  const store = new StationStore(picked.client);
  root.render(<StrictMode><App store={store} via={picked.via} /></StrictMode>);
} else {
  root.render(<main className="content"><p className="banner bad" role="alert">{picked.problem}</p></main>);
}
