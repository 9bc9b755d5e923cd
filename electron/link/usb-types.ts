// The slice of the WebUSB API (https://wicg.github.io/webusb/) the USB transport and watcher use, typed
// structurally so node-usb's `WebUSB` devices and the in-memory double in test/helpers/webusb-fake.ts both
// fit. Only electron/link/usb.ts touches the real `usb` package; everything else speaks these types.

export type UsbDirection = 'in' | 'out';
export type UsbTransferStatus = 'ok' | 'stall' | 'babble';

export interface UsbEndpointLike {
  readonly endpointNumber: number;
  readonly direction: UsbDirection;
  readonly type: string; // 'bulk' | 'interrupt' | 'isochronous'
  readonly packetSize: number;
}

export interface UsbAlternateInterfaceLike {
  readonly alternateSetting: number;
  readonly interfaceClass: number;
  readonly interfaceSubclass?: number;
  readonly interfaceProtocol?: number;
  readonly endpoints: readonly UsbEndpointLike[];
}

export interface UsbInterfaceLike {
  readonly interfaceNumber: number;
  readonly alternate: UsbAlternateInterfaceLike | null;
  readonly alternates: readonly UsbAlternateInterfaceLike[];
}

export interface UsbConfigurationLike {
  readonly configurationValue: number;
  readonly interfaces: readonly UsbInterfaceLike[];
}

export interface UsbInTransferResultLike {
  readonly status: UsbTransferStatus;
  readonly data?: DataView | undefined;
}

export interface UsbOutTransferResultLike {
  readonly status: UsbTransferStatus;
  readonly bytesWritten: number;
}

/**
 * A WebUSB `USBDevice`. node-usb adds a third `timeout` argument (milliseconds) to the transfers; a
 * browser-style implementation ignores it, which is why the transport never relies on it for correctness.
 */
export interface UsbDeviceLike {
  readonly vendorId: number;
  readonly productId: number;
  readonly serialNumber?: string | null | undefined;
  readonly productName?: string | null | undefined;
  readonly manufacturerName?: string | null | undefined;
  readonly opened: boolean;
  readonly configuration?: UsbConfigurationLike | null | undefined;
  readonly configurations: readonly UsbConfigurationLike[];
  open(): Promise<void>;
  close(): Promise<void>;
  selectConfiguration(configurationValue: number): Promise<void>;
  claimInterface(interfaceNumber: number): Promise<void>;
  releaseInterface(interfaceNumber: number): Promise<void>;
  selectAlternateInterface(interfaceNumber: number, alternateSetting: number): Promise<void>;
  transferIn(endpointNumber: number, length: number, timeoutMs?: number): Promise<UsbInTransferResultLike>;
  transferOut(endpointNumber: number, data: Uint8Array, timeoutMs?: number): Promise<UsbOutTransferResultLike>;
  clearHalt(direction: UsbDirection, endpointNumber: number): Promise<void>;
}

/** What `connect` / `disconnect` events carry. */
export interface UsbConnectionEventLike extends Event {
  readonly device: UsbDeviceLike;
}

/** A WebUSB `USB` object (node-usb's `WebUSB`, or `navigator.usb`). */
export interface WebUsbLike {
  getDevices(): Promise<UsbDeviceLike[]>;
  addEventListener(type: 'connect' | 'disconnect', listener: (event: Event) => void): void;
  removeEventListener(type: 'connect' | 'disconnect', listener: (event: Event) => void): void;
}

/**
 * A `--usb VID:PID` style filter; no productId means every product of the vendor. An empty filter list
 * matches nothing: plenty of unrelated gadgets (FTDI adapters among them) expose a vendor-specific bulk
 * interface, and the station must not start talking to them unasked.
 */
export interface UsbIdFilter {
  vendorId: number;
  productId?: number | undefined;
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** `1234:abcd`, the way lsusb and udev rules spell it. */
export function usbId(vendorId: number, productId: number): string {
  return `${hex4(vendorId)}:${hex4(productId)}`;
}

/**
 * Reads a string property that node-usb computes lazily: its `serialNumber` getter opens the device to read
 * a string descriptor and throws when that is not permitted. A missing name must not break discovery.
 */
export function safeString(read: () => string | null | undefined): string | undefined {
  try {
    const v = read();
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

/** `USB device 1234:abcd (serial ABC)` — how a technician sees the device in messages. */
export function describeUsbDevice(device: UsbDeviceLike): string {
  const serial = safeString(() => device.serialNumber);
  return `USB device ${usbId(device.vendorId, device.productId)}${serial ? ` (serial ${serial})` : ''}`;
}

/** The transport label: `usb 1234:abcd serial ABC`. */
export function usbLabel(device: UsbDeviceLike): string {
  const serial = safeString(() => device.serialNumber);
  return `usb ${usbId(device.vendorId, device.productId)}${serial ? ` serial ${serial}` : ''}`;
}

export function matchesUsbFilters(device: { vendorId: number; productId: number }, filters: readonly UsbIdFilter[]): boolean {
  return filters.some((f) => f.vendorId === device.vendorId && (f.productId === undefined || f.productId === device.productId));
}
