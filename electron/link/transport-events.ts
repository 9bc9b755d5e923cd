// The listener bookkeeping every Transport needs: bytes that arrive before anyone listens are kept and
// handed over in order, and the close is told exactly once — also to a listener that comes after it.
export class TransportEvents {
  private dataListener: ((bytes: Uint8Array) => void) | undefined;
  private readonly early: Uint8Array[] = [];
  private closeListener: ((reason: string) => void) | undefined;
  private reason: string | undefined;

  /** `deferClose`: tell the close on a later microtask (the USB transport does, from inside its callbacks). */
  constructor(private readonly deferClose = false) {}

  get closedReason(): string | undefined {
    return this.reason;
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.dataListener = listener;
    for (const chunk of this.early.splice(0)) listener(chunk);
  }

  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
    if (this.reason !== undefined) this.tell(listener, this.reason);
  }

  deliver(bytes: Uint8Array): void {
    if (this.dataListener) this.dataListener(bytes);
    else this.early.push(bytes);
  }

  /** Marks the transport gone; true only the first time. */
  end(reason: string): boolean {
    if (this.reason !== undefined) return false;
    this.reason = reason;
    if (this.closeListener) this.tell(this.closeListener, reason);
    return true;
  }

  private tell(listener: (reason: string) => void, reason: string): void {
    if (this.deferClose) queueMicrotask(() => listener(reason));
    else listener(reason);
  }
}
