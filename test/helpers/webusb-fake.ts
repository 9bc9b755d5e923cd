// TEST DOUBLE: an in-memory WebUSB `USBDevice` and `USB` object. These machines have no USB bus (node-usb's
// getDevices() rejects), so the USB transport and the hotplug watcher are exercised against this instead.
//
// The device has one vendor-specific interface (class 0xFF) with a bulk IN and a bulk OUT endpoint. Its far
// end, `device.peer`, is a Transport, so the link protocol's device side (or a plain echo) can sit on it.
// It keeps the USB rules that matter to the transport: data moves in packets of `packetSize`; a read
// completes when it is full or a short (or zero-length) packet arrives, and fails with babble when a packet
// would overflow it; a node-usb-style read timeout cancels the read and loses what it had collected; OUT
// transfers wait while the peer is not taking bytes (`holdOut`); endpoints can be stalled; unplug fails every
// transfer in flight. Errors look like node-usb's (`style: 'node-usb'`) or a browser's (`style: 'webusb'`).
//
// node-usb v3 on a real Linux stack (xHCI and dummy_hcd in a QEMU guest, test/vm) behaves as modelled
// here; each point is marked REAL STACK where the double does it:
//  1. a device with a transfer in flight refuses releaseInterface() and close() with a synchronous throw
//     (napi-rs `InvalidArg`: "The same native value cannot be borrowed mutably while another borrow is
//     active"), and so do its vendorId, productId, configuration and string getters; `handle` and
//     `opened` stay readable. While a release or close is under way even `handle` throws;
//  2. an unplug fails the pending transferIn with `Fault` (3 unplugs in 4; `unplugError` picks) and later
//     transfers with `Disconnected`; release and close then succeed; the WebUSB `disconnect` event comes
//     300–400 ms later (`FakeWebUsb`'s `disconnectDelayMs`);
//  3. a second transfer on an endpoint that has one in flight is refused (`endpoint not found`); the IN and
//     the OUT endpoint each take one at a time. A transfer takes time on the wire (it completes on a later
//     turn of the event loop), so overlapping transfers really overlap;
//  4. a babble (a packet larger than the read) is reported as `Fault` too.
import type { Transport } from '../../electron/link/transport.js';
import type {
  UsbConfigurationLike, UsbDeviceLike, UsbDirection, UsbInTransferResultLike, UsbOutTransferResultLike, WebUsbLike,
} from '../../electron/link/usb-types.js';

export interface FakeUsbDeviceOptions {
  vendorId?: number;
  productId?: number;
  serialNumber?: string;
  packetSize?: number;
  /** The vendor interface's number; a CDC-like interface 0 is put before it when this is not 0. */
  interfaceNumber?: number;
  inEndpoint?: number;
  outEndpoint?: number;
  interfaceClass?: number;
  /** Start unconfigured (configuration null), as some devices do until the host picks one. */
  unconfigured?: boolean;
  /** Bytes the host may send while the peer is held before transferOut waits (default 64 KiB). */
  outCapacity?: number;
  /** End each peer write that fills whole packets with a zero-length packet (default true). */
  zlp?: boolean;
  style?: 'node-usb' | 'webusb';
  /** How node-usb reports the pending read of an unplugged device (REAL STACK 2; default Fault). */
  unplugError?: 'Fault' | 'Disconnected';
  /** How long a release or close holds the device (REAL STACK 1; default: until the next turn of the loop). */
  closeMs?: number;
}

interface PendingIn {
  length: number;
  packets: Uint8Array[];
  got: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (r: UsbInTransferResultLike) => void;
  reject: (e: Error) => void;
}

export interface FakeUsbStats {
  transfersIn: number;
  transfersOut: number;
  /** Length of every non-empty transferOut, in order. */
  outSizes: number[];
  zeroLengthOut: number;
  largestReadAsked: number;
  clearHalts: number;
  claimed: number[];
  selectedConfiguration: number | undefined;
}

class DeviceEnd implements Transport {
  readonly label = 'fake USB device end';
  dataListener: ((bytes: Uint8Array) => void) | undefined;
  closeListener: ((reason: string) => void) | undefined;
  constructor(private readonly dev: FakeUsbDevice) {}
  write(bytes: Uint8Array): Promise<void> {
    if (this.dev.unplugged) return Promise.reject(new Error('the fake device is unplugged'));
    this.dev.sendFromDevice(bytes);
    return Promise.resolve();
  }
  onData(listener: (bytes: Uint8Array) => void): void {
    this.dataListener = listener;
  }
  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
  }
  close(): Promise<void> {
    this.dev.unplug();
    return Promise.resolve();
  }
}

