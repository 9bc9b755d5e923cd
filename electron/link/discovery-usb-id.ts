// `--usb VID:PID` filters as a technician types them (hex, as lsusb prints them, any case, optional 0x),
// and the USB IDs serial-port listings carry (hex strings such as "0403" or "0x0403").
import type { UsbIdFilter } from './usb-types.js';

export class UsbIdFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsbIdFormatError';
  }
}

const EXAMPLE = 'write it as VID:PID in hex, as lsusb prints it, e.g. 1209:d0c4';
const HEX = /^(?:0x)?([0-9a-f]{1,4})$/i;

function hexPart(text: string, whole: string, which: 'vendor' | 'product'): number {
  const m = HEX.exec(text);
  if (!m) {
    const why = text === '' ? 'is missing' : `"${text}" is not a hex number of 1 to 4 digits`;
    throw new UsbIdFormatError(`"${whole}" is not a USB ID: the ${which} ID ${why}; ${EXAMPLE}`);
  }
  return parseInt(m[1]!, 16);
}

/** Parses `VID:PID`; both halves are required so a filter never matches a whole vendor by accident. */
export function parseUsbId(text: string): { vendorId: number; productId: number } {
  const whole = text.trim();
  if (whole === '') throw new UsbIdFormatError(`a USB ID is empty; ${EXAMPLE}`);
  const parts = whole.split(':');
  if (parts.length !== 2) {
    throw new UsbIdFormatError(`"${whole}" is not a USB ID: it needs exactly one colon between the vendor and product IDs; ${EXAMPLE}`);
  }
  return { vendorId: hexPart(parts[0]!.trim(), whole, 'vendor'), productId: hexPart(parts[1]!.trim(), whole, 'product') };
}

/** Parses every `--usb` value; the first bad one is reported. */
export function parseUsbIds(texts: readonly string[]): UsbIdFilter[] {
  return texts.map(parseUsbId);
}

/** A USB ID from a serial-port listing, or undefined when it is missing or not hex. */
export function listedUsbId(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = HEX.exec(text.trim());
  return m ? parseInt(m[1]!, 16) : undefined;
}
