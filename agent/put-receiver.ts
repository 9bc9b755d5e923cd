// The device's side of PUT_QUERY / PUT_BEGIN / PUT_DATA / PUT_END for one session. Chunks are handed to the
// transfer's PutHandle, which writes them in order behind the channel's back. The first failure of a
// transfer is reported once as an ERROR; the rest of its chunks are dropped.
import type { Body } from '../shared/link/bodies.js';
import { decodeChunk, MessageType } from '../shared/link/messages.js';
import type { RequestScope } from './context.js';
import type { PutHandle } from './put-store.js';
import { LinkRefusal } from './refusal.js';

interface Transfer {
  handle: PutHandle;
  failed: boolean;
  spec: Body<'PUT_BEGIN'>;
}

export interface Replies {
  reply(type: MessageType, id: number, body: unknown): void;
  refuse(id: number, err: unknown): void;
}

export class PutReceiver {
  private readonly transfers = new Map<number, Transfer>();

  constructor(private readonly scope: RequestScope, private readonly out: Replies) {}

  async query(id: number, body: Body<'PUT_QUERY'>): Promise<void> {
    this.out.reply(MessageType.PUT_QUERY_REPLY, id, { offset: await this.scope.ctx.puts.query(body) });
  }

  async begin(id: number, body: Body<'PUT_BEGIN'>): Promise<void> {
    if (body.offset > body.size) throw new LinkRefusal('BAD_OFFSET', `byte ${body.offset} is past the end of a ${body.size}-byte file`);
    if (this.transfers.has(id)) throw new LinkRefusal('BAD_REQUEST', `request id ${id} is already a file transfer`);
    const handle = await this.scope.ctx.puts.begin(body, body.offset);
    this.transfers.set(id, { handle, failed: false, spec: body });
    this.scope.ctx.log(`receiving ${body.fileName} into ${body.directory}: ${body.size} bytes from byte ${body.offset}`);
    this.out.reply(MessageType.PUT_BEGIN_REPLY, id, { offset: body.offset });
  }

  data(id: number, body: Uint8Array): void {
    const transfer = this.transfers.get(id);
    if (!transfer || transfer.failed) return; // cancelled, failed, or never begun: nothing to add to
    const chunk = decodeChunk(body);
    if (!chunk) return this.fail(id, transfer, new LinkRefusal('BAD_REQUEST', 'a PUT_DATA message was too short to hold its offset'));
    transfer.handle.enqueue(chunk.offset, chunk.bytes, (err) => this.fail(id, transfer, err));
  }

  end(id: number): void {
    const transfer = this.transfers.get(id);
    if (!transfer) return this.out.refuse(id, new LinkRefusal('BAD_REQUEST', `request id ${id} is not a file transfer in progress`));
    this.transfers.delete(id);
    void (async () => {
      try {
        const host = await transfer.handle.finish();
        const devicePath = this.scope.ctx.puts.devicePath(host);
        await this.scope.ctx.record.fileReceived({ path: devicePath, size: transfer.spec.size, sha256: transfer.spec.sha256.toLowerCase() });
        this.scope.ctx.log(`saved ${devicePath} (${transfer.spec.size} bytes, SHA-256 verified)`);
        this.out.reply(MessageType.PUT_END_REPLY, id, { path: devicePath });
      } catch (err) {
        if (!transfer.failed) this.out.refuse(id, err);
      }
    })();
  }

  /** Stops a transfer, keeping what arrived for a resume. */
  cancel(id: number): void {
    const transfer = this.transfers.get(id);
    if (!transfer) return;
    this.transfers.delete(id);
    transfer.failed = true;
    void transfer.handle.close();
  }

  /** The session ended (unplug, silence, new HELLO): every transfer keeps its part file for a resume. */
  abandonAll(): void {
    for (const [id, t] of [...this.transfers]) {
      this.cancel(id);
      void t.handle.close().then(() =>
        this.scope.ctx.log(`transfer of ${t.spec.fileName} interrupted at byte ${t.handle.bytes} of ${t.spec.size}; kept for resume`));
    }
  }

  private fail(id: number, transfer: Transfer, err: unknown): void {
    if (transfer.failed) return;
    transfer.failed = true;
    this.transfers.delete(id);
    this.out.refuse(id, err);
    void transfer.handle.close(); // the part stays: a later PUT_BEGIN may resume it
  }
}
