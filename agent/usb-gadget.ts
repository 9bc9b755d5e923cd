// The agent as a USB device: the link over a FunctionFS function (Linux's userspace USB gadget function,
// what most embedded Linux boards use for adb, MTP and the like). The gadget itself — VID:PID, strings,
// the configuration and the FunctionFS mount — is made in configfs by `dockhand agent gadget setup`
// (usb-gadget-setup.ts); this module fills the function in and serves the station on it:
//
//  1. writes the descriptors and strings to ep0 (usb-gadget-descriptors.ts), which makes the endpoint
//     files ep1 (bulk IN) and ep2 (bulk OUT) appear;
//  2. binds the gadget to a UDC when asked (`--udc`), which is the moment the station sees the device;
//  3. reads ep0's events: each ENABLE (the host configured the device) opens a connection that serves the
//     link until DISABLE or UNBIND (the cable was pulled, the host went away, the UDC was unbound).
//
// Reads and writes on FunctionFS files block in the kernel (Node runs them on its thread pool): the ep0
// read waits for the next event, the ep2 read (only issued while the host has the function enabled) for
// the station's next bytes. Node cannot exit while one of them is blocked (process.exit() waits for its
// thread pool), so stopping unbinds the gadget — what the kernel itself does when a FunctionFS function's
// ep0 is closed — which ends them all (UNBIND, DISABLE). The files are used through plain descriptors:
// a FileHandle's close() would wait for those reads.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, read, write, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DockhandError, describeError } from '../shared/model/errors.js';
import { TransportEvents } from '../electron/link/transport-events.js';
import { UsbWriteQueue } from '../electron/link/usb-write-queue.js';
import type { Transport } from '../electron/link/transport.js';
import { serveTransport } from './agent.js';
import type { AgentContext } from './context.js';
import { EVENT_SIZE, functionFsDescriptors, functionFsStrings, parseFunctionFsEvents, SMALLEST_BULK_PACKET, type FunctionFsEvent } from './usb-gadget-descriptors.js';

const readAsync = promisify(read);
const writeAsync = promisify(write);

/** The station reads up to 32 high-speed packets per transfer; more per write gains nothing. */
const WRITE_CHUNK = 16 * 1024;
const READ_SIZE = 16 * 1024;

export interface GadgetOptions {
  /** Where the function's FunctionFS instance is mounted (default /dev/ffs-dockhand). */
  ffs: string;
  /** The configfs gadget to bind (usb-gadget-setup.ts) and the UDC to bind it to: a name, or 'auto'. */
  bind?: { gadgetDir: string; udc: string };
  interfaceName?: string;
  signal: AbortSignal;
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code ?? '';
const GONE = new Set(['ESHUTDOWN', 'ECONNRESET', 'ENODEV', 'EINTR', 'EL2HLT']);

/** One USB connection: from the host enabling the function to its disabling. */
class GadgetConnection implements Transport {
  readonly label: string;
  private readonly events = new TransportEvents();
  /** One write at a time on ep1; frames that queue up meanwhile go out as one transfer. */
  private readonly writes = new UsbWriteQueue((bytes) => this.writeNow(bytes), WRITE_CHUNK);
  served = false;

  constructor(private readonly inFd: number, ffs: string) {
    this.label = `usb gadget ${ffs}`;
  }

  get closed(): boolean {
    return this.events.closedReason !== undefined;
  }

  deliver(bytes: Uint8Array): void {
    this.events.deliver(bytes);
  }

  end(reason: string): void {
    this.events.end(reason);
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
    this.end(`the agent closed ${this.label}`);
  }

  private refuse(why: string): DockhandError {
    return new DockhandError('LINK', `cannot send on ${this.label}: ${why}`, { transient: true });
  }

  private async writeNow(bytes: Uint8Array): Promise<void> {
    for (const piece of gadgetWrites(bytes)) {
      if (this.closed) throw this.refuse(this.events.closedReason!);
      try {
        for (let done = 0; done < piece.length; ) done += (await writeAsync(this.inFd, piece, done, piece.length - done, null)).bytesWritten;
      } catch (err) {
        const why = GONE.has(errno(err)) ? 'the USB host went away' : `writing failed (${describeError(err)})`;
        this.end(why);
        throw this.refuse(why);
      }
    }
  }
}

/**
 * The write requests that carry `bytes` on ep1. Each is one USB transfer, and the station's reads end at a
 * short packet (docs/link-protocol.md §1.1): a transfer that is a whole number of packets would end without
 * one, so its last byte goes as a transfer of its own — one byte is short at every speed, without relying
 * on the UDC to add a zero-length packet.
 */
export function gadgetWrites(bytes: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += WRITE_CHUNK) pieces.push(bytes.subarray(at, Math.min(bytes.length, at + WRITE_CHUNK)));
  const last = pieces.at(-1);
  if (last && last.length % SMALLEST_BULK_PACKET === 0) pieces.splice(-1, 1, last.subarray(0, -1), last.subarray(-1));
  return pieces;
}

