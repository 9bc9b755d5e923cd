// Electron's entry point (bundled to dist/main.cjs by scripts/build-app.mjs). Thin on purpose: the real
// `electron` module and the real station runtime go into runApp, which the unit tests drive with doubles.
import * as electron from 'electron';
import { startClaimedStationRuntime } from '../station/runtime.js';
import { runApp } from './lifecycle.js';

runApp(electron, { startRuntime: startClaimedStationRuntime }).catch((err: unknown) => {
  const message = err instanceof Error ? err.stack ?? err.message : String(err);
  process.stderr.write(`Dockhand failed to start: ${message}\n`);
  electron.dialog.showErrorBox('Dockhand failed to start', message);
  electron.app.exit(1);
});
