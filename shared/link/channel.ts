// The reliable channel of one link session (docs/link-protocol.md §Reliable delivery): messages in, frames
// out, and back. It gives the layers above an ordered, lossless stream of messages over a line that may drop,
// damage or duplicate frames.
//
// - Sending: a message is cut into DATA frames of at most `maxPayload` bytes (MORE flag on all but the
//   last). Up to `window` frames are unacknowledged at once, so the line stays busy while acks travel back.
// - Acks are cumulative: every frame's `ack` field is the next sequence number its sender expects. The
//   receiver keeps frames that arrive after a gap (selective repeat) and flags the gap once with NAK, so
//   one lost frame costs one resend, not a window.
// - A frame still unacknowledged `rto` ms after it left is sent again (rto.ts); after MAX_SENDS sends the
//   peer counts as gone. When the line's rate is known (a serial port: baud and framing), a frame "leaves"
//   when the line can have carried it and everything written before it, not when the transport took it:
//   a UART's buffer, a USB-serial adapter's or a pty relay's queue hold a window's worth of frames for
//   seconds at 115200 baud (4 KiB frames: 0.36 s each), and a timer started at the write would resend
//   frames still waiting their turn on the cable. Round trips measured that way are the device's
//   reaction time, so the retransmission timer stays short.
// - One retransmission timer per channel, re-armed only when it fires or a frame falls due earlier; it is
//   not cleared and set again for every frame.
// - Frame length follows the line's quality: the first frames carry 1 KiB, every 8 frames acknowledged at
//   their first send double that (up to the agreed maxPayload: 4 KiB after 16 frames on a clean line), and
//   every resend halves the payload of the frames cut from then on (down to MIN_MAX_PAYLOAD). The longer a
//   frame, the likelier a flipped bit hits it: on a line that damages one byte in a few thousand, 4 KiB
//   frames would almost all be lost, and frames already cut cannot be cut again when they are resent. Any
//   receiver takes frames shorter than the limit.
// - Keep-alive: when nothing was sent for `keepAliveMs`, a KEEPALIVE frame goes out (repeating the ack and
//   NAK state, which repairs a lost ACK); when nothing was heard for `deadPeerMs`, the channel fails, so a
//   silent unplug is noticed even where the OS reports nothing.
// - A peer breaking the agreed limits (frame over maxPayload, beyond the window, message over maxMessage,
//   an ack for a frame never sent) fails the channel at once: it is not noise, CRC-32 already ruled that out.
import { DockhandError } from '../model/errors.js';
import { encodeFrame, FrameFlag, FrameType, type Frame } from './frame.js';
import { DEAD_PEER_KEEPALIVES, DEFAULT_KEEPALIVE_MS, MAX_SENDS, MIN_MAX_PAYLOAD, seconds } from './limits.js';
import { MessageAssembler } from './reassembly.js';
import { RtoEstimator } from './rto.js';
import type { LinkTimers } from './timers.js';

export interface ChannelParams {
  session: number;
  maxPayload: number;
  window: number;
  maxMessage: number;
  keepAliveMs?: number;
  deadPeerMs?: number;
  maxSends?: number;
  initialRtoMs?: number;
  /** Bytes per second the line carries in the sending direction, when known (serial: baud / bits per byte). */
  lineRate?: number;
}

export interface ChannelIo {
  timers: LinkTimers;
  /** Puts one encoded frame on the line; resolves when the transport took it. */
  write(line: Uint8Array): Promise<void>;
  /** A whole message arrived. Throwing here (a malformed message) fails the channel with that message. */
  onMessage(message: Uint8Array): void;
  /** Called once, when the channel fails or is closed, with the reason in words. */
  onClosed(reason: string): void;
  /** Who is at the other end, for messages: 'the device' or 'the station'. */
  peer: string;
}

export interface ChannelStats {
  framesSent: number;
  framesResent: number;
  framesReceived: number;
  duplicates: number;
  naksSent: number;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}
interface InFlight {
  frame: Frame;
  sends: number;
  /** When the transport took the latest send; undefined while it is being written. */
  sentAt: number | undefined;
  done: Waiter | undefined;
}
interface Outgoing {
  message: Uint8Array;
  offset: number;
  done: Waiter;
}

