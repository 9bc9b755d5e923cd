// A Transport over a USB device's vendor-specific interface: one bulk IN endpoint read in a loop, one bulk
// OUT endpoint written in chunks. The link protocol above frames and checks every byte, so this layer only
// moves bytes, keeps them in order, and notices promptly when the device is gone.
//
// Device-side contract for firmware authors: the interface is class 0xFF with exactly one bulk IN and one
// bulk OUT endpoint, and the device ends each bulk IN write with a short or zero-length packet (the station
// does the same on OUT). A read asks for many packets at once for throughput; without the terminating short
// packet it would only complete when full, and node-usb drops a read's partial data when it times out.
import { DockhandError } from '../../shared/model/errors.js';
import type { Transport } from './transport.js';
import { TransportEvents } from './transport-events.js';
import { findVendorInterface, type VendorInterfaceChoice } from './usb-endpoints.js';
import { classifyUsbError, errorText } from './usb-errors.js';
import { UsbWriteQueue } from './usb-write-queue.js';
import { describeUsbDevice, usbLabel, type UsbConnectionEventLike, type UsbDeviceLike, type WebUsbLike } from './usb-types.js';

export interface UsbTransportOptions {
  /** Use this interface number (default: the first vendor-specific one with a bulk IN/OUT pair). */
  interfaceNumber?: number;
  /** Packets asked for per read (default 32: 2 KiB at full speed, 16 KiB at high speed). */
  packetsPerRead?: number;
  /** Largest single transferOut (default 32 packets). */
  packetsPerWrite?: number;
  /** node-usb's per-read timeout; a read that times out is retried (default 1000 ms). */
  readTimeoutMs?: number;
  /** A write the device has not accepted after this long closes the transport (default 10 s). */
  writeTimeoutMs?: number;
  /** The WebUSB object the device came from, to hear its `disconnect` event as soon as the OS reports it. */
  usb?: WebUsbLike;
  /** Stalls in a row (without data between) before the endpoint is given up on (default 3). */
  maxStalls?: number;
  log?: (line: string) => void;
}

export async function openUsbTransport(device: UsbDeviceLike, opts: UsbTransportOptions = {}): Promise<Transport> {
  const who = describeUsbDevice(device);
  const step = async (doing: string, run: () => Promise<void>, hint = '') => {
    try {
      await run();
    } catch (err) {
      const gone = classifyUsbError(err) === 'gone';
      const words = gone ? `the ${who} was unplugged while ${doing}` : `${doing} failed on the ${who}: ${errorText(err)}${hint ? ` (${hint})` : ''}`;
      throw new DockhandError('LINK', words, { transient: true, cause: err });
    }
  };
  if (!device.opened) await step('opening it', () => device.open(), 'on Linux, check the udev rule that grants access');
  let choice: VendorInterfaceChoice;
  try {
    choice = findVendorInterface(device, { interfaceNumber: opts.interfaceNumber });
  } catch (err) {
    await device.close().catch(() => undefined);
    throw err;
  }
  const active = (() => {
    try {
      return device.configuration?.configurationValue;
    } catch {
      return undefined;
    }
  })();
  try {
    if (active !== choice.configurationValue) {
      await step(`selecting configuration ${choice.configurationValue}`, () => device.selectConfiguration(choice.configurationValue));
    }
    await step(`claiming interface ${choice.interfaceNumber}`, () => device.claimInterface(choice.interfaceNumber),
      'is another program, or a kernel driver such as a USB-serial one, using it?');
    if (choice.alternateSetting !== 0) {
      await step(`selecting alternate setting ${choice.alternateSetting}`, () =>
        device.selectAlternateInterface(choice.interfaceNumber, choice.alternateSetting));
    }
  } catch (err) {
    await device.close().catch(() => undefined);
    throw err;
  }
  return new UsbTransport(device, choice, opts);
}

