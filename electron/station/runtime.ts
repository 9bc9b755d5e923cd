// A running station with everything around it: its config file, the demo server when no server is
// configured, the engine loop, docking, and the station service the UI talks to. The CLI, the web console
// and the Electron main process all start a station through here.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { EngineEvent } from '../../shared/model/events.js';
import type { StationSettings } from '../../shared/contract/station-api.js';
import { Station } from './station.js';
import { StationService } from './service.js';
import { DockManager } from './docking.js';
import { readConfig, StationConfigSchema, writeConfig, type StationConfig } from './config.js';
import { parseUsbIds } from '../link/discovery.js';
import { claimDataFolder } from './data-folder.js';

export interface RuntimeOptions {
  dataDir: string;
  server?: string;
  root?: string;
  id?: string;
  allowCommands?: boolean;
  /** Added to station.json's allowPrograms. */
  allowPrograms?: string[];
  rateLimit?: number;
  bandwidth?: 'auto' | 'low' | 'high';
  concurrency?: number;
  serialPaths?: string[];
  baudRate?: number;
  usb?: string[];
  /** Field-kit profiles from --profile NAME=DEVICE-ID; a name given here replaces station.json's. */
  profiles?: Array<{ name: string; device: string }>;
  /** Start the engine loop (default). `false` for `--once`, which runs until idle itself. */
  loop?: boolean;
  emit?: (e: EngineEvent) => void;
  log?: (line: string) => void;
}

export interface StationRuntime {
  station: Station;
  service: StationService;
  serverUrl: string;
  demo: boolean;
  config: StationConfig;
  docking: DockManager | null;
  stop(): Promise<void>;
}

const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

