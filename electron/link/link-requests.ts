// Request/reply bookkeeping on the station: every request gets an id, every message the device sends
// carries the id of the request it belongs to, and the table hands it to that request's handler. A reply
// for an id nobody waits for any more (the request timed out or was cancelled) is dropped; a message of a
// type the request does not expect is a protocol violation and ends the link.
import { readBody, type Body, type BodyName } from '../../shared/link/bodies.js';
import { DockhandError } from '../../shared/model/errors.js';
import { encodeJsonMessage, MessageType, messageTypeName, type Message } from '../../shared/link/messages.js';
import type { LinkTimers } from '../../shared/link/timers.js';
import { seconds } from '../../shared/link/limits.js';
import { deviceRefusal, isViolation, linkFailure, misbehaving } from './link-failures.js';

interface Entry {
  handle(message: Message): void;
  fail(err: Error): void;
}

export interface RequestContext {
  timers: LinkTimers;
  /** Sends a message on the channel; resolves when the device acknowledged it. */
  send(message: Uint8Array): Promise<void>;
  /** `the device HANDHELD-7 on /dev/ttyACM0`, for messages. */
  device: string;
}

export class RequestTable {
  private lastId = 0;
  private readonly pending = new Map<number, Entry>();

  constructor(readonly ctx: RequestContext) {}

  /** A fresh request id (never 0, wrapping at 2^32). */
  allocate(): number {
    this.lastId = this.lastId >= 0xffff_ffff ? 1 : this.lastId + 1;
    return this.lastId;
  }

  open(id: number, entry: Entry): void {
    this.pending.set(id, entry);
  }

  close(id: number): void {
    this.pending.delete(id);
  }

  /** Routes a message from the device. Throws (ending the link) when it breaks the protocol. */
  dispatch(message: Message): void {
    if (message.type < 0x80) throw misbehaving(this.ctx.device, `sent a request (${messageTypeName(message.type)}), which only the station may send`);
    this.pending.get(message.id)?.handle(message);
  }

  failAll(err: Error): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) entry.fail(err);
  }

  /**
   * Reads and checks a JSON body the device sent; throws a protocol error naming what is wrong. An answer
   * over the station's limits (shared/link/answer-limits.ts) fails only its request: the link stays up.
   */
  read<N extends BodyName>(name: N, message: Message, what = name as string): Body<N> {
    const read = readBody(name, message.body);
    if (read.ok) return read.value;
    if (read.overLimit) {
      throw new DockhandError('LINK', `${this.ctx.device} answered '${what}' with ${read.problem} (docs/link-protocol.md §6.2)`, {
        detail: { overLimit: true },
      });
    }
    throw misbehaving(this.ctx.device, `sent a malformed ${name} (${read.problem})`);
  }

  /** Throws the device's ERROR as a DockhandError, or a protocol error for any type but `expected`. */
  expect(message: Message, expected: number, what: string): void {
    if (message.type === MessageType.ERROR) throw this.refusal(message, what);
    if (message.type !== expected) {
      throw misbehaving(this.ctx.device, `answered '${what}' with ${messageTypeName(message.type)} instead of ${messageTypeName(expected)}`);
    }
  }

  refusal(message: Message, what: string): Error {
    return deviceRefusal(this.ctx.device, what, this.read('ERROR', message));
  }

  /** Tells the device to stop working on a request; best effort. */
  cancel(id: number): void {
    this.close(id);
    this.ctx.send(encodeJsonMessage(MessageType.CANCEL, id, {})).catch(() => undefined);
  }

  /**
   * One request, one reply: sends `body` as `type`, resolves with the reply's checked body, rejects with the
   * device's error, or with LINK when no answer came within `timeoutMs`.
   */
  call<N extends BodyName>(type: MessageType, body: unknown, reply: N, what: string, timeoutMs: number, signal?: AbortSignal): Promise<Body<N>> {
    const id = this.allocate();
    const replyType = MessageType[reply as keyof typeof MessageType];
    return new Promise<Body<N>>((resolve, reject) => {
      if (signal?.aborted) return reject(new DockhandError('CANCELLED', `'${what}' was cancelled before it was sent`));
      const timer = this.ctx.timers.setTimeout(() => {
        this.cancel(id);
        signal?.removeEventListener('abort', onAbort);
        reject(linkFailure(`${this.ctx.device} did not answer '${what}' within ${seconds(timeoutMs)}; it may be busy or hung`));
      }, timeoutMs);
      // A cancel tells the device to stop the request (CANCEL), and the caller does not wait for it.
      const onAbort = (): void => {
        settle();
        this.cancel(id);
        reject(new DockhandError('CANCELLED', `'${what}' was cancelled; ${this.ctx.device} was told to stop it`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        this.ctx.timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.close(id);
      };
      this.open(id, {
        handle: (message) => {
          settle();
          let value: Body<N>;
          try {
            this.expect(message, replyType, what);
            value = this.read(reply, message, what);
          } catch (err) {
            reject(err as Error);
            if (isViolation(err)) throw err; // a protocol violation also ends the link
            return;
          }
          resolve(value);
        },
        fail: (err) => {
          settle();
          reject(err);
        },
      });
      this.ctx.send(encodeJsonMessage(type, id, body)).catch((err: unknown) => {
        settle();
        reject(err as Error);
      });
    });
  }
}
