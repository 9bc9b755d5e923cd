// Hotplug for USB link devices: the devices present at start (`getDevices()`), then WebUSB `connect` /
// `disconnect` events, filtered by vendor/product ID, and a look at the device list every few seconds.
//
// The events alone are not enough. They come from the kernel's uevents over a netlink socket, and a burst
// of them (a driver loaded, a gadget bound, a hub with several devices) can overflow that socket; an event
// lost there is never raised again. A gadget that bound in the QEMU guest right after dummy_hcd was loaded
// was never docked, while its agent was listening, most likely for that reason. So the watcher also compares the device
// list with what it knows: a device listed but never announced is reported then; a device missing from two
// lists in a row whose unplug was not heard is reported gone (two, so that one listing that skipped a
// device busy enumerating cannot cut a transfer).
//
// A machine without a USB bus (CI, containers) makes node-usb's getDevices() reject. That is "no devices",
// logged once. The watcher then does not subscribe to events at all: node-usb's addEventListener starts a
// getDevices() of its own whose rejection nobody can catch, which would take the whole process down.
import { errorText } from './usb-errors.js';
import { describeUsbDevice, matchesUsbFilters, type UsbConnectionEventLike, type UsbDeviceLike, type UsbIdFilter, type WebUsbLike } from './usb-types.js';

export type UsbWatcherState = 'starting' | 'watching' | 'no-usb' | 'closed';

export interface UsbWatchOptions {
  /** Devices to report; an empty list reports none (see matchesUsbFilters). */
  filters: readonly UsbIdFilter[];
  onConnect: (device: UsbDeviceLike) => void;
  onDisconnect: (device: UsbDeviceLike) => void;
  /** The WebUSB object, or how to get it (electron/link/usb.ts passes node-usb's). */
  webusb: WebUsbLike | (() => Promise<WebUsbLike>);
  /** Milliseconds between looks at the device list, for events the OS did not deliver (default 2000). */
  rescanMs?: number;
  log?: (line: string) => void;
}

export interface UsbWatcher {
  /** Resolves once the devices present at start have been reported (or USB turned out to be absent). */
  readonly ready: Promise<void>;
  readonly state: UsbWatcherState;
  /** Why there are no USB devices, when state is 'no-usb'. */
  readonly problem: string | undefined;
  /** The matching devices attached now. */
  devices(): UsbDeviceLike[];
  close(): void;
}

/**
 * node-usb makes a new device object per getDevices() call but keeps one per `handle` for its events;
 * a browser keeps one object per device. Keying on the handle when there is one covers both.
 *
 * The key is read once per object and kept: node-usb refuses even `handle` (a synchronous throw) while a
 * release or close of that device is under way, which is exactly when its `disconnect` event may come in.
 */
const keys = new WeakMap<object, string>();
let nextIdentity = 0;
function deviceKey(device: UsbDeviceLike): string {
  const kept = keys.get(device);
  if (kept !== undefined) return kept;
  let handle: unknown;
  try {
    handle = (device as { handle?: unknown }).handle;
  } catch {
    handle = undefined;
  }
  nextIdentity += 1;
  const key = typeof handle === 'string' || typeof handle === 'number' ? `handle:${handle}` : `object:${nextIdentity}`;
  keys.set(device, key);
  return key;
}

/** The device's name for a log line; a device being released may refuse even its IDs. */
function describe(device: UsbDeviceLike): string {
  try {
    return describeUsbDevice(device);
  } catch {
    return 'a USB device';
  }
}