/** `http://host:port` or a full URL → the device endpoint URL. */
export function deviceEndpoint(server: string): string {
  if (!/^https?:\/\//i.test(server)) throw new Error(`the server must be an http:// or https:// URL, not '${server}'`);
  return new URL(server).pathname === '/' ? new URL('/devicemgmt/server.aspx', server).toString() : server;
}

export async function startStationRuntime(opts: RuntimeOptions): Promise<StationRuntime> {
  const dataDir = path.resolve(opts.dataDir);
  const log = opts.log ?? (() => undefined);
  const fileConfig = readConfig(dataDir);
  // Options given now win over the config file; what the UI changes is written back to it.
  let config: StationConfig = {
    ...fileConfig,
    ...(opts.server !== undefined ? { server: opts.server } : {}),
    ...(opts.allowCommands !== undefined ? { allowCommands: opts.allowCommands } : {}),
    ...(opts.rateLimit !== undefined ? { rateLimit: opts.rateLimit } : {}),
    ...(opts.bandwidth !== undefined ? { bandwidth: opts.bandwidth } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.baudRate !== undefined ? { baudRate: opts.baudRate } : {}),
    allowPrograms: [...new Set([...fileConfig.allowPrograms, ...(opts.allowPrograms ?? [])])],
    serialPorts: [...new Set([...fileConfig.serialPorts, ...(opts.serialPaths ?? [])])],
    usb: [...new Set([...fileConfig.usb, ...(opts.usb ?? [])])],
    profiles: mergeProfiles(fileConfig.profiles, opts.profiles ?? []),
  };
  const usbFilters = () => parseUsbIds(config.usb);
  usbFilters(); // refuse a bad filter before anything starts

  const closers: Array<() => Promise<void>> = [];
  let serverUrl = config.server ? deviceEndpoint(config.server) : '';
  const demo = !serverUrl;
  if (demo) {
    const { startDemoServer } = await import('../../server/demo.js');
    const server = await startDemoServer(path.join(dataDir, 'demo-server'));
    closers.push(() => server.close());
    serverUrl = `${server.url}/devicemgmt/server.aspx`;
    log(`no server configured: running the bundled reference server with a DEMO catalog at ${server.url}`);
  }

  let service: StationService | null = null;
  const station = await Station.open({
    dataDir, server: serverUrl, ...(opts.root ? { root: path.resolve(opts.root) } : {}), ...(opts.id ? { id: opts.id } : {}),
    allowCommands: config.allowCommands, allowPrograms: config.allowPrograms, rateLimit: config.rateLimit,
    maxUndeclaredDownloadBytes: config.maxUndeclaredDownloadBytes, bandwidth: config.bandwidth, concurrency: config.concurrency,
    profiles: config.profiles, ...(config.defaultProfile ? { defaultProfile: config.defaultProfile } : {}),
    emit: (e) => {
      opts.emit?.(e);
      service?.onEngineEvent(e);
    },
  }).catch(async (err) => {
    for (const c of closers) await c();
    throw err;
  });

  let docking: DockManager | null = null;
  const startDocking = async () => {
    await docking?.stop();
    docking = null;
    if (config.serialPorts.length === 0 && config.usb.length === 0) return;
    docking = new DockManager(station, { serialPaths: config.serialPorts, usb: usbFilters(), serial: { baudRate: config.baudRate }, log });
    await docking.start();
  };

  const settings = (): StationSettings => ({
    server: station.local.store.get('server') ?? serverUrl, pollIntervalMs: station.local.settings().pollIntervalMs,
    rateLimit: config.rateLimit, allowCommands: config.allowCommands, serialPorts: config.serialPorts, baudRate: config.baudRate,
    usb: config.usb, concurrency: config.concurrency, profiles: config.profiles, defaultProfile: config.defaultProfile ?? '',
  });
  const save = (next: StationConfig) => {
    config = next;
    writeConfig(dataDir, config);
  };

  service = new StationService(station, {
    settings,
    info: () => ({ id: station.local.target.id, version: VERSION, demo, dataDir, root: station.root }),
    updateSettings: async (change) => {
      const next: StationConfig = { ...config };
      if (change.rateLimit !== undefined) {
        next.rateLimit = change.rateLimit;
        station.limiter.setRate(change.rateLimit);
      }
      if (change.allowCommands !== undefined) {
        next.allowCommands = change.allowCommands;
        station.local.opts.allowCommands = change.allowCommands;
      }
      if (change.concurrency !== undefined) next.concurrency = change.concurrency;
      if (change.baudRate !== undefined) next.baudRate = change.baudRate;
      if (change.usb !== undefined) {
        parseUsbIds(change.usb);
        next.usb = change.usb;
      }
      if (change.serialPorts !== undefined) next.serialPorts = change.serialPorts;
      if (change.profiles !== undefined || change.defaultProfile !== undefined) {
        // Checked like station.json (names unique, device IDs usable); the field kit follows at once.
        const checked = StationConfigSchema.pick({ profiles: true, defaultProfile: true }).parse({
          profiles: change.profiles ?? next.profiles, defaultProfile: (change.defaultProfile ?? next.defaultProfile) || undefined,
        });
        next.profiles = checked.profiles;
        if (checked.defaultProfile) next.defaultProfile = checked.defaultProfile;
        else delete next.defaultProfile;
        station.opts.profiles = next.profiles;
        station.opts.defaultProfile = next.defaultProfile;
      }
      if (change.server !== undefined && change.server !== settings().server) {
        next.server = deviceEndpoint(change.server);
        station.setServer(next.server); // every session, the known devices' too, and each polls at once
      }
      const relink = next.baudRate !== config.baudRate || next.usb.join() !== config.usb.join() || next.serialPorts.join() !== config.serialPorts.join();
      const newServer = next.server !== config.server ? next.server : undefined;
      save(next);
      if (relink) await startDocking();
      return `settings saved${change.concurrency !== undefined ? '; the new concurrency applies at the next start' : ''}` +
        `${newServer ? `; polling ${newServer} now` : ''}`;
    },
    addSerialPort: async (p) => {
      if (config.serialPorts.includes(p)) return `${p} is already watched`;
      save({ ...config, serialPorts: [...config.serialPorts, p] });
      await startDocking();
      return `watching ${p}`;
    },
    forgetSerialPort: async (p) => {
      if (!config.serialPorts.includes(p)) throw new Error(`${p} is not one of the station's serial ports`);
      save({ ...config, serialPorts: config.serialPorts.filter((x) => x !== p) });
      await startDocking();
      return `no longer watching ${p}`;
    },
  });

  await startDocking();
  const abort = new AbortController();
  const loop = opts.loop === false ? Promise.resolve() : station.run(abort.signal);
  let stopped = false;
  return {
    station, service, serverUrl, demo, config, get docking() { return docking; },
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      await loop;
      station.kit.close(); // a refresh under way stops; the kit keeps what it had
      await station.kit.idle();
      await docking?.stop();
      service?.close();
      station.close();
      for (const c of closers) await c();
    },
  };
}

/** Profiles from --profile replace station.json's of the same name; the file's order is kept, new ones follow. */
function mergeProfiles(file: StationConfig['profiles'], given: StationConfig['profiles']): StationConfig['profiles'] {
  const byName = new Map(given.map((p) => [p.name, p]));
  return [...file.map((p) => byName.get(p.name) ?? p), ...given.filter((p) => !file.some((f) => f.name === p.name))];
}

/**
 * The desktop app's start: it takes the data folder's lock first, as the CLI does, so the app and a
 * `dockhand station` never run two engines on one folder (two writers would each send the same outbox and
 * resume the same downloads). The lock goes when the station stops, or when it could not start.
 */
export async function startClaimedStationRuntime(opts: RuntimeOptions): Promise<StationRuntime> {
  const release = claimDataFolder(opts.dataDir);
  let runtime: StationRuntime;
  try {
    runtime = await startStationRuntime(opts);
  } catch (err) {
    release();
    throw err;
  }
  const stop = runtime.stop.bind(runtime);
  return {
    ...runtime,
    async stop() {
      try {
        await stop();
      } finally {
        release();
      }
    },
  };
}
