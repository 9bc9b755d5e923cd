// The guest's end of the control channel (test/vm/vm.ts): the virtio serial port named dockhand.ctl.
// The guest asks the host to do what only the host can (plug and unplug QEMU devices over QMP) and waits
// for its answer; notes are one-way progress lines for the host's log.
import { createReadStream, createWriteStream, openSync, readdirSync, readFileSync, type ReadStream, type WriteStream } from 'node:fs';

const PORT_NAME = 'dockhand.ctl';

function findPort(): string {
  for (const dev of readdirSync('/sys/class/virtio-ports')) {
    if (readFileSync(`/sys/class/virtio-ports/${dev}/name`, 'utf8').trim() === PORT_NAME) return `/dev/${dev}`;
  }
  throw new Error(`no virtio serial port named ${PORT_NAME} (is virtio_console loaded?)`);
}

export class Control {
  private out: WriteStream;
  private readonly input: ReadStream;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    // A virtio port opens once: one descriptor for both directions.
    const fd = openSync(findPort(), 'r+');
    this.out = createWriteStream('', { fd, autoClose: false });
    let buffer = '';
    const input = createReadStream('', { fd, autoClose: false, encoding: 'utf8', highWaterMark: 1024 });
    this.input = input;
    input.on('data', (chunk: string | Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const msg = JSON.parse(buffer.slice(0, nl)) as { id: number; ok: boolean; result?: unknown; error?: string };
        buffer = buffer.slice(nl + 1);
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.ok) p?.resolve(msg.result);
        else p?.reject(new Error(`the host could not ${msg.error}`));
      }
    });
  }

  request<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.out.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  /** Asks the host to close the channel, then waits for the end of it: after that the process can exit. */
  async bye(): Promise<void> {
    const ended = new Promise<void>((resolve) => this.input.once('end', () => resolve()));
    await this.request('bye');
    await ended;
  }

  note(text: string): void {
    this.out.write(`${JSON.stringify({ note: text })}\n`);
  }
}
