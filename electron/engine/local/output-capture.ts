// Keeps a bounded record of a command's output: the first half of the budget and the most recent half.
// The head usually says what the program set out to do and the tail why it stopped, which is what a
// technician reads; everything in between is counted but dropped, so a program printing forever costs
// a fixed amount of memory however long it runs.

export class OutputCapture {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;
  private readonly headLimit: number;
  private readonly tailLimit: number;

  constructor(readonly maxBytes: number) {
    this.headLimit = Math.ceil(maxBytes / 2);
    this.tailLimit = maxBytes - this.headLimit;
  }

  /** Bytes seen so far, kept or not. */
  get totalBytes(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.maxBytes;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0 || this.tailLimit === 0) return;
    // Copy: a slice of a large chunk would otherwise pin the whole chunk in memory.
    this.tail.push(Buffer.from(rest.subarray(Math.max(0, rest.length - this.tailLimit))));
    this.tailBytes += Math.min(rest.length, this.tailLimit);
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= this.tailLimit) {
      this.tailBytes -= this.tail.shift()?.length ?? 0;
    }
  }

  /** The kept output as text; when bytes were dropped, a marker line says how many and where. */
  text(): string {
    const head = Buffer.concat(this.head);
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.tailLimit) tail = tail.subarray(tail.length - this.tailLimit);
    // Decode in one piece when nothing was dropped, so a character split across head and tail survives.
    if (!this.truncated) return Buffer.concat([head, tail]).toString('utf8');
    const dropped = this.total - head.length - tail.length;
    return `${head.toString('utf8')}\n[... ${dropped} bytes of output omitted ...]\n${tail.toString('utf8')}`;
  }
}
