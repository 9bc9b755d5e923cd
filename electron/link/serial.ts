// Serial ports as link Transports (the only importer of `serialport`). A device agent on a UART, a USB
// gadget serial function (/dev/ttyGS0 on the device, /dev/ttyACM0 on the station) or a pseudo-terminal pair
// in tests all look the same from here.
//
// Unplugging: the OS reports a vanished USB serial device as an error or close on the open port (EIO,
// "disconnected"); that fires onClose at once. A line that merely goes quiet (a UART whose far end lost
// power) gives no such signal, so the link layer's keep-alive timeout is what notices it.
//
// `serialport` (a native module) is loaded on first use, not at import: a command that never opens a port
// (`dockhand --help`, an agent serving a USB gadget) starts without it.
import type { SerialPort } from 'serialport';
import { DockhandError } from '../../shared/model/errors.js';
import type { Transport } from './transport.js';
import { TransportEvents } from './transport-events.js';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export interface SerialSettings {
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: Parity;
  stopBits?: 1 | 1.5 | 2;
  /** RTS/CTS hardware flow control (off by default: most gadget and USB-serial links do not need it). */
  rtscts?: boolean;
}

export const DEFAULT_BAUD_RATE = 115200;
const PARITIES: readonly string[] = ['none', 'even', 'odd', 'mark', 'space'];

/** Bytes per second at these settings: each byte takes a start bit, its data bits, a parity bit if any, and its stop bits. */
export function serialLineRate(s: SerialSettings): number {
  const bits = 1 + (s.dataBits ?? 8) + ((s.parity ?? 'none') === 'none' ? 0 : 1) + (s.stopBits ?? 1);
  return s.baudRate / bits;
}

/** `115200 8N1`, for logs and status lines. */
export function describeSerialSettings(s: SerialSettings): string {
  return `${s.baudRate} ${s.dataBits ?? 8}${(s.parity ?? 'none')[0]!.toUpperCase()}${s.stopBits ?? 1}`;
}

function checkSettings(path: string, s: SerialSettings): void {
  const bad = (what: string) => new DockhandError('LINK', `cannot open serial port ${path}: ${what}`, { detail: { path } });
  if (!Number.isInteger(s.baudRate) || s.baudRate <= 0) throw bad(`the baud rate '${s.baudRate}' is not a positive whole number`);
  if (s.dataBits !== undefined && ![5, 6, 7, 8].includes(s.dataBits)) throw bad(`data bits must be 5, 6, 7 or 8 (not ${s.dataBits})`);
  if (s.parity !== undefined && !PARITIES.includes(s.parity)) throw bad(`parity must be none, even, odd, mark or space (not '${s.parity}')`);
  if (s.stopBits !== undefined && ![1, 1.5, 2].includes(s.stopBits)) throw bad(`stop bits must be 1, 1.5 or 2 (not ${s.stopBits})`);
}

/** Technician's words for why a port would not open. */
function openFailure(path: string, err: unknown): DockhandError {
  const text = err instanceof Error ? err.message : String(err);
  const why =
    /ENOENT|No such file/i.test(text) ? 'it does not exist; check that the device is plugged in and the port name is right'
    : /EACCES|Permission denied/i.test(text) ? 'permission denied; add this user to the dialout group (Linux) or install the udev rule'
    : /EBUSY|lock|Resource temporarily unavailable/i.test(text) ? 'it is in use by another program; close that program first'
    : text;
  return new DockhandError('LINK', `cannot open serial port ${path}: ${why}`, { transient: true, cause: err, detail: { path } });
}

// A USB-serial adapter pulled out mid-write surfaces on Linux as EIO on the write (the kernel hangs the tty
// up) before, or instead of, serialport's "disconnected" close: on the QEMU guest's real xHCI bus the EIO came
// first in one CI run of several. These errnos mean the port itself is gone, so every path reads them as an
// unplug, in words that also carry the system's own.
const PORT_GONE = /EIO|EBADF|ENXIO|ENODEV|bad file descriptor|input\/output error/i;