/** The FunctionFS function, filled in and open: its connections come and go with the host. */
export class FunctionFsFunction {
  private current: GadgetConnection | undefined;
  private waiters: Array<(c: GadgetConnection | undefined) => void> = [];
  private stopped = false;
  private enabled = false;
  private outReading = false;
  /** Reads handed to the kernel and not returned yet. */
  private readonly pending = new Set<Promise<unknown>>();

  private constructor(private readonly ffs: string, private readonly ep0: number, private readonly inFd: number,
    private readonly outFd: number, private readonly log: (line: string) => void) {
    void this.readEvents();
  }

  /** Writes the descriptors and strings and opens the endpoints; the gadget can be bound after this. */
  static open(ffs: string, interfaceName: string, log: (line: string) => void): FunctionFsFunction {
    const ep0Path = path.join(ffs, 'ep0');
    if (!existsSync(ep0Path)) {
      throw new DockhandError('LINK', `${ffs} is not a FunctionFS mount (no ep0 there); run \`dockhand agent gadget setup\` first (as root)`);
    }
    let ep0: number;
    try {
      ep0 = openSync(ep0Path, 'r+');
    } catch (err) {
      const busy = errno(err) === 'EBUSY';
      throw new DockhandError('LINK', busy ? `${ep0Path} is already in use (is another agent serving this function?)` : `cannot open ${ep0Path}: ${describeError(err)}`, { cause: err });
    }
    try {
      writeFileSync(ep0, functionFsDescriptors());
      writeFileSync(ep0, functionFsStrings(interfaceName));
      const inFd = openSync(path.join(ffs, 'ep1'), 'r+');
      const outFd = openSync(path.join(ffs, 'ep2'), 'r+');
      return new FunctionFsFunction(ffs, ep0, inFd, outFd, log);
    } catch (err) {
      closeSync(ep0);
      throw new DockhandError('LINK', `the kernel refused the USB function's descriptors on ${ep0Path}: ${describeError(err)}`, { cause: err });
    }
  }

