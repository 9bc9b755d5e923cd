// Joins the payloads of consecutive DATA frames into messages: every frame with the MORE flag continues the
// message, the first frame without it ends it. The agreed maximum message size is enforced while joining,
// so a peer sending a message that never ends costs at most that much memory.

export class MessageAssembler {
  private parts: Uint8Array[] = [];
  private bytes = 0;

  constructor(private readonly maxMessage: number) {}

  /**
   * Adds one frame's payload. Returns the whole message when this was its last frame, undefined while it
   * continues; throws a RangeError once the message would exceed the limit.
   */
  push(payload: Uint8Array, more: boolean): Uint8Array | undefined {
    this.bytes += payload.length;
    if (this.bytes > this.maxMessage) throw new RangeError(`a message of more than ${this.maxMessage} bytes`);
    this.parts.push(payload);
    if (more) return undefined;
    if (this.parts.length === 1) {
      // A message in one frame (every file chunk) is that frame's payload: no copy.
      this.parts = [];
      this.bytes = 0;
      return payload;
    }
    const message = new Uint8Array(this.bytes);
    let at = 0;
    for (const part of this.parts) {
      message.set(part, at);
      at += part.length;
    }
    this.parts = [];
    this.bytes = 0;
    return message;
  }
}
