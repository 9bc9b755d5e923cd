// `dockhand start` (`npm start`): the desktop app when the Electron runtime is installed; otherwise the
// same UI served by a headless station on 127.0.0.1, so a machine without Electron (a build server, an
// offline bench) still gets the whole product. Electron's own package would download its runtime on
// `require('electron')`; we only read where it would be and check that it is there.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeError } from '../shared/model/errors.js';
import { ensureUiBuilt } from './build-ui.js';
import { argProblem } from './arg-problems.js';

const ROOT = path.resolve(import.meta.dirname, '..');

const usage = `usage: dockhand start [--data DIR] [--server URL] [--port N] [--ui DIR]

Runs the Dockhand desktop app (its data in the OS's user-data folder for apps). Where the Electron runtime
is not installed, runs the station headless and serves the same UI on http://127.0.0.1:PORT instead; the
options below apply to that headless station:
  --data DIR     station data folder (default: the OS's per-user application folder)
  --server URL   management server (default: the configured one, else the bundled demo server)
  --port N       port of the web console (default: a free one)
  --ui DIR       serve the built UI from DIR (default: renderer/dist, built when missing)`;

export type ElectronLookup = { found: true; path: string } | { found: false; reason: string };

/** The executable inside Electron's dist folder, as the electron package names it per platform. */
function defaultExecutable(platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'electron.exe';
  if (platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  return 'electron';
}

/** Where the `electron` npm package is installed, or null (found without loading it: loading downloads). */
export function electronPackageDir(): string | null {
  try {
    return path.dirname(createRequire(path.join(ROOT, 'package.json')).resolve('electron/package.json'));
  } catch {
    return null;
  }
}

/**
 * Finds the Electron runtime the way the electron package would (path.txt, ELECTRON_OVERRIDE_DIST_PATH),
 * but only looks: it never triggers the package's download.
 */
export function locateElectron(pkgDir: string | null, env: NodeJS.ProcessEnv = process.env, platform = process.platform): ElectronLookup {
  if (!pkgDir) return { found: false, reason: 'the electron package is not installed' };
  const pathFile = path.join(pkgDir, 'path.txt');
  const recorded = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (!recorded && !override) return { found: false, reason: 'the Electron runtime was never downloaded (node_modules/electron/path.txt is missing)' };
  const exe = override ? path.join(override, recorded || defaultExecutable(platform)) : path.join(pkgDir, 'dist', recorded);
  return existsSync(exe) ? { found: true, path: exe } : { found: false, reason: `the Electron runtime is missing (${exe} does not exist)` };
}

function fail(message: string, code = 2): number {
  process.stderr.write(`dockhand start: ${message}\n`);
  return code;
}

/** Builds renderer/dist when its index.html is missing; returns an error message or null. */
function ensureRenderer(dir: string): string | null {
  return ensureUiBuilt(dir, (line) => process.stderr.write(`dockhand start: ${line}\n`));
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/** Runs Electron on an app folder until it exits; Ctrl+C and SIGTERM are passed on to it. */
export async function launchElectron(electron: string, appDir: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const childEnv = { ...env };
  delete childEnv.ELECTRON_RUN_AS_NODE; // set, it would make Electron a plain Node and ignore the app
  const child = spawn(electron, [appDir], { cwd: appDir, env: childEnv, stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => () => { child.kill(signal); };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await new Promise<number>((resolve) => {
      child.once('error', (err) => resolve(fail(`could not run Electron (${electron}): ${err.message}`, 1)));
      child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)));
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/** The desktop app: bundle main + preload, then run Electron on the repository (package.json `main`). */
async function runDesktop(electron: string): Promise<number> {
  const problem = ensureRenderer(path.join(ROOT, 'renderer', 'dist'));
  if (problem) return fail(problem, 1);
  const { buildApp } = await import('../scripts/build-app.js');
  await buildApp({ root: ROOT });
  return launchElectron(electron, ROOT);
}

/** No Electron here: a headless station plus the web console serving the same UI. */
async function runHeadless(opts: { dataDir: string; server?: string; port: number; uiDir: string }): Promise<number> {
  const problem = ensureRenderer(opts.uiDir);
  if (problem) return fail(problem, 1);
  const { startStationRuntime } = await import('../electron/station/runtime.js');
  const { startWebConsole } = await import('../electron/station/web-console.js');
  const { claimDataFolder } = await import('../electron/station/data-folder.js');
  const log = (line: string) => process.stdout.write(`${line}\n`);
  let release: () => void;
  try {
    release = claimDataFolder(opts.dataDir);
  } catch (err) {
    return fail(describeError(err), 2);
  }
  process.once('exit', () => release());
  let runtime;
  try {
    runtime = await startStationRuntime({ dataDir: opts.dataDir, ...(opts.server ? { server: opts.server } : {}), log });
  } catch (err) {
    release();
    return fail(`cannot start the station with the data in ${opts.dataDir}: ${describeError(err)}`, 1);
  }
  try {
    const ui = await startWebConsole(runtime.service, { host: '127.0.0.1', port: opts.port, staticDir: opts.uiDir });
    process.stdout.write(`Dockhand is running at ${ui.url} (station data in ${opts.dataDir}; Ctrl+C stops it)\n`);
    await untilSignal();
    process.stdout.write('stopping: tasks and checkpoints are saved\n');
    await ui.close();
    return 0;
  } catch (err) {
    return fail(describeError(err), 1);
  } finally {
    await runtime.stop();
  }
}

export async function startCommand(args: string[]): Promise<number> {
  const options = {
    data: { type: 'string' }, server: { type: 'string' }, port: { type: 'string' }, ui: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  } as const;
  let values;
  try {
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options }));
  } catch (err) {
    return fail(`${argProblem(err, Object.keys(options))}\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port must be a port number (0–65535), not '${values.port}'`);
  const uiDir = path.resolve(values.ui ?? path.join(ROOT, 'renderer', 'dist'));

  const electron = locateElectron(electronPackageDir());
  if (electron.found) return runDesktop(electron.path);

  process.stderr.write(`dockhand start: no Electron runtime here (${electron.reason}); serving the UI from a headless station instead\n`);
  const { defaultDataDir } = await import('../electron/station/cli.js');
  return runHeadless({
    dataDir: path.resolve(values.data ?? defaultDataDir()), port, uiDir, ...(values.server ? { server: values.server } : {}),
  });
}
