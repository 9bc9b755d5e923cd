// The agent's end of one transport (a serial port): answers HELLO with its identity and the negotiated
// limits, then serves requests on the reliable channel until the session ends. A session ends on BYE, on a
// new HELLO (the station restarted), when the station goes silent (keep-alive timeout) or when the port
// closes; transfers in progress keep their part files, so the next session can resume them.
import type { ReliableChannel } from '../shared/link/channel.js';
import { readBody, type Body, type BodyName } from '../shared/link/bodies.js';
import { LinkEndpoint } from '../shared/link/endpoint.js';
import { FrameType, type Frame } from '../shared/link/frame.js';
import { CAPABILITIES, HelloBody, negotiate } from '../shared/link/hello.js';
import { decodeMessage, encodeJsonMessage, MessageType, messageTypeName, parseJsonBody, type Message } from '../shared/link/messages.js';
import type { Transport } from '../electron/link/transport.js';
import { AGENT_NAME, type AgentContext, type RequestScope } from './context.js';
import { sendFile } from './get-sender.js';
import { listFilesReply, machineInventoryReply, removeFileReply, runReply, runStatusReply } from './handlers.js';
import { deviceIdentity } from './identity.js';
import { PutReceiver } from './put-receiver.js';
import { errorBody, LinkRefusal } from './refusal.js';

/** How long a stopping agent waits for its RESET to leave. */
const RESET_WAIT_MS = 1000;

interface Session {
  number: number;
  channel: ReliableChannel;
  scope: RequestScope;
  puts: PutReceiver;
  /**
   * Running requests that a CANCEL can stop. File streams and commands also stop when the session ends (an
   * undock): a command left running with no station to report to could be started a second time by the
   * next one. A command so ended is recorded as interrupted under its run ID, which the station asks about
   * when the device docks again (RUN_STATUS).
   */
  work: Map<number, { controller: AbortController; endsWithSession: boolean }>;
}

export class DeviceSession {
  private readonly endpoint: LinkEndpoint;
  private session: Session | undefined;
  /** Resolves with the reason when the transport is gone. */
  readonly gone: Promise<string>;

  constructor(private readonly transport: Transport, private readonly ctx: AgentContext) {
    this.endpoint = new LinkEndpoint({
      timers: ctx.timers,
      write: (bytes) => transport.write(bytes),
      peer: 'the station',
      onHandshake: (frame) => this.onHandshake(frame),
      resetUnknownSessions: true,
    });
    transport.onData((bytes) => this.endpoint.receive(bytes));
    this.gone = new Promise((resolve) => transport.onClose((reason) => {
      this.endpoint.endSession(`the port closed: ${reason}`);
      resolve(reason);
    }));
  }

  /** Ends politely: the station is told the session is over (RESET), then the port is closed. */
  async shutdown(): Promise<void> {
    const current = this.session;
    if (current) {
      this.endpoint.endSession('the agent is stopping');
      // The RESET is a courtesy: a host that stopped reading (a station that went first; a USB host that
      // no longer polls the IN endpoint) leaves the write waiting in the kernel for good, and the agent
      // must stop all the same.
      const sent = this.endpoint.sendUnsequenced(FrameType.RESET, current.number).catch(() => undefined);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([sent, new Promise<void>((resolve) => { timer = setTimeout(resolve, RESET_WAIT_MS); })]);
      clearTimeout(timer);
    }
    await this.transport.close();
  }

