// IPC channel names of the Electron adapter. Kept apart from the schemas so the sandboxed preload bundle
// carries no validation library: the main process validates, the preload only forwards.
export const IPC = {
  getSnapshot: 'station:getSnapshot',
  execute: 'station:execute',
  change: 'station:change',
  subscribe: 'station:subscribe',
} as const;