let nextAddress = 1;

/** REAL STACK 1: node-usb's borrow error, thrown synchronously. */
function borrowError(): Error {
  return Object.assign(new Error('The same native value cannot be borrowed mutably while another borrow is active'), { code: 'InvalidArg' });
}

export class FakeUsbDevice implements UsbDeviceLike {
  private readonly ids: { vendorId: number; productId: number; serialNumber: string | null; handle: string };
  readonly peer: DeviceEnd;
  readonly stats: FakeUsbStats = {
    transfersIn: 0, transfersOut: 0, outSizes: [], zeroLengthOut: 0, largestReadAsked: 0, clearHalts: 0, claimed: [], selectedConfiguration: undefined,
  };
  opened = false;
  unplugged = false;
  private readonly allConfigurations: UsbConfigurationLike[];
  private active: UsbConfigurationLike | null;
  /** Transfers in flight, by endpoint direction (REAL STACK 1 and 3). */
  private readonly busy = { in: false, out: false };
  /** A release or close under way (REAL STACK 1). */
  private exclusive = false;
  private failedSinceUnplug = false;
  private readonly packetSize: number;
  private readonly o: Required<Omit<FakeUsbDeviceOptions, 'serialNumber'>>;
  private inPackets: Uint8Array[] = [];
  private pendingIn: PendingIn[] = [];
  private halted = { in: false, out: false };
  private stallNext = { in: 0, out: 0 };
  private held = false;
  private heldBytes: Uint8Array[] = [];
  private heldSize = 0;
  private outWaiters: Array<() => void> = [];
  private lifetime = new AbortController();

  constructor(opts: FakeUsbDeviceOptions = {}) {
    this.o = {
      vendorId: 0x1209, productId: 0xd0c4, packetSize: 64, interfaceNumber: 0, inEndpoint: 1, outEndpoint: 2, interfaceClass: 0xff,
      unconfigured: false, outCapacity: 64 * 1024, zlp: true, style: 'node-usb', unplugError: 'Fault', closeMs: 0, ...opts,
    };
    this.ids = { vendorId: this.o.vendorId, productId: this.o.productId, serialNumber: opts.serialNumber ?? null, handle: `DeviceId(bus 1, addr ${nextAddress++})` };
    this.packetSize = this.o.packetSize;
    const bulk = (n: number, direction: UsbDirection) => ({ endpointNumber: n, direction, type: 'bulk', packetSize: this.packetSize });
    const vendor = {
      interfaceNumber: this.o.interfaceNumber,
      alternate: null,
      alternates: [{ alternateSetting: 0, interfaceClass: this.o.interfaceClass, interfaceSubclass: 0, interfaceProtocol: 0,
        endpoints: [bulk(this.o.inEndpoint, 'in'), bulk(this.o.outEndpoint, 'out')] }],
    };
    const cdc = { interfaceNumber: 0, alternate: null, alternates: [{ alternateSetting: 0, interfaceClass: 0x02, endpoints: [
      { endpointNumber: 5, direction: 'in' as const, type: 'interrupt', packetSize: 16 }] }] };
    this.allConfigurations = [{ configurationValue: 1, interfaces: this.o.interfaceNumber === 0 ? [vendor] : [cdc, vendor] }];
    this.active = this.o.unconfigured ? null : this.allConfigurations[0]!;
    this.peer = new DeviceEnd(this);
  }

  /** REAL STACK 1: node-usb's getters borrow the device; they throw while a transfer or close holds it. */
  private read<T>(value: T, readableDuringTransfers = false): T {
    if (this.o.style === 'node-usb' && (this.exclusive || (!readableDuringTransfers && (this.busy.in || this.busy.out)))) throw borrowError();
    return value;
  }

  get vendorId(): number {
    return this.read(this.ids.vendorId);
  }

  get productId(): number {
    return this.read(this.ids.productId);
  }

  get serialNumber(): string | null {
    return this.read(this.ids.serialNumber);
  }

  get productName(): string {
    return this.read('Dockhand fake device');
  }

  get manufacturerName(): string {
    return this.read('Dockhand tests');
  }

  /** node-usb's stable identity of the device on its bus. */
  get handle(): string {
    return this.read(this.ids.handle, true);
  }

  get configuration(): UsbConfigurationLike | null {
    return this.read(this.active);
  }

  get configurations(): UsbConfigurationLike[] {
    return this.read(this.allConfigurations);
  }

