// Docking: watches the bench's serial ports and USB devices, opens a link to whatever appears, and hands
// each device that answers the hello to the station as a target of its own. When a link goes away
// (unplugged, bye, dead peer) the device is undocked; when the port comes back it docks again and its
// waiting work resumes.
//
//   --serial PATH[,PATH…]  explicit ports (a pseudo-terminal, /dev/ttyGS0, /dev/serial/by-id/…)
//   --usb VID:PID          USB devices: USB-serial adapters found in the system's port list, and devices with
//                          a vendor-specific interface (bulk IN/OUT) opened through WebUSB. A device whose
//                          interface a kernel driver holds (a USB-serial adapter) cannot be claimed over
//                          WebUSB and is reached through its serial port instead.
//
// A link that closes while its port or USB device is still there (the agent restarted, a dead peer, a USB
// fault on a device that stayed plugged in) is tried again after a pause, for serial ports and USB devices
// alike; one that is gone waits for the device to come back.
import type { Transport } from '../link/transport.js';
import type { DeviceLink } from '../link/device-link.js';
import { openDeviceLink } from '../link/link-client.js';
import { listSerialPorts, openSerialTransport, type SerialSettings } from '../link/serial.js';
import { watchSerialPorts, type SerialDiscovery } from '../link/discovery.js';
import { openWatchedUsbDevice, usbLabel, watchUsbDevices, type UsbDeviceLike, type UsbIdFilter, type UsbWatcher, type WebUsbLike } from '../link/usb.js';
import { describeError } from '../../shared/model/errors.js';
import type { Station } from './station.js';

export interface DockingOptions {
  serialPaths: string[];
  serial: SerialSettings;
  usb: UsbIdFilter[];
  /** Seconds between attempts on a port that is present but whose device does not answer. */
  retryMs?: number;
  /** The WebUSB object to find USB devices with (default node-usb's; tests pass a double). */
  webusb?: WebUsbLike;
  log: (line: string) => void;
}

export class DockManager {
  private serial: SerialDiscovery | null = null;
  private usbWatcher: UsbWatcher | null = null;
  private readonly links = new Map<string, DeviceLink>();
  /**
   * The USB devices present, with their keys (labels) read when they arrived: node-usb refuses to read a
   * device's IDs while a transfer or a close holds it, which is when its unplug is reported.
   */
  private readonly usbDevices = new Map<UsbDeviceLike, string>();
  private readonly opening = new Set<string>();
  private closed = false;

  constructor(private readonly station: Station, private readonly opts: DockingOptions) {}

  /** Starts watching; resolves once the ports present at start were tried. */
  async start(): Promise<void> {
    const { opts } = this;
    if (opts.serialPaths.length > 0 || opts.usb.length > 0) {
      this.serial = watchSerialPorts({
        paths: opts.serialPaths, usb: opts.usb, list: listSerialPorts, log: opts.log,
        onAttach: (port) => void this.openPort(port.path, 'serial', () => openSerialTransport(port.path, opts.serial)),
        onDetach: (port) => void this.links.get(port.path)?.close('the port went away (unplugged)'),
      });
      await this.serial.ready;
    }
    if (opts.usb.length > 0) {
      this.usbWatcher = watchUsbDevices({
        filters: opts.usb, log: opts.log, ...(opts.webusb ? { webusb: opts.webusb } : {}),
        onConnect: (device: UsbDeviceLike) => {
          const key = usbLabel(device);
          this.usbDevices.set(device, key);
          this.openUsb(key, device);
        },
        onDisconnect: (device: UsbDeviceLike) => {
          const key = this.usbDevices.get(device);
          this.usbDevices.delete(device);
          if (key !== undefined) void this.links.get(key)?.close('the USB device was unplugged');
        },
      });
      await this.usbWatcher.ready;
    }
    await this.settled();
  }

  /** Waits until no port is in the middle of its hello. */
  async settled(): Promise<void> {
    while (this.opening.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private async openPort(key: string, kind: 'serial' | 'usb', open: () => Promise<Transport>): Promise<void> {
    if (this.closed || this.opening.has(key) || this.links.has(key)) return;
    this.opening.add(key);
    let transport: Transport | null = null;
    try {
      transport = await open();
      const link = await openDeviceLink(transport);
      if (this.closed) {
        await link.close('the station is stopping');
        return;
      }
      this.links.set(key, link);
      link.onClose(() => {
        this.links.delete(key);
        this.retry(key, this.opts.retryMs ?? 1000);
      });
      this.station.dock(link);
    } catch (err) {
      // A device that answered but was refused (its ID is docked elsewhere) is named as such.
      this.opts.log(this.links.has(key) ? describeError(err) : `no device answered on ${key}: ${describeError(err)}; trying again when it reappears`);
      await transport?.close().catch(() => undefined);
      // A serial port that would not open may be busy for a moment; a USB device that could not be opened
      // or claimed (a kernel driver holds it, it has no link interface, access is denied) stays that way
      // until it is plugged in again. One that opened but did not answer the hello is tried again.
      if (kind === 'serial' || transport) this.retry(key, this.opts.retryMs ?? 3000);
    } finally {
      this.opening.delete(key);
    }
  }

  /** After a pause, opens `key` again if its port or USB device is still present (and not open already). */
  private retry(key: string, afterMs: number): void {
    setTimeout(() => {
      if (this.closed) return;
      if (this.serial?.ports().some((p) => p.path === key)) {
        void this.openPort(key, 'serial', () => openSerialTransport(key, this.opts.serial));
        return;
      }
      // node-usb hands out a new device object per plug-in: reopen the one present now.
      const device = [...this.usbDevices].find(([, k]) => k === key)?.[0];
      if (device) this.openUsb(key, device);
    }, afterMs).unref();
  }

  private openUsb(key: string, device: UsbDeviceLike): void {
    const usb = this.opts.webusb;
    void this.openPort(key, 'usb', () => openWatchedUsbDevice(device, usb ? { usb } : {}));
  }

  /** Docked links, by port. */
  docked(): DeviceLink[] {
    return [...this.links.values()];
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.serial?.close();
    this.usbWatcher?.close();
    await this.settled();
    await Promise.all([...this.links.values()].map((l) => l.close('the station is stopping').catch(() => undefined)));
    this.links.clear();
  }
}
