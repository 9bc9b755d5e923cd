// A byte pipe to one tethered device: a serial port, or a USB vendor interface's bulk IN/OUT pair. The
// link protocol (shared/link, docs/link-protocol.md) runs unchanged over any of them.
export interface Transport {
  /** Human-readable place: `/dev/ttyUSB0`, `usb 1234:5678 serial ABC`. */
  readonly label: string;
  /**
   * Bytes per second the line carries in each direction, when the transport knows it (a serial port: its
   * baud rate over the bits each byte takes). The link sizes its frames and times its retransmissions by it.
   */
  readonly lineRate?: number;
  /** Writes bytes; resolves once the transport accepted them (backpressure). Rejects after close. */
  write(bytes: Uint8Array): Promise<void>;
  /** Every chunk received, in order. One listener. */
  onData(listener: (bytes: Uint8Array) => void): void;
  /** Called once when the transport is gone (unplugged, closed, failed), with the reason in words. */
  onClose(listener: (reason: string) => void): void;
  close(): Promise<void>;
}