/** Why a port failed, in words: "was unplugged" when the system says the port is gone, else its own message. */
export function serialFailure(err: Error): string {
  return PORT_GONE.test(err.message) ? `the port was unplugged (${err.message})` : err.message;
}

// Writes are gathered: whatever is written while the port is busy with an earlier write goes out as one
// write when it is done. A window of frames handed over at once thus costs two trips through serialport's
// write path (a thread-pool round trip each) instead of one per frame, and the line never waits for them.
interface Pending {
  bytes: Uint8Array;
  resolve(): void;
  reject(err: unknown): void;
}

class SerialTransport implements Transport {
  private readonly events = new TransportEvents();
  private pending: Pending[] = [];
  private writing = false;

  constructor(private readonly port: SerialPort, readonly label: string, readonly lineRate: number) {
    port.on('data', (chunk: Buffer) => this.events.deliver(chunk));
    port.on('error', (err: Error) => this.events.end(`serial port ${label} failed: ${serialFailure(err)}`));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) =>
      this.events.end(err?.disconnected ? `serial port ${label} was disconnected (unplugged)` : `serial port ${label} was closed`),
    );
  }

  write(bytes: Uint8Array): Promise<void> {
    const closed = this.events.closedReason;
    if (closed !== undefined) {
      return Promise.reject(new DockhandError('LINK', `cannot write to ${this.label}: ${closed}`, { transient: true }));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ bytes, resolve, reject });
      if (!this.writing) this.flush();
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.writing = true;
    const bytes = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((p) => p.bytes));
    this.port.write(bytes, (err) => {
      this.writing = false;
      if (err) {
        const failure = new DockhandError('LINK', `writing to serial port ${this.label} failed: ${serialFailure(err)}`, { transient: true, cause: err });
        for (const p of batch) p.reject(failure);
      } else {
        for (const p of batch) p.resolve();
      }
      if (this.pending.length === 0) return;
      const closed = this.events.closedReason;
      if (closed === undefined) return this.flush();
      const failure = new DockhandError('LINK', `cannot write to ${this.label}: ${closed}`, { transient: true });
      for (const p of this.pending.splice(0)) p.reject(failure);
    });
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.events.onData(listener);
  }

  onClose(listener: (reason: string) => void): void {
    this.events.onClose(listener);
  }

  async close(): Promise<void> {
    if (!this.events.end(`serial port ${this.label} was closed`)) return;
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

/** Opens `path` with the given line settings (8N1 unless told otherwise); rejects with LINK in plain words. */
export async function openSerialTransport(path: string, settings: SerialSettings): Promise<Transport> {
  checkSettings(path, settings);
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({
    path,
    baudRate: settings.baudRate,
    dataBits: settings.dataBits ?? 8,
    parity: settings.parity ?? 'none',
    stopBits: settings.stopBits ?? 1,
    rtscts: settings.rtscts ?? false,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(openFailure(path, err)) : resolve())));
  return new SerialTransport(port, path, serialLineRate(settings));
}

/** The system's serial ports as serialport lists them (Linux needs udevadm); discovery.ts decides which to use. */
export async function listSerialPorts(): Promise<{ path: string; manufacturer?: string; serialNumber?: string; vendorId?: string; productId?: string }[]> {
  const { SerialPort } = await import('serialport');
  const ports = await SerialPort.list();
  return ports.map((p) => ({
    path: p.path,
    ...(p.manufacturer !== undefined ? { manufacturer: p.manufacturer } : {}),
    ...(p.serialNumber !== undefined ? { serialNumber: p.serialNumber } : {}),
    ...(p.vendorId !== undefined ? { vendorId: p.vendorId } : {}),
    ...(p.productId !== undefined ? { productId: p.productId } : {}),
  }));
}
