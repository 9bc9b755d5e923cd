// `dockhand station …`: the headless station, and its status and accept commands.
import { parseArgs } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { readStatus, formatStatus } from './status.js';
import { createReporter } from './progress.js';
import { ClientStore } from '../store/client-store.js';
import { localTargetDb } from './station.js';
import { describeError } from '../../shared/model/errors.js';
import { deviceEndpoint, startStationRuntime, type RuntimeOptions, type StationRuntime } from './runtime.js';
import { startWebConsole, type WebConsole } from './web-console.js';
import { acceptPackage } from './station-commands.js';
import { parseUsbIds } from '../link/discovery.js';

const usage = `usage:
  dockhand station [--server URL] [--data DIR] [--root DIR] [--id DEVICE-ID] [--allow-commands]
                   [--allow-program NAME]… [--once]
                   [--rate-limit BYTES/S] [--bandwidth auto|low|high] [--concurrency N]
                   [--serial PATH[,PATH…]] [--baud N] [--usb VID:PID[,VID:PID…]]
                   [--ui [--ui-port N] [--ui-host 127.0.0.1]]
  dockhand station status [--data DIR] [--json]
  dockhand station accept --package ID [--data DIR]

--allow-program NAME (repeatable) lets a server's command line run the station's own program NAME (found on
the PATH); without it only programs the package brought run. Allowing a shell (sh) allows anything.
Without --server the station runs the bundled reference server with a demo catalog on 127.0.0.1.
Options not given come from DATA/station.json when it exists. --ui serves the station's UI and API
(WebSocket) on 127.0.0.1; bound to another address it requires the token it prints.`;

/** The OS's per-user application data folder, as Electron's userData would be. */
export function defaultDataDir(): string {
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Dockhand');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Dockhand');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'dockhand');
}

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

