// Sorting USB transfer failures into what the transport does next. node-usb (nusb underneath) rejects with
// `transferIn error: Disconnected | Stall | Cancelled | Fault`; a browser's WebUSB rejects with DOMExceptions
// (`NotFoundError` once unplugged, `AbortError` when cancelled) and reports stalls as a result status. A
// node-usb transfer that reaches its timeout is cancelled, which is only "nothing arrived yet" for reads.
//
// `Fault` reads as "gone": on a real xHCI bus, three unplugs in four failed the pending transfer with
// `Fault` (the controller's transaction error) and only the rest with `Disconnected` (test/vm). A fault
// from a device that is still there (a babble, a glitch) also ends the link; the dock manager then finds
// the device present and docks it again.

export type UsbFailureKind = 'gone' | 'timeout' | 'stall' | 'other';

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

export function classifyUsbError(err: unknown): UsbFailureKind {
  const name = err instanceof Error ? err.name : '';
  const text = `${name} ${errorText(err)}`;
  if (/NotFoundError|disconnect|\bfault\b|no such device|no[ _]device|ENODEV|ESHUTDOWN|unplugged|device (was )?(lost|removed|gone)|invalid state/i.test(text)) return 'gone';
  if (/stall|EPIPE/i.test(text)) return 'stall';
  if (/AbortError|cancel|timed? ?out|ETIMEDOUT/i.test(text)) return 'timeout';
  return 'other';
}
