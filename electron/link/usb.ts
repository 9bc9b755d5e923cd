// USB link devices: the one module that imports node-usb (`usb`, its WebUSB API). The transport and the
// hotplug watcher are written against the WebUSB shapes in usb-types.ts, so tests run them on the in-memory
// device in test/helpers/webusb-fake.ts; this file only supplies the real WebUSB object by default.
//
// node-usb is loaded on first use, not at import: a station on a platform without its prebuilt binary
// still runs with serial links, and says why USB is missing.
import type { Transport } from './transport.js';
import { openUsbTransport, type UsbTransportOptions } from './usb-transport.js';
import type { UsbDeviceLike, WebUsbLike } from './usb-types.js';
import { watchUsbDevicesWith, type UsbWatchOptions, type UsbWatcher } from './usb-watch.js';

export { openUsbTransport, type UsbTransportOptions };
export type { UsbWatcher, UsbWatcherState } from './usb-watch.js';
export { describeUsbDevice, matchesUsbFilters, usbId, usbLabel } from './usb-types.js';
export type { UsbDeviceLike, UsbIdFilter, WebUsbLike } from './usb-types.js';
export { findVendorInterface, VENDOR_SPECIFIC_CLASS } from './usb-endpoints.js';

let shared: Promise<WebUsbLike> | undefined;

/**
 * node-usb's WebUSB object, allowing every device: the station picks its devices by VID/PID itself, and
 * node-usb's own allow-list only exists to mimic a browser's permission prompt.
 */
export function nodeWebUsb(): Promise<WebUsbLike> {
  shared ??= import('usb').then((m) => new m.WebUSB({ allowAllDevices: true }) as unknown as WebUsbLike);
  return shared;
}

export type WatchUsbDevicesOptions = Omit<UsbWatchOptions, 'webusb'> & { webusb?: UsbWatchOptions['webusb'] };

/** Reports matching USB devices present now and as they come and go; see usb-watch.ts. */
export function watchUsbDevices(opts: WatchUsbDevicesOptions): UsbWatcher {
  return watchUsbDevicesWith({ ...opts, webusb: opts.webusb ?? nodeWebUsb });
}

/** Opens a device found by the watcher, hearing its unplug through the same WebUSB object. */
export async function openWatchedUsbDevice(device: UsbDeviceLike, opts: UsbTransportOptions = {}): Promise<Transport> {
  return openUsbTransport(device, { ...opts, usb: opts.usb ?? (await nodeWebUsb()) });
}