export async function stationCommand(args: string[]): Promise<number> {
  if (args[0] === 'status') return statusCommand(args.slice(1));
  if (args[0] === 'accept') return acceptCommand(args.slice(1));
  let values;
  try {
    ({ values } = parseArgs({
      args, strict: true, allowPositionals: false, options: {
        server: { type: 'string' }, data: { type: 'string' }, root: { type: 'string' }, id: { type: 'string' },
        'allow-commands': { type: 'boolean' }, 'allow-program': { type: 'string', multiple: true }, once: { type: 'boolean', default: false },
        'rate-limit': { type: 'string' }, bandwidth: { type: 'string' }, concurrency: { type: 'string' },
        serial: { type: 'string', multiple: true }, baud: { type: 'string' }, usb: { type: 'string', multiple: true },
        ui: { type: 'boolean', default: false }, 'ui-port': { type: 'string' }, 'ui-host': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    return fail(`${describeError(err)}\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const dataDir = path.resolve(values.data ?? defaultDataDir());
  const bandwidth = values.bandwidth;
  if (bandwidth !== undefined && bandwidth !== 'auto' && bandwidth !== 'low' && bandwidth !== 'high') {
    return fail(`--bandwidth must be auto, low or high, not '${bandwidth}'`);
  }
  const split = (xs: string[] | undefined) => (xs ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  let options: RuntimeOptions;
  let uiPort = 0;
  try {
    if (values.server !== undefined) deviceEndpoint(values.server);
    parseUsbIds(split(values.usb));
    if (values['ui-port'] !== undefined) {
      uiPort = Number(values['ui-port']);
      if (!Number.isInteger(uiPort) || uiPort < 0 || uiPort > 65535) throw new Error(`--ui-port must be a port number (0 picks a free one), not '${values['ui-port']}'`);
    }
    options = {
      dataDir, loop: !values.once,
      ...(values.server !== undefined ? { server: values.server } : {}),
      ...(values.root ? { root: path.resolve(values.root) } : {}), ...(values.id ? { id: values.id } : {}),
      ...(values['allow-commands'] !== undefined ? { allowCommands: values['allow-commands'] } : {}),
      ...(values['allow-program'] ? { allowPrograms: values['allow-program'].map((p) => allowedProgram(p)) } : {}),
      ...(values['rate-limit'] ? { rateLimit: parseRate(values['rate-limit']) } : {}),
      ...(bandwidth ? { bandwidth } : {}),
      ...(values.concurrency ? { concurrency: positiveInt(values.concurrency, '--concurrency') } : {}),
      ...(values.baud ? { baudRate: positiveInt(values.baud, '--baud') } : {}),
      serialPaths: split(values.serial), usb: split(values.usb),
    };
  } catch (err) {
    return fail(describeError(err));
  }
  const report = createReporter(process.stdout);
  const log = (line: string) => report({ type: 'log', targetId: 'station', level: 'info', message: line });

  let runtime: StationRuntime;
  try {
    runtime = await startStationRuntime({ ...options, emit: report, log });
  } catch (err) {
    return fail(`cannot start the station with the data in ${dataDir}: ${describeError(err)}`);
  }
  const { station, config } = runtime;
  process.stdout.write(`station ${station.local.target.id} using ${runtime.serverUrl}${runtime.demo ? ' (DEMO)' : ''}; data in ${dataDir}; ` +
    `packages in ${station.root}${config.allowCommands ? '; commands allowed' : '; commands not allowed (use --allow-commands)'}` +
    `${config.allowCommands ? `; station programs allowed: ${config.allowPrograms.join(', ') || 'none (use --allow-program NAME)'}` : ''}\n`);
  if (config.serialPorts.length || config.usb.length) process.stdout.write(`watching ${[...config.serialPorts, ...config.usb.map((u) => `usb ${u}`)].join(', ')}\n`);

  let code = 0;
  let ui: WebConsole | null = null;
  try {
    if (values.ui) {
      ui = await startWebConsole(runtime.service, { host: values['ui-host'] ?? '127.0.0.1', port: uiPort, staticDir: rendererDist() });
      process.stdout.write(`web console: ${ui.url}\n`);
    }
    if (values.once) {
      // Every target is due: a run that follows a failed one contacts the server, whatever the retry said.
      station.pollNow();
      await station.runUntilIdle();
      const problems = station.problems();
      if (problems.length > 0) {
        process.stderr.write(`dockhand station: ${problems[problems.length - 1]}${problems.length > 1 ? ` (and ${problems.length - 1} more problem(s); see the log above)` : ''}\n`);
        code = 1;
      }
    } else {
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      process.stdout.write('stopping: tasks and checkpoints are saved\n');
    }
  } catch (err) {
    process.stderr.write(`dockhand station: ${describeError(err)}\n`);
    code = 1;
  } finally {
    await ui?.close();
    await runtime.stop();
  }
  return code;
}

/** Where the built renderer is: renderer/dist in the checkout. */
export function rendererDist(): string {
  return path.resolve(import.meta.dirname, '..', '..', 'renderer', 'dist');
}

async function statusCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, strict: true, options: { data: { type: 'string' }, json: { type: 'boolean', default: false } } }));
  } catch (err) {
    return fail(describeError(err));
  }
  const view = readStatus(path.resolve(values.data ?? defaultDataDir()));
  process.stdout.write(values.json ? `${JSON.stringify(view, null, 2)}\n` : `${formatStatus(view)}\n`);
  return 0;
}

async function acceptCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, strict: true, options: { data: { type: 'string' }, package: { type: 'string' } } }));
  } catch (err) {
    return fail(describeError(err));
  }
  if (!values.package) return fail('accept needs --package ID');
  const store = new ClientStore(localTargetDb(path.resolve(values.data ?? defaultDataDir())));
  try {
    process.stdout.write(`${acceptPackage(store, values.package, Date.now())}\n`);
  } catch (err) {
    return fail(describeError(err));
  } finally {
    store.close();
  }
  return 0;
}