const SEQ_MOD = 0x10000;
/** Frames acknowledged at their first send before the frame payload doubles (after the start or a loss). */
const CLEAN_FRAMES_TO_GROW = 8;
/** The payload of the first frames: the line has not shown yet whether it can carry longer ones. */
const START_FRAME_PAYLOAD = 1024;
/** Steps forward from sequence number `from` to `to`, modulo 2^16. */
const ahead = (from: number, to: number): number => (to - from + SEQ_MOD) % SEQ_MOD;

export class ReliableChannel {
  readonly stats: ChannelStats = { framesSent: 0, framesResent: 0, framesReceived: 0, duplicates: 0, naksSent: 0 };
  private readonly queue: Outgoing[] = [];
  private readonly inFlight = new Map<number, InFlight>(); // insertion order is sequence order
  private sendBase = 0;
  private nextSeq = 0;
  private recvNext = 0;
  private readonly held = new Map<number, Frame>();
  private nakedAt: number | undefined;
  private readonly assembler: MessageAssembler;
  private ackOwed = false;
  private lastSentAt: number;
  private lastHeardAt: number;
  private readonly rto: RtoEstimator;
  private retransmitTimer: unknown;
  private retransmitAt = Infinity; // when the armed retransmission timer fires
  private lineClearAt = 0; // when the line will have carried everything written so far (lineRate known)
  private framePayload: number; // payload of the next DATA frames: maxPayload, less after losses
  private cleanFrames = 0; // frames acknowledged at their first send since the payload last changed
  private aliveTimer: unknown;
  private closedReason: string | undefined;
  private readonly keepAliveMs: number;
  private readonly deadPeerMs: number;

  constructor(readonly params: ChannelParams, private readonly io: ChannelIo) {
    this.keepAliveMs = params.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.deadPeerMs = params.deadPeerMs ?? DEAD_PEER_KEEPALIVES * this.keepAliveMs;
    this.rto = new RtoEstimator(params.initialRtoMs);
    this.framePayload = Math.min(params.maxPayload, START_FRAME_PAYLOAD);
    this.assembler = new MessageAssembler(params.maxMessage);
    this.lastSentAt = this.lastHeardAt = io.timers.now();
    this.armAlive();
  }

  /** DATA frames written and not yet acknowledged: never more than the window. */
  get unacknowledged(): number {
    return this.inFlight.size;
  }