  private onHandshake(frame: Frame): void {
    if (frame.type !== FrameType.HELLO) return;
    let hello;
    try {
      const parsed = HelloBody.safeParse(parseJsonBody(frame.payload));
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'invalid');
      hello = parsed.data;
    } catch (err) {
      const refusal = { error: { code: 'BAD_REQUEST', message: `the HELLO could not be read: ${(err as Error).message}` }, versions: [...this.ctx.offer.versions] };
      return void this.sendReply(frame.session, refusal);
    }
    const outcome = negotiate(hello, this.ctx.offer);
    if ('refuse' in outcome) {
      this.ctx.log(`refused a HELLO from ${hello.station}: ${outcome.refuse.error.message}`);
      return void this.sendReply(frame.session, outcome.refuse);
    }
    const p = outcome.accept;
    const number = frame.session;
    // Every HELLO starts afresh: the station sends one only when it (re)connects.
    const channel = this.endpoint.startSession(
      { session: number, maxPayload: p.maxPayload, window: p.window, maxMessage: p.maxMessage, keepAliveMs: p.keepAliveMs, lineRate: this.transport.lineRate },
      { onMessage: (bytes) => this.onMessage(bytes), onClosed: (reason) => this.onSessionClosed(number, reason) },
      'the station connected again',
    );
    const scope: RequestScope = { ctx: this.ctx, send: (m) => channel.send(m), maxPayload: p.maxPayload, window: p.window, maxMessage: p.maxMessage };
    const session: Session = {
      number,
      channel,
      scope,
      puts: new PutReceiver(scope, { reply: (type, id, body) => this.reply(session, type, id, body), refuse: (id, err) => this.refuse(session, id, err) }),
      work: new Map(),
    };
    this.session = session;
    this.ctx.log(`session ${number} with ${hello.station}: protocol ${p.version}, ${p.maxPayload}-byte frames, window ${p.window}`);
    void this.sendReply(number, {
      version: p.version, maxPayload: p.maxPayload, window: p.window, maxMessage: p.maxMessage,
      caps: [...CAPABILITIES], agent: AGENT_NAME, device: deviceIdentity(this.ctx.identity),
    });
  }

  private sendReply(session: number, body: unknown): Promise<void> {
    return this.endpoint.sendUnsequenced(FrameType.HELLO_REPLY, session, new TextEncoder().encode(JSON.stringify(body))).catch(() => undefined);
  }

  private onSessionClosed(number: number, reason: string): void {
    const s = this.session;
    if (!s || s.number !== number) return;
    this.session = undefined;
    for (const w of s.work.values()) if (w.endsWithSession) w.controller.abort(`the link to the station was lost (${reason})`);
    s.puts.abandonAll();
    this.ctx.log(`session ${number} ended: ${reason}`);
  }

  /**
   * Answers on the session the request came in on. Once that session is over the answer is dropped: request
   * ids start again in every session, so an old answer must never reach the next one.
   */
  private reply(s: Session, type: MessageType, id: number, body: unknown): void {
    if (this.session !== s) return;
    s.channel.send(encodeJsonMessage(type, id, body)).catch((err: unknown) => {
      // Too big for the agreed message size (a huge listing): say so instead of leaving the station waiting.
      if (err instanceof RangeError) this.refuse(s, id, new LinkRefusal('TOO_LARGE', `the answer is too large for the link (${err.message}); narrow the request`));
    });
  }

  private refuse(s: Session, id: number, err: unknown): void {
    const body = errorBody(err);
    this.ctx.log(`request ${id} refused: ${body.code}: ${body.message}`);
    if (this.session !== s) return;
    s.channel.send(encodeJsonMessage(MessageType.ERROR, id, body)).catch(() => undefined);
  }

  private body<N extends BodyName>(name: N, message: Message): Body<N> {
    const read = readBody(name, message.body);
    if (!read.ok) throw new LinkRefusal('BAD_REQUEST', `the ${name} is malformed (${read.problem})`);
    return read.value;
  }

  private onMessage(bytes: Uint8Array): void {
    const s = this.session;
    const message = decodeMessage(bytes);
    if (!s || !message) return; // a message shorter than its header has no id to answer to
    // File data is the hot path and has no reply: no promise, no JSON.
    if (message.type === MessageType.PUT_DATA) return s.puts.data(message.id, message.body);
    this.serve(s, message).catch((err: unknown) => this.refuse(s, message.id, err));
  }

  private async serve(s: Session, m: Message): Promise<void> {
    switch (m.type) {
      case MessageType.MACHINE_INVENTORY:
        this.body('MACHINE_INVENTORY', m);
        return this.reply(s, MessageType.MACHINE_INVENTORY_REPLY, m.id, await machineInventoryReply(this.ctx));
      case MessageType.LIST_FILES:
        return this.reply(s, MessageType.LIST_FILES_REPLY, m.id, await listFilesReply(this.ctx, this.body('LIST_FILES', m), s.scope.maxMessage));
      case MessageType.PUT_QUERY:
        return s.puts.query(m.id, this.body('PUT_QUERY', m));
      case MessageType.PUT_BEGIN:
        return s.puts.begin(m.id, this.body('PUT_BEGIN', m));
      case MessageType.PUT_END:
        return s.puts.end(m.id);
      case MessageType.REMOVE_FILE:
        return this.reply(s, MessageType.REMOVE_FILE_REPLY, m.id, await removeFileReply(this.ctx, this.body('REMOVE_FILE', m)));
      case MessageType.RUN:
        return this.tracked(s, m.id, true, async (signal) =>
          this.reply(s, MessageType.RUN_REPLY, m.id, await runReply(this.ctx, this.body('RUN', m), signal)));
      case MessageType.RUN_STATUS:
        return this.tracked(s, m.id, true, async (signal) =>
          this.reply(s, MessageType.RUN_STATUS_REPLY, m.id, await runStatusReply(this.ctx, this.body('RUN_STATUS', m), signal)));
      case MessageType.GET_FILE:
        return this.tracked(s, m.id, true, (signal) =>
          sendFile(s.scope, m.id, this.body('GET_FILE', m), signal));
      case MessageType.CANCEL:
        s.work.get(m.id)?.controller.abort('cancelled by the station (paused or stopped)');
        return s.puts.cancel(m.id);
      case MessageType.BYE:
        this.ctx.log(`the station said goodbye: ${this.body('BYE', m).reason ?? ''}`);
        await s.channel.send(encodeJsonMessage(MessageType.BYE_REPLY, m.id, {})).catch(() => undefined);
        return this.endpoint.endSession('the station said goodbye');
      default:
        throw new LinkRefusal(m.type >= 0x80 ? 'BAD_REQUEST' : 'UNSUPPORTED', `this agent does not handle ${messageTypeName(m.type)} messages`);
    }
  }

  /** Runs a request that CANCEL or the end of the session can stop. */
  private async tracked(s: Session, id: number, endsWithSession: boolean, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const controller = new AbortController();
    s.work.set(id, { controller, endsWithSession });
    try {
      await work(controller.signal);
    } finally {
      s.work.delete(id);
    }
  }
}
