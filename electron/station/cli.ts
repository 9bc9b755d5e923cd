// `dockhand station …`: the headless station, and its status, accept and record commands (cli-tools.ts).
import { parseArgs } from 'node:util';
import path from 'node:path';
import { createReporter } from './progress.js';
import { describeError } from '../../shared/model/errors.js';
import { didYouMean } from '../../shared/model/did-you-mean.js';
import { argProblem } from '../../cli/arg-problems.js';
import { ensureUiBuilt, RENDERER_DIST } from '../../cli/build-ui.js';
import { deviceEndpoint, startStationRuntime, type RuntimeOptions, type StationRuntime } from './runtime.js';
import type { WebConsole } from './web-console.js';
import { parseUsbIds } from '../link/discovery.js';
import { parseProfile, readConfig, writeConfig } from './config.js';
import { claimDataFolder, defaultDataDir } from './data-folder.js';
import { serialPathProblem } from './port-check.js';
import { watchDeviceSummaries } from './device-summary.js';
import { acceptCommand, recordCommand, statusCommand } from './cli-tools.js';

export { defaultDataDir };

const usage = `usage:
  dockhand station [--server URL] [--data DIR] [--root DIR] [--id DEVICE-ID] [--allow-commands]
                   [--allow-program NAME]… [--once] [--profile NAME=DEVICE-ID]…
                   [--rate-limit BYTES/S] [--bandwidth auto|low|high] [--concurrency N]
                   [--serial PATH[,PATH…]] [--baud N] [--usb VID:PID[,VID:PID…]]
                   [--ui [--ui-port N] [--ui-host 127.0.0.1]]
  dockhand station status [--data DIR] [--json]
  dockhand station accept --package ID [--data DIR]
  dockhand station record [--data DIR] [--device ID]… [--since DATE] (--csv FILE | --pdf FILE)

--allow-program NAME (repeatable) lets a server's command line run the station's own program NAME (found on
the PATH); without it only programs the package brought run. Allowing a shell (sh) allows anything.
--profile NAME=DEVICE-ID (repeatable) names a field-kit profile: the station keeps that device identity's
answers and packages so new devices are provisioned when the server cannot be reached (dockhand kit --help).
Without --server the station runs the bundled reference server with a demo catalog on 127.0.0.1; a server
given once is remembered in DATA/station.json. Options not given come from that file. --ui serves the
station's UI and API (WebSocket) on 127.0.0.1 (building the UI first if needed); bound to another address
it requires the token it prints. One station per data folder. Ctrl-C stops it; downloads keep their
checkpoints. 'dockhand station COMMAND --help' explains each command.`;

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = { status: statusCommand, accept: acceptCommand, record: recordCommand };

const OPTIONS = {
  server: { type: 'string' }, data: { type: 'string' }, root: { type: 'string' }, id: { type: 'string' },
  'allow-commands': { type: 'boolean' }, 'allow-program': { type: 'string', multiple: true }, once: { type: 'boolean', default: false },
  'rate-limit': { type: 'string' }, bandwidth: { type: 'string' }, concurrency: { type: 'string' },
  serial: { type: 'string', multiple: true }, baud: { type: 'string' }, usb: { type: 'string', multiple: true },
  ui: { type: 'boolean', default: false }, 'ui-port': { type: 'string' }, 'ui-host': { type: 'string' },
  profile: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' },
} as const;

/** `1048576`, `512K`, `4M`, `1G` → bytes per second. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?$/i.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a rate; write e.g. 1048576, 512K or 4M (bytes per second)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

function positiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${option} must be a positive whole number, not '${text}'`);
  return n;
}

/** A name for --allow-program: bare (found on the PATH), never a path. */
function allowedProgram(name: string): string {
  const n = name.trim();
  if (n === '' || /[\\/]/.test(n)) throw new Error(`--allow-program takes a program name without a folder (e.g. tar), not '${name}'`);
  return n;
}

function fail(message: string): number {
  process.stderr.write(`dockhand station: ${message}\n`);
  return 2;
}