export function watchUsbDevicesWith(opts: UsbWatchOptions): UsbWatcher {
  const known = new Map<string, UsbDeviceLike>();
  let state: UsbWatcherState = 'starting';
  let problem: string | undefined;
  let usb: WebUsbLike | undefined;
  let rescanTimer: NodeJS.Timeout | undefined;
  /** Devices known but missing from the last listing: gone when the next listing misses them too. */
  let missingOnce = new Set<string>();
  const log = opts.log ?? (() => undefined);

  const call = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      log(`USB watcher: the ${what} handler failed: ${errorText(err)}`);
    }
  };
  /** Reports a matching device not known yet; true when it was reported. */
  const add = (device: UsbDeviceLike): boolean => {
    if (state === 'closed' || !matchesUsbFilters(device, opts.filters)) return false;
    const key = deviceKey(device);
    if (known.has(key)) return false;
    known.set(key, device);
    call('connect', () => opts.onConnect(device));
    return true;
  };
  const remove = (device: UsbDeviceLike) => {
    const key = deviceKey(device);
    const was = known.get(key);
    if (state === 'closed' || !was) return;
    known.delete(key);
    call('disconnect', () => opts.onDisconnect(was));
  };
  // Whatever a listener throws would surface as an uncaught exception (EventTarget's rule): keep it here.
  const guarded = (what: string, fn: (device: UsbDeviceLike) => void) => (event: Event) => {
    try {
      fn((event as UsbConnectionEventLike).device);
    } catch (err) {
      log(`USB watcher: a ${what} event could not be handled: ${errorText(err)}`);
    }
  };
  const onConnectEvent = guarded('connect', add);
  const onDisconnectEvent = guarded('disconnect', remove);

  /** One look at the device list: catches up with connect and disconnect events that never came. */
  let rescanning = false;
  const rescan = async () => {
    if (rescanning || state !== 'watching' || !usb) return;
    rescanning = true;
    try {
      const listed = await usb.getDevices();
      if (state !== 'watching') return;
      const listedKeys = new Set(listed.map(deviceKey));
      for (const device of listed) {
        if (add(device)) log(`USB: ${describe(device)} found in the device list; its plug-in event never came`);
      }
      const missing = new Set([...known.keys()].filter((key) => !listedKeys.has(key)));
      for (const key of missing) {
        const device = known.get(key);
        if (!missingOnce.has(key) || !device) continue;
        log(`USB: ${describe(device)} is no longer in the device list; its unplug event never came`);
        remove(device);
        missing.delete(key);
      }
      missingOnce = missing;
    } catch {
      // A listing that failed says nothing about the devices; the next one will.
    } finally {
      rescanning = false;
    }
  };

  const noUsb = (why: string) => {
    if (state === 'closed') return;
    problem = why;
    state = 'no-usb';
    log(`USB: ${why}; USB devices will not be detected (serial ports still are)`);
  };

  const start = async () => {
    try {
      usb = typeof opts.webusb === 'function' ? await opts.webusb() : opts.webusb;
    } catch (err) {
      return noUsb(`USB support could not be loaded (${errorText(err)})`);
    }
    let present: UsbDeviceLike[];
    try {
      present = await usb.getDevices();
    } catch (err) {
      return noUsb(`no USB bus is reachable (${errorText(err)})`);
    }
    if (state === 'closed') return;
    usb.addEventListener('connect', onConnectEvent);
    usb.addEventListener('disconnect', onDisconnectEvent);
    state = 'watching';
    present.forEach(add);
    // A device plugged in between the first look and the subscription raised no event: look once more.
    try {
      (await usb.getDevices()).forEach(add);
    } catch {
      // the first look worked; events will carry on
    }
    const every = opts.rescanMs ?? 2000;
    if (every > 0 && state === 'watching') {
      rescanTimer = setInterval(() => void rescan(), every);
      rescanTimer.unref();
    }
  };

  const ready = start().catch((err: unknown) => noUsb(`the USB watcher failed (${errorText(err)})`));

  return {
    ready,
    get state() {
      return state;
    },
    get problem() {
      return problem;
    },
    devices: () => [...known.values()],
    close() {
      if (state === 'closed') return;
      state = 'closed';
      clearInterval(rescanTimer);
      usb?.removeEventListener('connect', onConnectEvent);
      usb?.removeEventListener('disconnect', onDisconnectEvent);
      known.clear();
    },
  };
}