class UsbTransport implements Transport {
  readonly label: string;
  private readonly who: string;
  private readonly events = new TransportEvents(true);
  private readonly writes: UsbWriteQueue;
  private released: Promise<void> = Promise.resolve();
  /** Transfers handed to the device and not settled yet (node-usb cannot release the device meanwhile). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly readSize: number;
  private readonly writeChunk: number;
  private readonly onDisconnect: (event: Event) => void;

  /** The device's node-usb handle, read now: later it may be busy (see sameDevice). */
  private readonly handle: unknown;

  constructor(private readonly device: UsbDeviceLike, private readonly choice: VendorInterfaceChoice, private readonly opts: UsbTransportOptions) {
    this.handle = readHandle(device);
    this.label = usbLabel(device);
    this.who = describeUsbDevice(device);
    this.readSize = choice.inEndpoint.packetSize * Math.max(1, opts.packetsPerRead ?? 32);
    this.writeChunk = choice.outEndpoint.packetSize * Math.max(1, opts.packetsPerWrite ?? 32);
    this.writes = new UsbWriteQueue((bytes) => this.writeNow(bytes), this.writeChunk);
    this.onDisconnect = (event) => {
      const gone = (event as UsbConnectionEventLike).device;
      if (gone === device || sameDevice(gone, this.handle)) this.finish(`the ${this.who} was unplugged`);
    };
    opts.usb?.addEventListener('disconnect', this.onDisconnect);
    this.readLoop().catch((err: unknown) => this.finish(`the USB link failed on received data (${errorText(err)})`));
  }