  /** Whether a transfer is in flight on an endpoint (tests look; reading it borrows nothing). */
  get transfersInFlight(): { in: boolean; out: boolean } {
    return { ...this.busy };
  }

  // ---- test controls ----

  /** The next `count` transfers on that endpoint stall (and leave it halted until clearHalt). */
  stall(direction: UsbDirection, count = 1): void {
    this.stallNext[direction] += count;
  }

  /** Queue raw packets on the IN endpoint exactly as given (short packets, zero-length packets…). */
  sendPackets(packets: Uint8Array[]): void {
    this.inPackets.push(...packets.map((p) => Uint8Array.from(p)));
    this.pumpIn();
  }

  /** The device side stops / resumes taking bytes from the OUT endpoint. */
  holdOut(hold: boolean): void {
    this.held = hold;
    if (!hold) this.releaseHeld();
  }

  /** Bytes the host has sent that the held device side has not taken yet. */
  get bytesWaitingOut(): number {
    return this.heldSize;
  }

  unplug(): void {
    if (this.unplugged) return;
    this.unplugged = true;
    this.opened = false;
    this.lifetime.abort();
    for (const p of this.pendingIn.splice(0)) {
      clearTimeout(p.timer);
      this.busy.in = false;
      p.reject(this.goneError('transferIn'));
    }
    this.outWaiters.splice(0).forEach((wake) => wake());
    const l = this.peer.closeListener;
    if (l) queueMicrotask(() => l('the USB cable was pulled'));
  }

  // ---- the device side writing: packetised onto the IN endpoint ----

  sendFromDevice(bytes: Uint8Array): void {
    const ps = this.packetSize;
    for (let at = 0; at < bytes.length; at += ps) this.inPackets.push(Uint8Array.from(bytes.subarray(at, at + ps)));
    if (this.o.zlp && bytes.length % ps === 0) this.inPackets.push(new Uint8Array(0));
    this.pumpIn();
  }

  // ---- WebUSB USBDevice ----

  async open(): Promise<void> {
    if (this.unplugged) throw this.goneError('open');
    this.opened = true;
  }

  /** node-usb: refused synchronously while a transfer is in flight (REAL STACK 1); a browser aborts them. */
  close(): Promise<void> {
    this.refuseWhileBusy();
    if (this.o.style === 'webusb') {
      for (const p of this.pendingIn.splice(0)) {
        clearTimeout(p.timer);
        this.busy.in = false;
        p.reject(new DOMException('The transfer was cancelled.', 'AbortError'));
      }
      this.outWaiters.splice(0).forEach((wake) => wake());
    }
    return this.holdExclusively(() => {
      this.opened = false;
      this.stats.claimed = [];
    });
  }

  async selectConfiguration(value: number): Promise<void> {
    this.ready('selectConfiguration');
    const c = this.allConfigurations.find((x) => x.configurationValue === value);
    if (!c) throw new Error('selectConfiguration error: invalid configuration');
    this.active = c;
    this.stats.selectedConfiguration = value;
  }

  async claimInterface(n: number): Promise<void> {
    this.ready('claimInterface');
    if (!this.active?.interfaces.some((i) => i.interfaceNumber === n)) throw new Error(`claimInterface error: interface ${n} not found`);
    if (!this.stats.claimed.includes(n)) this.stats.claimed.push(n);
  }

  releaseInterface(n: number): Promise<void> {
    this.refuseWhileBusy();
    return this.holdExclusively(() => {
      this.stats.claimed = this.stats.claimed.filter((x) => x !== n);
    });
  }

  private refuseWhileBusy(): void {
    if (this.o.style === 'node-usb' && (this.exclusive || this.busy.in || this.busy.out)) throw borrowError();
  }

  /** REAL STACK 1: a release or close takes a moment, and holds the device while it runs. */
  private holdExclusively(done: () => void): Promise<void> {
    this.exclusive = true;
    return new Promise((resolve) => {
      const finish = () => {
        this.exclusive = false;
        done();
        resolve();
      };
      if (this.o.closeMs > 0) setTimeout(finish, this.o.closeMs);
      else setImmediate(finish);
    });
  }

  async selectAlternateInterface(): Promise<void> {
    this.ready('selectAlternateInterface');
  }

  async clearHalt(direction: UsbDirection): Promise<void> {
    this.ready('clearHalt');
    this.stats.clearHalts += 1;
    this.halted[direction] = false;
  }