/** Where the built renderer is: renderer/dist in the checkout. */
export function rendererDist(): string {
  return RENDERER_DIST;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values'];

function runtimeOptions(values: Values, dataDir: string): RuntimeOptions {
  const split = (xs: string[] | undefined) => (xs ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const bandwidth = values.bandwidth;
  if (bandwidth !== undefined && bandwidth !== 'auto' && bandwidth !== 'low' && bandwidth !== 'high') {
    throw new Error(`--bandwidth must be auto, low or high, not '${bandwidth}'`);
  }
  if (values.server !== undefined) deviceEndpoint(values.server);
  parseUsbIds(split(values.usb));
  const serialPaths = split(values.serial);
  for (const p of serialPaths) {
    const problem = serialPathProblem(p);
    if (problem) throw new Error(problem);
  }
  return {
    dataDir, loop: !values.once, serialPaths, usb: split(values.usb),
    ...(values.server !== undefined ? { server: values.server } : {}),
    ...(values.root ? { root: path.resolve(values.root) } : {}), ...(values.id ? { id: values.id } : {}),
    ...(values['allow-commands'] !== undefined ? { allowCommands: values['allow-commands'] } : {}),
    ...(values['allow-program'] ? { allowPrograms: values['allow-program'].map((p) => allowedProgram(p)) } : {}),
    ...(values['rate-limit'] ? { rateLimit: parseRate(values['rate-limit']) } : {}),
    ...(bandwidth ? { bandwidth } : {}),
    ...(values.concurrency ? { concurrency: positiveInt(values.concurrency, '--concurrency') } : {}),
    ...(values.baud ? { baudRate: positiveInt(values.baud, '--baud') } : {}),
    ...(values.profile ? { profiles: values.profile.map(parseProfile) } : {}),
  };
}

function uiPortOf(text: string | undefined): number {
  if (text === undefined) return 0;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--ui-port must be a port number (0 picks a free one), not '${text}'`);
  return port;
}

/** Resolves on the first Ctrl-C or SIGTERM. */
function interrupted(): { promise: Promise<void>; dispose(): void } {
  let done: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => { done = resolve; });
  const on = () => done();
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  return { promise, dispose: () => { process.off('SIGINT', on); process.off('SIGTERM', on); } };
}

export async function stationCommand(args: string[]): Promise<number> {
  const sub = args[0] && !args[0].startsWith('-') ? args[0] : null;
  if (sub) {
    const run = SUBCOMMANDS[sub];
    if (run) return run(args.slice(1));
    const near = didYouMean(sub, Object.keys(SUBCOMMANDS));
    return fail(`unknown command '${sub}'${near ? `; did you mean 'dockhand station ${near}'?` : ''}\n${usage}`);
  }
  let values: Values;
  try {
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options: OPTIONS }));
  } catch (err) {
    return fail(`${argProblem(err, Object.keys(OPTIONS))}\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const dataDir = path.resolve(values.data ?? defaultDataDir());
  let options: RuntimeOptions;
  let uiPort: number;
  try {
    options = runtimeOptions(values, dataDir);
    uiPort = uiPortOf(values['ui-port']);
  } catch (err) {
    return fail(describeError(err));
  }
  if (values.ui) {
    const problem = ensureUiBuilt(RENDERER_DIST, (line) => process.stdout.write(`${line}\n`));
    if (problem) return fail(problem);
  }
  let release: () => void;
  try {
    release = claimDataFolder(dataDir);
  } catch (err) {
    return fail(describeError(err));
  }
  try {
    return await runStation(values, options, dataDir, uiPort);
  } finally {
    release();
  }
}

async function runStation(values: Values, options: RuntimeOptions, dataDir: string, uiPort: number): Promise<number> {
  let deviceName = (_id: string): string | null => null;
  const report = createReporter(process.stdout, undefined, undefined, (id) => {
    const name = deviceName(id);
    return name ? `${name}: ` : '';
  });
  const log = (line: string) => report({ type: 'log', targetId: 'station', level: 'info', message: line });
  let runtime: StationRuntime;
  try {
    runtime = await startStationRuntime({ ...options, emit: report, log });
  } catch (err) {
    return fail(`cannot start the station with the data in ${dataDir}: ${describeError(err)}`);
  }
  const { station, config } = runtime;
  deviceName = (id) => (station.devices.has(id) ? station.sessions.get(id)?.store.getJson<{ name?: string }>('hello')?.name ?? id : null);
  if (values.server !== undefined && readConfig(dataDir).server !== deviceEndpoint(values.server)) {
    // Remembered, so a later `station --data DIR` talks to the same server instead of the demo one.
    writeConfig(dataDir, { ...readConfig(dataDir), server: deviceEndpoint(values.server) });
  }
  process.stdout.write(`station ${station.local.target.id} using ${runtime.serverUrl}${runtime.demo ? ' (DEMO)' : ''}; data in ${dataDir}; ` +
    `packages in ${station.root}${config.allowCommands ? '; commands allowed' : '; commands not allowed (use --allow-commands)'}` +
    `${config.allowCommands ? `; station programs allowed: ${config.allowPrograms.join(', ') || 'none (use --allow-program NAME)'}` : ''}\n`);
  if (config.serialPorts.length || config.usb.length) process.stdout.write(`watching ${[...config.serialPorts, ...config.usb.map((u) => `usb ${u}`)].join(', ')}\n`);
  const summaries = watchDeviceSummaries(runtime.service, (line) => report({ type: 'log', targetId: 'station', level: 'info', message: line }));
  const stop = interrupted();
  // Ctrl-C stops the sessions at once: a running download ends within moments, its checkpoint kept.
  let stopping = false;
  void stop.promise.then(() => {
    stopping = true;
    process.stdout.write('\nstopping: tasks and checkpoints are saved\n');
    for (const s of station.sessions.values()) s.stop();
  });
  let code = 0;
  let endLines: string[] = [];
  let ui: WebConsole | null = null;
  try {
    if (values.ui) {
      // loaded only for --ui: the console's WebSocket library pulls in TLS, HTTPS and zlib, 140 KB of code
      // and about 20 ms of every start of a station that has no console
      const { startWebConsole } = await import('./web-console.js');
      ui = await startWebConsole(runtime.service, { host: values['ui-host'] ?? '127.0.0.1', port: uiPort, staticDir: RENDERER_DIST });
      process.stdout.write(`web console: ${ui.url}\n`);
    }
    if (values.once) {
      // Every target is due: a run that follows a failed one contacts the server, whatever the retry said.
      station.pollNow();
      const idle = station.runUntilIdle();
      await Promise.race([idle, stop.promise]);
      if (stopping) {
        await idle.catch(() => undefined); // the stopped tasks record where they stood
        return 130;
      }
      endLines = await summaries.all();
      const problems = station.problems();
      if (problems.length > 0) {
        process.stderr.write(`dockhand station: ${problems[problems.length - 1]}${problems.length > 1 ? ` (and ${problems.length - 1} more problem(s); see the log above)` : ''}\n`);
        code = 1;
      }
    } else {
      await stop.promise;
    }
  } catch (err) {
    process.stderr.write(`dockhand station: ${describeError(err)}\n`);
    code = 1;
  } finally {
    stop.dispose();
    summaries.stop();
    await ui?.close();
    await runtime.stop();
  }
  // The run ends with one line per device, after the station has stopped talking.
  for (const line of endLines) process.stdout.write(`${line}\n`);
  return code;
}