  /** Sends a message; resolves once the peer acknowledged all of it. */
  send(message: Uint8Array): Promise<void> {
    if (this.closedReason !== undefined) return Promise.reject(this.linkError(this.closedReason));
    if (message.length > this.params.maxMessage) {
      return Promise.reject(new RangeError(`message of ${message.length} bytes is over the agreed ${this.params.maxMessage}`));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, offset: 0, done: { resolve, reject } });
      this.pump();
    });
  }

  /** Feeds a DATA, ACK or KEEPALIVE frame of this session. */
  receive(frame: Frame): void {
    if (this.closedReason !== undefined) return;
    this.lastHeardAt = this.io.timers.now();
    this.stats.framesReceived++;
    this.onAck(frame.ack, (frame.flags & FrameFlag.NAK) !== 0);
    if (frame.type === FrameType.DATA && this.closedReason === undefined) this.onData(frame);
  }

  /** Sends the ack owed for DATA received since the last frame went out; call after each received chunk. */
  flushAck(): void {
    if (this.ackOwed && this.closedReason === undefined) this.control(FrameType.ACK);
  }

  /** Stops the channel: pending sends reject with LINK and `reason`; onClosed is called once. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.disarmRetransmit();
    this.io.timers.clearTimeout(this.aliveTimer);
    const err = this.linkError(reason);
    for (const entry of this.inFlight.values()) entry.done?.reject(err);
    for (const out of this.queue) out.done.reject(err);
    this.inFlight.clear();
    this.queue.length = 0;
    this.io.onClosed(reason);
  }

  private linkError(reason: string): DockhandError {
    return new DockhandError('LINK', reason, { transient: true });
  }

  private pump(): void {
    const max = this.framePayload;
    while (this.queue.length > 0 && this.inFlight.size < this.params.window && this.closedReason === undefined) {
      const out = this.queue[0]!;
      const payload = out.message.subarray(out.offset, out.offset + max);
      out.offset += payload.length;
      const last = out.offset >= out.message.length;
      if (last) this.queue.shift();
      const frame: Frame = { type: FrameType.DATA, flags: last ? 0 : FrameFlag.MORE, session: this.params.session, seq: this.nextSeq, ack: 0, payload };
      this.nextSeq = (this.nextSeq + 1) % SEQ_MOD;
      const entry: InFlight = { frame, sends: 0, sentAt: undefined, done: last ? out.done : undefined };
      this.inFlight.set(frame.seq, entry);
      this.transmit(entry);
    }
  }

  /** When the line will have carried `bytes` more (now, when its rate is unknown). */
  private clearedAt(bytes: number): number {
    const now = this.io.timers.now();
    const rate = this.params.lineRate;
    if (!rate) return now;
    this.lineClearAt = Math.max(now, this.lineClearAt) + (bytes * 1000) / rate;
    return this.lineClearAt;
  }

  /** Stamps the current ack (and NAK) on a frame and encodes it for the line. */
  private stamp(frame: Frame, repeatNak: boolean): Uint8Array {
    frame.ack = this.recvNext;
    frame.flags &= ~FrameFlag.NAK;
    if (this.held.size > 0 && (repeatNak || this.nakedAt !== this.recvNext)) {
      frame.flags |= FrameFlag.NAK;
      this.nakedAt = this.recvNext;
      this.stats.naksSent++;
    }
    this.ackOwed = false;
    this.lastSentAt = this.io.timers.now();
    this.stats.framesSent++;
    return encodeFrame(frame);
  }

  private transmit(entry: InFlight): void {
    if (entry.sends > 0) {
      this.stats.framesResent++;
      this.framePayload = Math.max(Math.min(MIN_MAX_PAYLOAD, this.params.maxPayload), this.framePayload >> 1);
      this.cleanFrames = 0;
    }
    entry.sends++;
    entry.sentAt = undefined;
    const sends = entry.sends;
    const line = this.stamp(entry.frame, false);
    const leavesAt = this.clearedAt(line.length);
    this.io.write(line).then(
      () => {
        if (entry.sends !== sends || this.closedReason !== undefined) return;
        entry.sentAt = Math.max(this.io.timers.now(), leavesAt);
        this.armRetransmit(entry.sentAt + this.rto.rto);
      },
      (err: unknown) => this.close(`the connection to ${this.io.peer} failed while sending (${err instanceof Error ? err.message : String(err)})`),
    );
  }

  private control(type: FrameType): void {
    const frame: Frame = { type, flags: 0, session: this.params.session, seq: 0, ack: 0, payload: new Uint8Array(0) };
    const line = this.stamp(frame, type === FrameType.KEEPALIVE);
    this.clearedAt(line.length);
    this.io.write(line).catch(() => undefined); // a lost ack is repaired by keep-alive
  }

  private onAck(ack: number, nak: boolean): void {
    const steps = ahead(this.sendBase, ack);
    if (steps > this.inFlight.size) {
      if (steps < SEQ_MOD / 2) this.close(`${this.io.peer} acknowledged frame ${ack}, which was never sent (link protocol error)`);
      return; // an older ack than one already seen: nothing new
    }
    const now = this.io.timers.now();
    let resentAt = -Infinity; // when the latest resent frame among those acknowledged left
    for (let i = 0; i < steps; i++) {
      const entry = this.inFlight.get(this.sendBase)!;
      this.inFlight.delete(this.sendBase);
      if (entry.sends > 1 && entry.sentAt !== undefined) resentAt = Math.max(resentAt, entry.sentAt);
      if (entry.sends === 1 && entry.sentAt !== undefined) {
        this.rto.sample(now - entry.sentAt);
        if (++this.cleanFrames >= CLEAN_FRAMES_TO_GROW && this.framePayload < this.params.maxPayload) {
          this.framePayload = Math.min(this.params.maxPayload, this.framePayload * 2);
          this.cleanFrames = 0;
        }
      }
      entry.done?.resolve();
      this.sendBase = (this.sendBase + 1) % SEQ_MOD;
    }
    // The next missing frame is resent at once when the peer NAKs it, or when the peer acknowledged a resend
    // that left after it: on a line that keeps frames in order, it would have arrived first.
    const missing = this.inFlight.get(ack);
    if (missing && (nak || (missing.sentAt !== undefined && missing.sentAt < resentAt))) this.transmit(missing);
    if (steps > 0) {
      if (this.inFlight.size === 0) this.disarmRetransmit(); // nothing left to guard: no timer lingers
      this.pump();
    }
  }

  private onData(frame: Frame): void {
    const { maxPayload, window } = this.params;
    if (frame.payload.length > maxPayload) {
      return this.close(`${this.io.peer} sent a frame of ${frame.payload.length} bytes, over the agreed ${maxPayload} (link protocol error)`);
    }
    this.ackOwed = true;
    const steps = ahead(this.recvNext, frame.seq);
    if (steps >= SEQ_MOD / 2 || this.held.has(frame.seq)) {
      this.stats.duplicates++; // already have it; the ack we owe now tells the peer so
      return;
    }
    if (steps >= window) {
      return this.close(`${this.io.peer} sent frame ${frame.seq}, beyond the agreed window of ${window} (link protocol error)`);
    }
    if (steps > 0) {
      this.held.set(frame.seq, frame);
      return;
    }
    this.accept(frame);
    for (let next = this.held.get(this.recvNext); next && this.closedReason === undefined; next = this.held.get(this.recvNext)) {
      this.held.delete(this.recvNext);
      this.accept(next);
    }
  }

  private accept(frame: Frame): void {
    this.recvNext = (this.recvNext + 1) % SEQ_MOD;
    let message: Uint8Array | undefined;
    try {
      message = this.assembler.push(frame.payload, (frame.flags & FrameFlag.MORE) !== 0);
    } catch {
      return this.close(`${this.io.peer} sent a message of more than ${this.params.maxMessage} bytes, over the agreed limit (link protocol error)`);
    }
    if (message === undefined) return;
    try {
      this.io.onMessage(message);
    } catch (err) {
      this.close(err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * Makes sure the retransmission timer fires by `due` (the earliest moment a frame may need resending).
   * A timer already due sooner stays; one that fires with nothing due simply re-arms for the next frame.
   */
  private armRetransmit(due: number): void {
    if (due >= this.retransmitAt) return;
    this.io.timers.clearTimeout(this.retransmitTimer);
    this.retransmitAt = due;
    this.retransmitTimer = this.io.timers.setTimeout(() => this.onRetransmitTimer(), Math.max(0, due - this.io.timers.now()));
  }

  private disarmRetransmit(): void {
    this.io.timers.clearTimeout(this.retransmitTimer);
    this.retransmitAt = Infinity;
  }

  private onRetransmitTimer(): void {
    this.retransmitAt = Infinity;
    const now = this.io.timers.now();
    const rto = this.rto.rto;
    let resent = false;
    let next = Infinity;
    for (const entry of this.inFlight.values()) {
      if (entry.sentAt === undefined) continue; // being written: its write arms the timer
      const due = entry.sentAt + rto; // compared as a sum, as armed: a difference can round the other way
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      const maxSends = this.params.maxSends ?? MAX_SENDS;
      if (entry.sends >= maxSends) {
        return this.close(`${this.io.peer} stopped acknowledging frames (${maxSends} attempts); check the cable and that the other end is running`);
      }
      this.transmit(entry);
      resent = true;
    }
    if (resent) this.rto.timedOut();
    if (next < Infinity) this.armRetransmit(next);
  }

  private armAlive(): void {
    const tick = Math.max(10, Math.min(this.keepAliveMs, this.deadPeerMs) / 2);
    this.aliveTimer = this.io.timers.setTimeout(() => {
      const now = this.io.timers.now();
      if (now - this.lastHeardAt >= this.deadPeerMs) {
        return this.close(
          `nothing heard from ${this.io.peer} for ${seconds(now - this.lastHeardAt)}: it was unplugged, powered off or stopped`,
        );
      }
      if (now - this.lastSentAt >= this.keepAliveMs) this.control(FrameType.KEEPALIVE);
      this.armAlive();
    }, tick);
  }
}