  /** The next connection to serve: the current one if nobody served it yet, else the next ENABLE's. */
  nextConnection(signal: AbortSignal): Promise<GadgetConnection | undefined> {
    if (this.stopped || signal.aborted) return Promise.resolve(undefined);
    if (this.current && !this.current.closed && !this.current.served) return Promise.resolve(this.current);
    return new Promise((resolve) => {
      const done = (c: GadgetConnection | undefined) => resolve(c);
      this.waiters.push(done);
      signal.addEventListener('abort', () => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(undefined);
      }, { once: true });
    });
  }

  /**
   * Stops reading and closes the files once the reads handed to the kernel have returned (the caller
   * unbinds the gadget first, which returns them). True when they all did within `waitMs`.
   */
  async close(waitMs = 3000): Promise<boolean> {
    this.stopped = true;
    this.current?.end('the agent is stopping');
    for (const w of this.waiters.splice(0)) w(undefined);
    let timer: NodeJS.Timeout | undefined;
    const returned = await Promise.race([
      Promise.allSettled([...this.pending]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMs))),
    ]);
    clearTimeout(timer);
    for (const fd of [this.outFd, this.inFd, this.ep0]) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    return returned;
  }

  private track<T>(read: Promise<T>): Promise<T> {
    this.pending.add(read);
    const done = () => this.pending.delete(read);
    read.then(done, done);
    return read;
  }

  private onEvent(e: FunctionFsEvent): void {
    if (e.type === 'enable') {
      this.current?.end('the USB host configured the device again');
      const connection = new GadgetConnection(this.inFd, this.ffs);
      this.current = connection;
      this.enabled = true;
      if (!this.outReading) void this.readOut();
      const waiter = this.waiters.shift();
      if (waiter) waiter(connection);
    } else if (e.type === 'disable' || e.type === 'unbind') {
      this.enabled = false;
      this.current?.end(`the USB host went away (cable unplugged, host asleep or the gadget unbound: ${e.type.toUpperCase()})`);
      this.current = undefined;
    } else if (e.type === 'setup') {
      this.refuseSetup(e.setup!);
    } else if (e.type !== 'bind' && e.type !== 'suspend' && e.type !== 'resume') {
      this.log(`FunctionFS event ${e.type}`);
    }
  }

  /** The function answers no control requests of its own: stalling is the USB way to say so. */
  private refuseSetup(setup: NonNullable<FunctionFsEvent['setup']>): void {
    this.log(`refusing control request 0x${setup.request.toString(16)} (type 0x${setup.requestType.toString(16)}) with a stall`);
    // Reading ep0 for a device-to-host request (or writing it for host-to-device) stalls the request.
    const stall: Promise<unknown> = setup.requestType & 0x80 ? readAsync(this.ep0, Buffer.alloc(1), 0, 1, null) : writeAsync(this.ep0, Buffer.alloc(0), 0, 0, null);
    this.track(stall).catch(() => undefined);
  }

  private async readEvents(): Promise<void> {
    const buf = Buffer.alloc(EVENT_SIZE * 4);
    while (!this.stopped) {
      try {
        const n = (await this.track(readAsync(this.ep0, buf, 0, buf.length, null))).bytesRead;
        for (const e of parseFunctionFsEvents(buf.subarray(0, n))) this.onEvent(e);
      } catch (err) {
        if (this.stopped) return;
        this.log(`reading FunctionFS events on ${this.ffs} failed (${describeError(err)}); trying again`);
        await pause(200);
      }
    }
  }

  /** Reads the station's bytes while the host has the function enabled (a read issued otherwise would wait). */
  private async readOut(): Promise<void> {
    this.outReading = true;
    while (!this.stopped && this.enabled) {
      const buf = Buffer.alloc(READ_SIZE);
      try {
        const n = (await this.track(readAsync(this.outFd, buf, 0, buf.length, null))).bytesRead;
        if (n > 0) this.current?.deliver(buf.subarray(0, n));
      } catch (err) {
        if (this.stopped || GONE.has(errno(err))) continue; // disabled under the read: the loop ends with it
        this.current?.end(`reading from the USB host failed (${describeError(err)})`);
        await pause(200);
      }
    }
    this.outReading = false;
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The UDCs (USB device controllers) of this machine, as /sys/class/udc lists them. */
export function listUdcs(): string[] {
  try {
    return readdirSync('/sys/class/udc').sort();
  } catch {
    return [];
  }
}

/** Binds the configfs gadget to a UDC; returns the UDC's name, or null when it was bound already. */
export function bindGadget(gadgetDir: string, udc: string): string | null {
  const file = path.join(gadgetDir, 'UDC');
  if (!existsSync(file)) throw new DockhandError('LINK', `${gadgetDir} is not a configfs USB gadget; run \`dockhand agent gadget setup\` first (as root)`);
  if (readFileSync(file, 'utf8').trim() !== '') return null;
  const name = udc === 'auto' ? listUdcs()[0] : udc;
  if (!name) throw new DockhandError('LINK', 'this machine has no USB device controller (/sys/class/udc is empty); is the UDC driver loaded?');
  try {
    writeFileSync(file, name);
  } catch (err) {
    throw new DockhandError('LINK', `cannot bind ${gadgetDir} to the UDC ${name}: ${describeError(err)}`, { cause: err });
  }
  return name;
}

export function unbindGadget(gadgetDir: string): void {
  try {
    writeFileSync(path.join(gadgetDir, 'UDC'), '\n');
  } catch {
    // unbound already, or the gadget was removed
  }
}

/** The configfs gadget whose FunctionFS function is mounted at `ffs` (found through /proc/mounts). */
export function gadgetOfFunction(ffs: string, configfs = '/sys/kernel/config'): string | undefined {
  let instance: string | undefined;
  try {
    instance = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '))
      .find((f) => f[1] === path.resolve(ffs) && f[2] === 'functionfs')?.[0];
  } catch {
    return undefined;
  }
  if (!instance) return undefined;
  const root = path.join(configfs, 'usb_gadget');
  let gadgets: string[];
  try {
    gadgets = readdirSync(root);
  } catch {
    return undefined;
  }
  return gadgets.map((g) => path.join(root, g)).find((g) => existsSync(path.join(g, 'functions', `ffs.${instance}`)));
}

/**
 * Serves the station over the FunctionFS function until `signal` aborts. Resolves true when the agent let
 * go of everything; false when a read could not be ended (a gadget nobody ever bound leaves its event read
 * waiting in the kernel), in which case the process cannot exit normally.
 */
export async function runAgentOnGadget(ctx: AgentContext, opts: GadgetOptions): Promise<boolean> {
  const fn = FunctionFsFunction.open(opts.ffs, opts.interfaceName ?? 'Dockhand link', ctx.log);
  const letGo = () => {
    // Without the agent the function cannot answer: the device leaves the bus, as it would if the kernel
    // saw ep0 closed, and the reads under way return.
    const gadget = opts.bind?.gadgetDir ?? gadgetOfFunction(opts.ffs);
    if (gadget) unbindGadget(gadget);
    return fn.close();
  };
  try {
    const bound = opts.bind ? bindGadget(opts.bind.gadgetDir, opts.bind.udc) : null;
    ctx.log(`listening on USB gadget ${opts.ffs}${bound ? ` (bound to ${bound})` : ''} as ${ctx.identity.id} (${ctx.identity.name}), root ${ctx.root}`);
    for (;;) {
      const connection = await fn.nextConnection(opts.signal);
      if (!connection) break;
      connection.served = true;
      ctx.log(`a USB host configured ${opts.ffs}`);
      const reason = await serveTransport(ctx, connection, opts.signal);
      if (!opts.signal.aborted) ctx.log(`${reason}; waiting for the USB host`);
    }
  } catch (err) {
    await letGo();
    throw err;
  }
  return letGo();
}
