// One end of a link, station or device: it reads frames off the byte stream, hands the current session's
// DATA/ACK/KEEPALIVE frames to its reliable channel, and leaves HELLO and HELLO_REPLY to the role (the
// station's client, the device's agent). A device answers frames of a session it does not have with a
// RESET, so a station still talking to a device that restarted (or gave up on the session) learns at once
// instead of after its dead-peer timeout. A station only ignores them: a stale frame from a device's earlier
// session must not answer for a session the station is just opening.
import { ReliableChannel, type ChannelParams } from './channel.js';
import { encodeFrame, FrameType, type Frame } from './frame.js';
import { FrameReader, type ReadProblem } from './frame-reader.js';
import type { LinkTimers } from './timers.js';

export interface EndpointIo {
  timers: LinkTimers;
  write(bytes: Uint8Array): Promise<void>;
  /** 'the device' or 'the station', for messages. */
  peer: string;
  /** HELLO and HELLO_REPLY frames (any session). */
  onHandshake(frame: Frame): void;
  /** Damaged blocks on the line, for counters and traces. */
  onProblem?(problem: ReadProblem, detail: string): void;
  /** Answer frames of unknown sessions with RESET (the device's rule; the station leaves this off). */
  resetUnknownSessions: boolean;
}

export interface SessionHandlers {
  onMessage(message: Uint8Array): void;
  onClosed(reason: string): void;
}

const RESET_INTERVAL_MS = 1000;

export class LinkEndpoint {
  private readonly reader: FrameReader;
  private current: { session: number; channel: ReliableChannel } | undefined;
  private lastResetAt = -Infinity;

  constructor(private readonly io: EndpointIo) {
    this.reader = new FrameReader((frame) => this.onFrame(frame), (problem, detail) => io.onProblem?.(problem, detail));
  }

  get readerStats(): FrameReader['stats'] {
    return this.reader.stats;
  }

  /** Feeds bytes from the transport. */
  receive(bytes: Uint8Array): void {
    this.reader.push(bytes);
    this.current?.channel.flushAck();
  }

  /** Starts a session (ending the previous one with `replacedReason`); returns its channel. */
  startSession(params: ChannelParams, handlers: SessionHandlers, replacedReason = 'a new session started'): ReliableChannel {
    this.endSession(replacedReason);
    const session = { session: params.session, channel: undefined as unknown as ReliableChannel };
    session.channel = new ReliableChannel(params, {
      timers: this.io.timers,
      write: (line) => this.io.write(line),
      peer: this.io.peer,
      onMessage: handlers.onMessage,
      onClosed: (reason) => {
        if (this.current === session) this.current = undefined;
        handlers.onClosed(reason);
      },
    });
    this.current = session;
    return session.channel;
  }

  endSession(reason: string): void {
    this.current?.channel.close(reason);
    this.current = undefined;
  }

  /** Writes an unsequenced frame (HELLO, HELLO_REPLY, RESET). */
  sendUnsequenced(type: FrameType, session: number, payload: Uint8Array = new Uint8Array(0)): Promise<void> {
    return this.io.write(encodeFrame({ type, flags: 0, session, seq: 0, ack: 0, payload }));
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.HELLO:
      case FrameType.HELLO_REPLY:
        return this.io.onHandshake(frame);
      case FrameType.RESET:
        if (this.current?.session === frame.session) {
          this.endSession(`${this.io.peer} ended the session (it restarted, or gave up on this one after a silence); connect again`);
        }
        return;
      case FrameType.DATA:
      case FrameType.ACK:
      case FrameType.KEEPALIVE:
        if (this.current?.session === frame.session) return this.current.channel.receive(frame);
        if (this.io.resetUnknownSessions) this.refuse(frame.session);
        return;
    }
  }

  private refuse(session: number): void {
    const now = this.io.timers.now();
    if (now - this.lastResetAt < RESET_INTERVAL_MS) return;
    this.lastResetAt = now;
    this.sendUnsequenced(FrameType.RESET, session).catch(() => undefined);
  }
}
