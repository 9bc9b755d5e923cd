// The bytes of a response body between the socket and the disk, copied into a few reused blocks.
//
// Most bytes are not copied at all: the socket reads straight into the free end of the last block
// (space(), body-pump.ts and http-exchange.ts), and push() then only counts them. What is copied: bytes read
// into another buffer (those that came with the response's head, a chunked body's data, which sits between
// chunk lines), and every chunk of a source that cannot read into given memory.
//
// Why copy rather than queue the chunks themselves: a socket that allocates hands over a fresh buffer (up to
// 64 KiB) per read. Kept in a queue until a block's worth has gathered, those buffers can live long enough
// to leave V8's young generation, and a gigabyte of them then costs a full garbage collection every few
// dozen megabytes (measured with a queue of buffers: 23 full collections per GiB). Copied at once into a
// block, each socket buffer dies young and is freed almost for nothing; the copy costs about a tenth of a
// second per GiB, and a full block is one write.
//
// A block is taken from the front in views (a whole block, or a rate limiter's share of one); a view stays
// valid until `recycle` is called for it, after the write that uses it has finished.

/**
 * Blocks are shared memory so that the thread that hashes a large package reads them where the socket
 * wrote them (package-hash.ts); everything else treats them as ordinary Buffers.
 */
function newBlock(bytes: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(bytes));
}

interface Block {
  buf: Buffer;
  filled: number; // bytes copied in
  taken: number; // bytes handed out as views
}

export interface View {
  bytes: Buffer;
  /** The block this view emptied, to give back with recycle() once the view is no longer used. */
  emptied: Buffer | null;
}

export class BlockQueue {
  readonly #blocks: Block[] = [];
  readonly #free: Buffer[] = [];
  #size = 0;
  #copied = 0;

  constructor(readonly blockBytes: number, private readonly keepFree: number) {}

  /** Bytes push() had to copy (the rest were read in place through space()). */
  get copiedBytes(): number {
    return this.#copied;
  }

  /** Bytes queued and not yet taken. */
  get size(): number {
    return this.#size;
  }

  /** Bytes that can be taken as one view now (the front block's untaken part). */
  get frontBytes(): number {
    const front = this.#blocks[0];
    return front ? front.filled - front.taken : 0;
  }

  /** True when the front block is full, so a view of it is a whole block. */
  get frontFull(): boolean {
    const front = this.#blocks[0];
    return front !== undefined && front.filled === this.blockBytes;
  }

  /**
   * The free end of the last block (of a new one when it is full): where the socket can read the next bytes
   * so that push() finds them already in place. It stays valid until the next push.
   */
  space(): Buffer {
    const tail = this.#roomyTail();
    return tail.buf.subarray(tail.filled);
  }

  /** The last block if it has room, else a new (reused or fresh) one appended. */
  #roomyTail(): Block {
    let tail = this.#blocks[this.#blocks.length - 1];
    if (!tail || tail.filled === this.blockBytes) {
      tail = { buf: this.#free.pop() ?? newBlock(this.blockBytes), filled: 0, taken: 0 };
      this.#blocks.push(tail);
    }
    return tail;
  }

  push(chunk: Uint8Array): void {
    const tail = this.#blocks[this.#blocks.length - 1];
    if (tail && chunk.buffer === tail.buf.buffer && chunk.byteOffset === tail.buf.byteOffset + tail.filled && chunk.length <= this.blockBytes - tail.filled) {
      // Read straight into space(): the bytes are where they belong, nothing to copy.
      tail.filled += chunk.length;
      this.#size += chunk.length;
      return;
    }
    this.#copied += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const tail = this.#roomyTail();
      const n = Math.min(chunk.length - at, this.blockBytes - tail.filled);
      tail.buf.set(chunk.subarray(at, at + n), tail.filled);
      tail.filled += n;
      at += n;
    }
    this.#size += chunk.length;
  }

  /** Up to `max` bytes from the front, as one view; null when nothing is queued. */
  take(max: number): View | null {
    const front = this.#blocks[0];
    if (!front || front.filled === front.taken) return null;
    const n = Math.min(max, front.filled - front.taken);
    const bytes = front.buf.subarray(front.taken, front.taken + n);
    front.taken += n;
    this.#size -= n;
    let emptied: Buffer | null = null;
    if (front.taken === this.blockBytes) {
      this.#blocks.shift();
      emptied = front.buf;
    }
    return { bytes, emptied };
  }

  /** Gives a block back for reuse, once the view that emptied it is no longer in use. */
  recycle(view: View): void {
    if (view.emptied && this.#free.length < this.keepFree) this.#free.push(view.emptied);
  }

  /** Drops everything queued (bytes that must not reach the file). */
  clear(): void {
    this.#blocks.length = 0;
    this.#size = 0;
  }
}