  transferIn(endpointNumber: number, length: number, timeoutMs?: number): Promise<UsbInTransferResultLike> {
    this.stats.transfersIn += 1;
    this.stats.largestReadAsked = Math.max(this.stats.largestReadAsked, length);
    try {
      this.ready('transferIn');
      this.endpoint('transferIn', endpointNumber, this.o.inEndpoint);
      this.claimEndpoint('in');
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const stalled = this.takeStall('in');
    if (stalled) return this.settle('in', stalled);
    return new Promise((resolve, reject) => {
      const p: PendingIn = {
        length, packets: [], got: 0, timer: undefined,
        resolve: (r) => (this.busy.in = false, resolve(r)), reject: (e) => (this.busy.in = false, reject(e)),
      };
      if (timeoutMs !== undefined && this.o.style === 'node-usb') {
        // node-usb cancels a read at its timeout and drops whatever part of it had arrived.
        p.timer = setTimeout(() => {
          this.pendingIn = this.pendingIn.filter((x) => x !== p);
          p.reject(new Error('transferIn error: Cancelled'));
        }, timeoutMs);
      }
      this.pendingIn.push(p);
      this.pumpIn();
    });
  }

  /** REAL STACK 3: one transfer at a time per endpoint in node-usb. */
  private claimEndpoint(direction: UsbDirection): void {
    if (this.o.style === 'node-usb' && this.busy[direction]) throw new Error(`transfer${direction === 'in' ? 'In' : 'Out'} error: endpoint not found`);
    this.busy[direction] = true;
  }

  private settle<T>(direction: UsbDirection, outcome: Promise<T>): Promise<T> {
    const free = () => {
      this.busy[direction] = false;
    };
    outcome.then(free, free);
    return outcome;
  }

  async transferOut(endpointNumber: number, data: Uint8Array, timeoutMs?: number): Promise<UsbOutTransferResultLike> {
    this.stats.transfersOut += 1;
    this.ready('transferOut');
    this.endpoint('transferOut', endpointNumber, this.o.outEndpoint);
    this.claimEndpoint('out');
    try {
      return await this.sendOut(data, timeoutMs);
    } finally {
      this.busy.out = false;
    }
  }

  private async sendOut(data: Uint8Array, timeoutMs?: number): Promise<UsbOutTransferResultLike> {
    // REAL STACK 3: the transfer takes time on the wire; it completes on a later turn of the event loop.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.ready('transferOut');
    const stalled = this.takeStall('out');
    if (stalled) return { ...(await stalled), bytesWritten: 0 };
    if (data.length === 0) {
      this.stats.zeroLengthOut += 1;
      return { status: 'ok', bytesWritten: 0 };
    }
    this.stats.outSizes.push(data.length);
    const deadline = timeoutMs === undefined || this.o.style !== 'node-usb' ? Infinity : Date.now() + timeoutMs;
    for (let at = 0; at < data.length; at += this.packetSize) {
      while (this.held && this.heldSize >= this.o.outCapacity) {
        await this.waitForRoom(deadline);
        this.ready('transferOut');
      }
      this.toPeer(Uint8Array.from(data.subarray(at, at + this.packetSize)));
    }
    return { status: 'ok', bytesWritten: data.length };
  }

  // ---- internals ----

  /** REAL STACK 2: the transfer pending at the unplug fails with `unplugError`, later ones with Disconnected. */
  private goneError(op: string): Error {
    if (this.o.style !== 'node-usb') return new DOMException('The device was disconnected.', 'NotFoundError');
    const first = !this.failedSinceUnplug;
    this.failedSinceUnplug = true;
    return new Error(`${op} error: ${first ? this.o.unplugError : 'Disconnected'}`);
  }

  private ready(op: string): void {
    if (this.unplugged) throw this.goneError(op);
    if (!this.opened) throw this.o.style === 'node-usb' ? new Error(`${op} error: invalid state`) : new DOMException('The device must be opened first.', 'InvalidStateError');
  }

  private endpoint(op: string, asked: number, mine: number): void {
    const claimed = this.stats.claimed.includes(this.o.interfaceNumber);
    if (asked !== mine || !claimed) throw new Error(`${op} error: endpoint not found`);
  }

  private takeStall(direction: UsbDirection): Promise<UsbInTransferResultLike> | undefined {
    if (this.stallNext[direction] > 0) {
      this.stallNext[direction] -= 1;
      this.halted[direction] = true;
    }
    if (!this.halted[direction]) return undefined;
    if (this.o.style === 'node-usb') return Promise.reject(new Error(`transfer${direction === 'in' ? 'In' : 'Out'} error: Stall`));
    return Promise.resolve({ status: 'stall' });
  }

  private pumpIn(): void {
    while (this.pendingIn.length > 0 && this.inPackets.length > 0) {
      const p = this.pendingIn[0]!;
      const packet = this.inPackets[0]!;
      if (p.got + packet.length > p.length) {
        // The packet does not fit the read: USB calls that babble, and the packet is lost.
        this.inPackets.shift();
        this.finishIn(p, this.o.style === 'node-usb' ? new Error('transferIn error: Fault') : { status: 'babble' });
        continue;
      }
      this.inPackets.shift();
      p.packets.push(packet);
      p.got += packet.length;
      if (packet.length < this.packetSize || p.got === p.length) {
        const all = new Uint8Array(p.got);
        let at = 0;
        for (const x of p.packets) {
          all.set(x, at);
          at += x.length;
        }
        this.finishIn(p, { status: 'ok', data: new DataView(all.buffer) });
      }
    }
  }

  private finishIn(p: PendingIn, outcome: UsbInTransferResultLike | Error): void {
    this.pendingIn.shift();
    clearTimeout(p.timer);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  private toPeer(packet: Uint8Array): void {
    if (this.held) {
      this.heldBytes.push(packet);
      this.heldSize += packet.length;
      return;
    }
    this.peer.dataListener?.(packet);
  }

  private releaseHeld(): void {
    const bytes = this.heldBytes.splice(0);
    this.heldSize = 0;
    for (const b of bytes) this.peer.dataListener?.(b);
    this.outWaiters.splice(0).forEach((wake) => wake());
  }

  private waitForRoom(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = deadline === Infinity ? undefined : setTimeout(() => {
        this.outWaiters = this.outWaiters.filter((w) => w !== wake);
        reject(new Error('transferOut error: Cancelled'));
      }, Math.max(0, deadline - Date.now()));
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.outWaiters.push(wake);
    });
  }
}

