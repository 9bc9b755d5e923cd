// Keeps a file stream flowing: the sender hands chunks to the channel without waiting for each one to be
// acknowledged (that would leave one frame in flight and the line idle most of the time), but stops handing
// them over while `depth` are still unacknowledged, so a file is never read into memory faster than the
// line carries it. Used for PUT_DATA on the station and GET_DATA on the device.

export class SendPipeline {
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly send: (message: Uint8Array) => Promise<void>,
    private readonly depth: number,
  ) {}

  /** Hands one message to the channel; waits while too many are unacknowledged. Rejects if a send failed. */
  async push(message: Uint8Array, onAcknowledged?: () => void): Promise<void> {
    const sent = this.send(message).then(onAcknowledged);
    sent.catch(() => undefined); // surfaced by the await below or in drain(), never as an unhandled rejection
    this.pending.push(sent);
    while (this.pending.length >= this.depth) await this.pending.shift();
  }

  /** Waits until every message handed over was acknowledged. */
  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.pending.shift();
  }
}
