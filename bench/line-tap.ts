// A tap on an emulated serial line for the benchmarks: it decodes the frames flowing each way (as a
// receiver would: in sequence, duplicates and resends skipped) and remembers where on the line each
// message began and ended, so a benchmark can say when the paced line carried it (releasedAt).
import { cobsDecode } from '../shared/link/cobs.js';
import { FrameFlag, FrameType, parseFrame } from '../shared/link/frame.js';
import { messageTypeName } from '../shared/link/messages.js';
import type { Direction, Release } from '../test/helpers/line-rate-link.js';

export interface Seen {
  dir: Direction;
  /** Stream offsets (bytes of that direction) of the message's first and last byte on the line. */
  start: number;
  end: number;
}

interface Lane {
  block: number[]; // bytes since the last delimiter
  blockStart: number;
  expected: number | null; // next DATA sequence number, once the session's first one was seen
  message: { name: string; start: number } | null; // a message whose frames say MORE
}

export class LineTap {
  private readonly lanes: Record<Direction, Lane> = {
    toDevice: { block: [], blockStart: 0, expected: null, message: null },
    toStation: { block: [], blockStart: 0, expected: null, message: null },
  };
  private readonly seen = new Map<string, Seen[]>();
  private readonly lineBytes = new Map<string, number>();
  /** DATA frames seen again (resends, or duplicates on the line). */
  resent = 0;

  take(dir: Direction, chunk: Uint8Array, offset: number): void {
    const lane = this.lanes[dir];
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== 0) {
        if (lane.block.length === 0) lane.blockStart = offset + i;
        lane.block.push(chunk[i]!);
        continue;
      }
      if (lane.block.length > 0) this.block(dir, lane, Uint8Array.from(lane.block), offset + i);
      lane.block = [];
    }
  }

  private block(dir: Direction, lane: Lane, encoded: Uint8Array, end: number): void {
    const raw = cobsDecode(encoded);
    const frame = raw && parseFrame(raw);
    if (!frame || 'problem' in frame) return;
    const start = lane.blockStart - 1; // the leading delimiter
    if (frame.type === FrameType.HELLO || frame.type === FrameType.HELLO_REPLY) {
      lane.expected = 0;
      return this.note(frame.type === FrameType.HELLO ? 'HELLO' : 'HELLO_REPLY', dir, start, end);
    }
    if (frame.type !== FrameType.DATA) return;
    if (lane.expected !== null && frame.seq !== lane.expected) {
      this.resent++;
      return;
    }
    lane.expected = (frame.seq + 1) % 0x10000;
    const name = lane.message?.name ?? messageTypeName(frame.payload[0] ?? 0);
    const from = lane.message?.start ?? start;
    this.lineBytes.set(name, (this.lineBytes.get(name) ?? 0) + end + 1 - start);
    if (frame.flags & FrameFlag.MORE) {
      lane.message = { name, start: from };
      return;
    }
    lane.message = null;
    this.note(name, dir, from, end);
  }

  private note(name: string, dir: Direction, start: number, end: number): void {
    const list = this.seen.get(name) ?? [];
    list.push({ dir, start, end });
    this.seen.set(name, list);
  }

  first(name: string): Seen | undefined {
    return this.seen.get(name)?.[0];
  }

  last(name: string): Seen | undefined {
    const list = this.seen.get(name);
    return list?.[list.length - 1];
  }

  /** Bytes on the line taken by the frames of one kind of message. */
  bytes(name: string): number {
    return this.lineBytes.get(name) ?? 0;
  }
}

/** When (the relay's clock) the paced line released the byte at `offset` of a direction. */
export function releasedAt(log: readonly Release[], offset: number): number {
  let released = 0;
  for (const r of log) {
    released += r.bytes;
    if (released > offset) return r.t;
  }
  return NaN;
}