class FakeConnectionEvent extends Event {
  constructor(type: 'connect' | 'disconnect', readonly device: UsbDeviceLike) {
    super(type);
  }
}

/**
 * A WebUSB `USB` object over fake devices; `noBus` makes getDevices() reject as node-usb does here.
 * `disconnectDelayMs`: how long after an unplug the `disconnect` event fires (REAL STACK 2: 300–400 ms on
 * the real stack; default 0, which still fires it after the failed transfers have been seen).
 */
export class FakeWebUsb extends EventTarget implements WebUsbLike {
  private attached: FakeUsbDevice[] = [];
  getDevicesCalls = 0;
  constructor(private readonly opts: { noBus?: boolean; disconnectDelayMs?: number } = {}) {
    super();
  }

  async getDevices(): Promise<FakeUsbDevice[]> {
    this.getDevicesCalls += 1;
    if (this.opts.noBus) throw Object.assign(new Error('getDevices error: /sys/bus/usb/devices/ not found (errno 2)'), { code: 'GenericFailure' });
    return [...this.attached];
  }

  /** A device appears (already attached at start when called before anyone watches). */
  plug(device: FakeUsbDevice): void {
    this.attached.push(device);
    this.dispatchEvent(new FakeConnectionEvent('connect', device));
  }

  /** The cable is pulled: transfers fail at once; the `disconnect` event follows (resolves once it fired). */
  unplug(device: FakeUsbDevice): Promise<void> {
    this.attached = this.attached.filter((d) => d !== device);
    device.unplug();
    return new Promise((resolve) => setTimeout(() => {
      this.dispatchEvent(new FakeConnectionEvent('disconnect', device));
      resolve();
    }, this.opts.disconnectDelayMs ?? 0));
  }

  /** A plug-in whose event the OS lost (a netlink burst overflowed): only the device list shows it. */
  attachQuietly(device: FakeUsbDevice): void {
    this.attached.push(device);
  }

  /** An unplug whose event the OS lost: transfers fail and the device leaves the list, nothing is raised. */
  detachQuietly(device: FakeUsbDevice): void {
    this.attached = this.attached.filter((d) => d !== device);
    device.unplug();
  }

  /** Only the event, with the device still answering: the OS noticed the unplug before any transfer did. */
  announceDisconnect(device: FakeUsbDevice): void {
    this.attached = this.attached.filter((d) => d !== device);
    this.dispatchEvent(new FakeConnectionEvent('disconnect', device));
  }

  listenerCount = 0;
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listenerCount += 1;
    super.addEventListener(...args);
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listenerCount -= 1;
    super.removeEventListener(...args);
  }
}
