// The preload of the main window (bundled to dist/preload.cjs: a sandboxed preload cannot load modules).
// It exposes exactly one thing to the page — window.station — and nothing else.
// The preload necessarily imports 'electron' (contextBridge, ipcRenderer); it is the one file outside
// electron/main allowed to, and it does nothing but hand ipcRenderer to the bridge.
import { contextBridge, ipcRenderer } from 'electron';
import { createStationBridge } from './station-bridge.js';

contextBridge.exposeInMainWorld('station', createStationBridge(ipcRenderer));
