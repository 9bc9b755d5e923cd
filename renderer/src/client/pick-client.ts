// Which StationClient the UI talks to: Electron's preload puts one on window.station; a browser opened on
// the web console builds one over a WebSocket to /api on the page's own origin (see api-url).
import type { StationClient } from '../../../shared/contract/station-api.js';
import type { LiveStationClient } from './connection.js';
import { apiUrl } from './api-url.js';
import { WsStationClient } from './ws-client.js';

declare global {
  interface Window {
    station?: StationClient;
  }
}

export type Picked = { client: LiveStationClient; via: 'electron' | 'websocket' } | { client: null; problem: string };

export function pickClient(win: Window): Picked {
  if (win.station) return { client: win.station, via: 'electron' };
  const url = apiUrl(win.location.href);
  if (!url) {
    return { client: null, problem: `This page was opened from ${win.location.protocol}//…; open the address the station prints ("web console: http://…") instead.` };
  }
  return { client: new WsStationClient(url), via: 'websocket' };
}
