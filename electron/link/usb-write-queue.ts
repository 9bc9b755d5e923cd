// One writer per bulk endpoint, with the writes that queued up meanwhile sent together. A USB endpoint takes
// one transfer at a time (node-usb refuses a second one; a FunctionFS file sends one request per write), and
// every transfer costs a round through the host controller: the link layer writes frame by frame, so while
// one transfer is on its way the next frames wait here and leave as one transfer of up to `maxBatch` bytes.
// Order is kept, and each write's promise settles with the transfer that carried it.
interface Queued {
  bytes: Uint8Array;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class UsbWriteQueue {
  private readonly queue: Queued[] = [];
  private running = false;

  constructor(private readonly send: (bytes: Uint8Array) => Promise<void>, private readonly maxBatch: number) {}

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      if (!this.running) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const batch: Queued[] = [this.queue.shift()!];
      let size = batch[0]!.bytes.length;
      while (this.queue.length > 0 && size + this.queue[0]!.bytes.length <= this.maxBatch) {
        const next = this.queue.shift()!;
        batch.push(next);
        size += next.bytes.length;
      }
      const bytes = batch.length === 1 ? batch[0]!.bytes : concat(batch.map((q) => q.bytes), size);
      try {
        await this.send(bytes);
        for (const q of batch) q.resolve();
      } catch (err) {
        for (const q of batch) q.reject(err);
      }
    }
    this.running = false;
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
