// `dockhand station …`: the headless station, and its status and accept commands.
import { parseArgs } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { Station } from './station.js';
import { readStatus, formatStatus } from './status.js';
import { createReporter } from './progress.js';
import { ClientStore } from '../store/client-store.js';
import { localTargetDb } from './station.js';
import { describeError } from '../../shared/model/errors.js';
import { readConfig } from './config.js';
import { DockManager } from './docking.js';
import { parseUsbIds } from '../link/discovery.js';

const usage = `usage:
  dockhand station [--server URL] [--data DIR] [--root DIR] [--id DEVICE-ID] [--allow-commands] [--once]
                   [--rate-limit BYTES/S] [--bandwidth auto|low|high] [--concurrency N]
                   [--serial PATH[,PATH…]] [--baud N] [--usb VID:PID[,VID:PID…]]
  dockhand station status [--data DIR] [--json]
  dockhand station accept --package ID [--data DIR]

Without --server the station runs the bundled reference server with a demo catalog on 127.0.0.1.
Options not given come from DATA/station.json when it exists.`;

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
        'allow-commands': { type: 'boolean' }, once: { type: 'boolean', default: false },
        'rate-limit': { type: 'string' }, bandwidth: { type: 'string' }, concurrency: { type: 'string' },
        serial: { type: 'string', multiple: true }, baud: { type: 'string' }, usb: { type: 'string', multiple: true },
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
  let config;
  try {
    config = readConfig(dataDir);
  } catch (err) {
    return fail(describeError(err));
  }
  const bandwidth = values.bandwidth ?? config.bandwidth;
  if (bandwidth !== 'auto' && bandwidth !== 'low' && bandwidth !== 'high') return fail(`--bandwidth must be auto, low or high, not '${bandwidth}'`);
  let rateLimit = config.rateLimit;
  let concurrency = config.concurrency;
  let baudRate = config.baudRate;
  let usb;
  try {
    if (values['rate-limit']) rateLimit = parseRate(values['rate-limit']);
    if (values.concurrency) concurrency = positiveInt(values.concurrency, '--concurrency');
    if (values.baud) baudRate = positiveInt(values.baud, '--baud');
    usb = parseUsbIds([...config.usb, ...(values.usb ?? [])].flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean));
  } catch (err) {
    return fail(describeError(err));
  }
  const serialPaths = [...new Set([...config.serialPorts, ...(values.serial ?? []).flatMap((v) => v.split(','))].map((p) => p.trim()).filter(Boolean))];
  const allowCommands = values['allow-commands'] ?? config.allowCommands;
  const report = createReporter(process.stdout);
  const closers: Array<() => Promise<void>> = [];

  let server = values.server ?? config.server;
  if (server && !/^https?:\/\//i.test(server)) return fail(`--server must be an http:// or https:// URL, not '${server}'`);
  if (server && new URL(server).pathname === '/') server = new URL('/devicemgmt/server.aspx', server).toString();
  if (!server) {
    const { startDemoServer } = await import('../../server/demo.js');
    const demo = await startDemoServer(path.join(dataDir, 'demo-server'));
    closers.push(() => demo.close());
    server = `${demo.url}/devicemgmt/server.aspx`;
    process.stdout.write(`no server configured: running the bundled reference server with a DEMO catalog at ${demo.url}\n`);
  }

  let station: Station;
  try {
    station = await Station.open({
      dataDir, server, ...(values.root ? { root: path.resolve(values.root) } : {}), ...(values.id ? { id: values.id } : {}),
      allowCommands, rateLimit, bandwidth, concurrency, emit: report,
    });
  } catch (err) {
    for (const c of closers) await c();
    return fail(`cannot open the station's data in ${dataDir}: ${describeError(err)}`);
  }
  process.stdout.write(`station ${station.local.target.id} using ${server}; data in ${dataDir}; packages in ${station.root}` +
    `${allowCommands ? '; commands allowed' : '; commands not allowed (use --allow-commands)'}\n`);
  let docking: DockManager | null = null;
  if (serialPaths.length > 0 || usb.length > 0) {
    docking = new DockManager(station, {
      serialPaths, usb, serial: { baudRate },
      log: (line) => report({ type: 'log', targetId: station.local.target.id, level: 'info', message: line }),
    });
    closers.unshift(() => docking!.stop());
    await docking.start();
    process.stdout.write(`watching ${[...serialPaths, ...usb.map((u) => `usb ${u.vendorId.toString(16).padStart(4, '0')}:${u.productId?.toString(16).padStart(4, '0') ?? '*'}`)].join(', ')}\n`);
  }

  let code = 0;
  try {
    if (values.once) {
      await station.runUntilIdle();
      const problems = station.problems();
      if (problems.length > 0) {
        process.stderr.write(`dockhand station: ${problems[problems.length - 1]}${problems.length > 1 ? ` (and ${problems.length - 1} more problem(s); see the log above)` : ''}\n`);
        code = 1;
      }
    } else {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      await station.run(stop.signal);
      process.stdout.write('stopping: tasks and checkpoints are saved\n');
    }
  } finally {
    for (const c of closers) await c();
    station.close();
  }
  return code;
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

/** A technician accepts an optional package: it is scheduled like a required one. */
export function acceptPackage(store: ClientStore, packageId: string, now: number): string {
  const pkg = store.package(packageId);
  if (!pkg) throw new Error(`no package ${packageId} is known to this station; \`dockhand station status\` lists them`);
  store.updatePackage(packageId, { accepted: true, ...(pkg.state === 'awaiting-acceptance' ? { state: 'scheduled' as const } : {}) }, now);
  return `accepted ${pkg.name ?? packageId}`;
}
