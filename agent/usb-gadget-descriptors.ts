// The bytes a FunctionFS function writes to its ep0 file before the gadget can be bound (Linux
// Documentation/usb/functionfs.rst, include/uapi/linux/usb/functionfs.h), and the events it reads back.
//
// The link's USB function (docs/link-protocol.md §1.1): one interface of class 0xFF (vendor-specific) with
// one bulk IN endpoint (ep1 file, device → station) and one bulk OUT endpoint (ep2 file, station →
// device), described for full speed (64-byte packets), high speed (512) and SuperSpeed (1024, with its
// companion descriptor), so the same function works on any UDC a board has.

const DESCRIPTORS_MAGIC_V2 = 3;
const STRINGS_MAGIC = 2;
const HAS_FS_DESC = 1;
const HAS_HS_DESC = 2;
const HAS_SS_DESC = 4;

const USB_DT_INTERFACE = 4;
const USB_DT_ENDPOINT = 5;
const USB_DT_SS_ENDPOINT_COMP = 0x30;
const USB_CLASS_VENDOR_SPEC = 0xff;
const USB_ENDPOINT_XFER_BULK = 2;
const USB_DIR_IN = 0x80;
const LANG_EN_US = 0x0409;

/** The smallest bulk packet of any speed: a write whose length is a multiple of it may need a ZLP. */
export const SMALLEST_BULK_PACKET = 64;

function interfaceDescriptor(): number[] {
  // bLength, bDescriptorType, bInterfaceNumber, bAlternateSetting, bNumEndpoints, class, subclass,
  // protocol, iInterface (string 1: the interface name)
  return [9, USB_DT_INTERFACE, 0, 0, 2, USB_CLASS_VENDOR_SPEC, 0, 0, 1];
}

function endpointDescriptor(address: number, maxPacket: number): number[] {
  return [7, USB_DT_ENDPOINT, address, USB_ENDPOINT_XFER_BULK, maxPacket & 0xff, maxPacket >> 8, 0];
}

function speed(maxPacket: number, superSpeed: boolean): number[][] {
  const companion = [6, USB_DT_SS_ENDPOINT_COMP, 0, 0, 0, 0];
  const ins = endpointDescriptor(1 | USB_DIR_IN, maxPacket);
  const outs = endpointDescriptor(2, maxPacket);
  return superSpeed ? [interfaceDescriptor(), ins, companion, outs, companion] : [interfaceDescriptor(), ins, outs];
}

const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

/** FunctionFS descriptors (format v2): full, high and SuperSpeed variants of the one vendor interface. */
export function functionFsDescriptors(): Buffer {
  const fs = speed(64, false);
  const hs = speed(512, false);
  const ss = speed(1024, true);
  const body = [...le32(fs.length), ...le32(hs.length), ...le32(ss.length), ...[fs, hs, ss].flat(2)];
  const length = 12 + body.length;
  return Buffer.from([...le32(DESCRIPTORS_MAGIC_V2), ...le32(length), ...le32(HAS_FS_DESC | HAS_HS_DESC | HAS_SS_DESC), ...body]);
}

/** FunctionFS strings: the interface name (string 1), in US English. */
export function functionFsStrings(interfaceName: string): Buffer {
  const text = Buffer.from(`${interfaceName}\0`, 'utf8');
  const header = Buffer.alloc(16);
  header.writeUInt32LE(STRINGS_MAGIC, 0);
  header.writeUInt32LE(16 + 2 + text.length, 4);
  header.writeUInt32LE(1, 8); // str_count
  header.writeUInt32LE(1, 12); // lang_count
  const lang = Buffer.alloc(2);
  lang.writeUInt16LE(LANG_EN_US, 0);
  return Buffer.concat([header, lang, text]);
}

export type FunctionFsEventType = 'bind' | 'unbind' | 'enable' | 'disable' | 'setup' | 'suspend' | 'resume';
const EVENT_TYPES: readonly FunctionFsEventType[] = ['bind', 'unbind', 'enable', 'disable', 'setup', 'suspend', 'resume'];

export interface FunctionFsEvent {
  type: FunctionFsEventType | `unknown ${number}`;
  /** For `setup`: the control request the host sent to this function. */
  setup?: { requestType: number; request: number; value: number; index: number; length: number };
}

/** `struct usb_functionfs_event` is 12 bytes: an 8-byte control request, the type, 3 bytes of padding. */
export const EVENT_SIZE = 12;

export function parseFunctionFsEvents(bytes: Uint8Array): FunctionFsEvent[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const events: FunctionFsEvent[] = [];
  for (let at = 0; at + EVENT_SIZE <= buf.length; at += EVENT_SIZE) {
    const code = buf[at + 8]!;
    const type = EVENT_TYPES[code] ?? (`unknown ${code}` as const);
    const event: FunctionFsEvent = { type };
    if (type === 'setup') {
      event.setup = {
        requestType: buf[at]!, request: buf[at + 1]!, value: buf.readUInt16LE(at + 2), index: buf.readUInt16LE(at + 4), length: buf.readUInt16LE(at + 6),
      };
    }
    events.push(event);
  }
  return events;
}