  get closed(): boolean {
    return this.events.closedReason !== undefined;
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.events.onData(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.events.onClose(listener);
  }

  write(bytes: Uint8Array): Promise<void> {
    return this.writes.write(bytes);
  }

  async close(): Promise<void> {
    this.finish('the station closed the USB link');
    await this.released;
  }

  private refuse(): DockhandError {
    return new DockhandError('LINK', `cannot send to the ${this.who}: ${this.events.closedReason ?? 'the link is closed'}`, { transient: true });
  }

  private async writeNow(bytes: Uint8Array): Promise<void> {
    if (this.closed) throw this.refuse();
    const ep = this.choice.outEndpoint;
    for (let at = 0; at < bytes.length; at += this.writeChunk) {
      await this.sendChunk(bytes.subarray(at, Math.min(bytes.length, at + this.writeChunk)));
    }
    // A write that fills whole packets gets a zero-length packet, so a device reading with a large buffer
    // sees where it ends (the device-side contract at the top of this file).
    if (bytes.length === 0 || bytes.length % ep.packetSize === 0) await this.sendChunk(new Uint8Array(0));
  }

  private async sendChunk(chunk: Uint8Array): Promise<void> {
    const ep = this.choice.outEndpoint.endpointNumber;
    const timeout = this.opts.writeTimeoutMs ?? 10_000;
    let rest = chunk;
    for (let stalls = 0; ; ) {
      if (this.closed) throw this.refuse();
      let kind: string;
      let detail: string;
      try {
        const r = await this.track(this.device.transferOut(ep, rest, timeout));
        if (r.status === 'ok' && r.bytesWritten >= rest.length) return;
        if (r.status === 'ok') {
          rest = rest.subarray(r.bytesWritten); // a short write: send the remainder
          continue;
        }
        kind = r.status;
        detail = `status ${r.status}`;
      } catch (err) {
        if (this.closed) throw this.refuse();
        kind = classifyUsbError(err);
        detail = errorText(err);
      }
      if (kind === 'gone') {
        this.finish(`the ${this.who} was unplugged`);
        throw this.refuse();
      }
      if (kind === 'stall' && stalls < (this.opts.maxStalls ?? 3)) {
        stalls += 1;
        await this.clearHalt('out');
        continue;
      }
      const reason =
        kind === 'timeout' ? `the ${this.who} stopped accepting data (nothing taken for ${timeout} ms)` : `writing to the ${this.who} failed (${detail})`;
      this.finish(reason);
      throw this.refuse();
    }
  }

  private async clearHalt(direction: 'in' | 'out'): Promise<void> {
    const ep = direction === 'in' ? this.choice.inEndpoint : this.choice.outEndpoint;
    try {
      await this.device.clearHalt(direction, ep.endpointNumber);
    } catch (err) {
      this.finish(classifyUsbError(err) === 'gone' ? `the ${this.who} was unplugged` : `the ${this.who} stalled and could not be recovered (${errorText(err)})`);
    }
  }

  private async readLoop(): Promise<void> {
    const ep = this.choice.inEndpoint.endpointNumber;
    const timeout = this.opts.readTimeoutMs ?? 1000;
    const maxStalls = this.opts.maxStalls ?? 3;
    let stalls = 0;
    while (!this.closed) {
      let status: string;
      let detail = '';
      try {
        const r = await this.track(this.device.transferIn(ep, this.readSize, timeout));
        if (this.closed) return;
        if (r.status === 'ok') {
          if (r.data && r.data.byteLength > 0) {
            stalls = 0;
            // Copy: node-usb may hand out a view over a larger buffer, and the listener may keep the bytes.
            this.deliver(new Uint8Array(r.data.buffer.slice(r.data.byteOffset, r.data.byteOffset + r.data.byteLength)));
          }
          continue;
        }
        status = r.status;
      } catch (err) {
        if (this.closed) return;
        status = classifyUsbError(err);
        detail = errorText(err);
      }
      if (status === 'timeout') continue; // nothing arrived within the timeout; ask again
      if (status === 'gone') return this.finish(`the ${this.who} was unplugged`);
      if (status === 'stall' && stalls < maxStalls) {
        stalls += 1;
        this.opts.log?.(`${this.label}: bulk IN endpoint stalled; clearing the halt (${stalls}/${maxStalls})`);
        await this.clearHalt('in');
        continue;
      }
      if (status === 'stall') return this.finish(`the ${this.who} keeps stalling its bulk IN endpoint`);
      if (status === 'babble') return this.finish(`the ${this.who} sent more data than was asked for (babble)`);
      return this.finish(`reading from the ${this.who} failed (${detail || status})`);
    }
  }

  private track<T>(transfer: Promise<T>): Promise<T> {
    this.inFlight.add(transfer);
    const settled = () => this.inFlight.delete(transfer);
    transfer.then(settled, settled);
    return transfer;
  }

  private deliver(bytes: Uint8Array): void {
    this.events.deliver(bytes);
  }

  /** Marks the transport gone (once), tells the listener, and lets go of the device. */
  private finish(reason: string): void {
    if (!this.events.end(reason)) return;
    this.opts.usb?.removeEventListener('disconnect', this.onDisconnect);
    this.opts.log?.(`${this.label}: ${reason}`);
    this.released = this.letGo();
  }

  /**
   * Releases the interface and closes the device. A browser aborts the transfers in flight when asked;
   * node-usb refuses (a synchronous throw) until they settle, which the read timeout bounds: then it waits
   * for them and asks again. Failures after that (the device is gone) change nothing.
   */
  private async letGo(): Promise<void> {
    const { device } = this;
    const attempt = async (): Promise<boolean> => {
      try {
        await device.releaseInterface(this.choice.interfaceNumber);
        await device.close();
        return true;
      } catch {
        return false;
      }
    };
    if (await attempt()) return;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    if (await attempt()) return;
    // Released but not closed, or gone meanwhile: a last close, whatever it says.
    await Promise.resolve().then(() => device.close()).catch(() => undefined);
  }
}

/** node-usb's `handle`, or undefined (a browser has none; node-usb throws while the device is busy). */
function readHandle(device: UsbDeviceLike): unknown {
  try {
    return (device as { handle?: unknown }).handle;
  } catch {
    return undefined;
  }
}

/**
 * node-usb hands out a new device object per getDevices() call, so events are matched on the handle too:
 * the event's, read now (its object is idle), against ours, read when the transport opened (ours may be in
 * a transfer or a close by now, when node-usb refuses to read it).
 */
function sameDevice(gone: UsbDeviceLike, ourHandle: unknown): boolean {
  const theirs = readHandle(gone);
  return theirs !== undefined && ourHandle !== undefined && theirs === ourHandle;
}
