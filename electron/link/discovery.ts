// Serial-port discovery and hotplug. Two sources, polled every ~1.5 s (serial ports raise no events the
// station can portably hear):
//  - the system's port list (SerialPort.list(), injected as `list`), keeping only ports whose USB
//    vendor/product ID matches a `--usb VID:PID` filter. With no filter nothing is taken from the list: a
//    station must not start talking to every modem and GPS receiver plugged into it.
//  - explicit `--port` paths, present while the path exists. Pseudo-terminals and many on-board UARTs are
//    never listed, so an explicit path does not depend on the list at all.
// A listing that fails (no udevadm, a busy system) changes nothing and is logged once per distinct error;
// a path listed and also given explicitly (a /dev/serial/by-id link) is reported once, under the explicit
// name.
import { realpath, stat } from 'node:fs/promises';
import { listedUsbId } from './discovery-usb-id.js';
import { errorText } from './usb-errors.js';
import { matchesUsbFilters, type UsbIdFilter } from './usb-types.js';

export { parseUsbId, parseUsbIds, UsbIdFormatError } from './discovery-usb-id.js';

/** The fields of serialport's PortInfo that discovery reads. */
export interface SerialPortInfo {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

export type ListSerialPorts = () => Promise<SerialPortInfo[]>;

export interface DiscoveredPort {
  path: string;
  /** 'usb': found in the port list by a VID:PID filter; 'path': an explicit path that exists. */
  via: 'usb' | 'path';
  vendorId?: number;
  productId?: number;
  serialNumber?: string;
  manufacturer?: string;
}

export interface SerialDiscoveryOptions {
  usb: readonly UsbIdFilter[];
  paths: readonly string[];
  list: ListSerialPorts;
  onAttach: (port: DiscoveredPort) => void;
  onDetach: (port: DiscoveredPort) => void;
  /** Poll period (default 1500 ms). */
  intervalMs?: number;
  /** Whether an explicit path is present (default: it can be stat()ed, following links). */
  exists?: (path: string) => Promise<boolean>;
  /** Resolves links, to spot a listed port that is also given explicitly (default fs.realpath). */
  resolve?: (path: string) => Promise<string>;
  log?: (line: string) => void;
}

export interface SerialDiscovery {
  /** Resolves after the first scan reported what is present. */
  readonly ready: Promise<void>;
  /** Looks now (polling calls this); concurrent calls share one scan. */
  scan(): Promise<void>;
  ports(): DiscoveredPort[];
  close(): void;
}

const defaultExists = async (p: string) => {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
};
const defaultResolve = (p: string) => realpath(p);

/** Same port, same device behind it: a different serial number at the same path is a swap. */
const identity = (p: DiscoveredPort) => `${p.via}|${p.vendorId ?? ''}|${p.productId ?? ''}|${p.serialNumber ?? ''}`;

export function watchSerialPorts(opts: SerialDiscoveryOptions): SerialDiscovery {
  const exists = opts.exists ?? defaultExists;
  const resolve = opts.resolve ?? defaultResolve;
  const log = opts.log ?? (() => undefined);
  const present = new Map<string, DiscoveredPort>();
  let listed = new Map<string, DiscoveredPort>(); // the last good listing, kept when a listing fails
  let lastListError: string | undefined;
  let closed = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const notify = (what: 'attach' | 'detach', port: DiscoveredPort) => {
    try {
      (what === 'attach' ? opts.onAttach : opts.onDetach)(port);
    } catch (err) {
      log(`serial discovery: the ${what} handler failed for ${port.path}: ${errorText(err)}`);
    }
  };

  const readList = async () => {
    if (opts.usb.length === 0) return;
    let ports: SerialPortInfo[];
    try {
      ports = await opts.list();
    } catch (err) {
      const msg = errorText(err);
      if (msg !== lastListError) log(`serial discovery: could not list serial ports (${msg}); explicit --port paths are still watched`);
      lastListError = msg;
      return;
    }
    if (lastListError !== undefined) log('serial discovery: listing serial ports works again');
    lastListError = undefined;
    const next = new Map<string, DiscoveredPort>();
    for (const p of ports) {
      const vendorId = listedUsbId(p.vendorId);
      const productId = listedUsbId(p.productId);
      if (vendorId === undefined || productId === undefined || !matchesUsbFilters({ vendorId, productId }, opts.usb)) continue;
      const port: DiscoveredPort = { path: p.path, via: 'usb', vendorId, productId };
      if (p.serialNumber) port.serialNumber = p.serialNumber;
      if (p.manufacturer) port.manufacturer = p.manufacturer;
      next.set(p.path, port);
    }
    listed = next;
  };

  const scanOnce = async () => {
    await readList();
    const now = new Map<string, DiscoveredPort>();
    const explicitTargets = new Set<string>();
    for (const path of opts.paths) {
      if (!(await exists(path))) continue;
      now.set(path, { path, via: 'path' });
      explicitTargets.add(path);
      explicitTargets.add(await resolve(path).catch(() => path));
    }
    for (const [path, port] of listed) {
      if (!explicitTargets.has(path) && !now.has(path)) now.set(path, port);
    }
    if (closed) return;
    for (const [path, was] of [...present]) {
      const is = now.get(path);
      if (!is || identity(is) !== identity(was)) {
        present.delete(path);
        notify('detach', was);
      }
    }
    for (const [path, port] of now) {
      if (present.has(path)) continue;
      present.set(path, port);
      notify('attach', port);
    }
  };

  const scan = () => {
    running ??= scanOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  const loop = async () => {
    await scan().catch((err: unknown) => log(`serial discovery: a scan failed: ${errorText(err)}`));
    if (!closed) timer = setTimeout(() => void loop(), opts.intervalMs ?? 1500);
  };
  const ready = loop();

  return {
    ready,
    scan,
    ports: () => [...present.values()],
    close() {
      closed = true;
      clearTimeout(timer);
      present.clear();
    },
  };
}
