// The station's DeviceLink over the link protocol (docs/link-protocol.md): HELLO and negotiation, then every
// DeviceLink method as requests on the reliable channel. Whatever the device or the cable does, callers see
// DockhandErrors: LINK for the link and for a device breaking the protocol, the device's own error meaning
// for refusals (link-failures.ts). When the link ends (unplugged, silent, bye, protocol error) every pending
// call rejects at once and onClose fires once.
import type { FileFilterItem, FileReport, Inventory } from '../../shared/protocol/types.js';
import { LinkEndpoint } from '../../shared/link/endpoint.js';
import type { Frame } from '../../shared/link/frame.js';
import { HelloBody, type Capability, type Hello } from '../../shared/link/hello.js';
import {
  DEFAULT_KEEPALIVE_MS, DEFAULT_MAX_MESSAGE, DEFAULT_WINDOW, payloadForLineRate, PROTOCOL_VERSIONS,
} from '../../shared/link/limits.js';
import { chunkCapacity, decodeMessage, MessageType } from '../../shared/link/messages.js';
import { systemTimers, type LinkTimers } from '../../shared/link/timers.js';
import { DockhandError } from '../../shared/model/errors.js';
import type { DeviceCommandResult, DeviceHello, DeviceLink, DeviceRunStatus } from './device-link.js';
import { getFileOverLink } from './link-get.js';
import { helloExchange, newSessionNumber } from './link-handshake.js';
import { linkFailure, misbehaving } from './link-failures.js';
import { putFileOverLink, type PutFileRequest, type StreamContext } from './link-put.js';
import { RequestTable } from './link-requests.js';
import type { Transport } from './transport.js';

export interface DeviceLinkOptions {
  timers?: LinkTimers;
  keepAliveMs?: number;
  /** How long a request may wait for its answer (commands: their own timeout plus this). Default 60 s. */
  requestTimeoutMs?: number;
  /** Offered frame payload (128–4096; default: the largest that suits the line, payloadForLineRate) and window (1–32, default 8). */
  maxPayload?: number;
  window?: number;
  maxMessage?: number;
  /** How long to wait for the answer to HELLO. Default 5 s. */
  helloTimeoutMs?: number;
  /** Command output kept per runCommand, whatever the device sends. Default 64 KiB. */
  maxOutputBytes?: number;
  /** Protocol versions offered (tests of negotiation). */
  versions?: number[];
}

export const STATION_AGENT_NAME = 'dockhand-station 0.1.0';
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
const BYE_TIMEOUT_MS = 2000;

/** Cuts `output` to `max` UTF-8 bytes. */
function capOutput(output: string, max: number): { output: string; truncated: boolean } {
  const bytes = Buffer.from(output, 'utf8');
  if (bytes.length <= max) return { output, truncated: false };
  return { output: bytes.subarray(0, max).toString('utf8'), truncated: true };
}

class StationLink implements DeviceLink {
  hello!: DeviceHello;
  private caps: string[] = [];
  private readonly endpoint: LinkEndpoint;
  private requests!: RequestTable;
  private closedReason: string | undefined;
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private handshakeListener: ((frame: Frame) => void) | undefined;
  private goneListener: ((reason: string) => void) | undefined;
  private readonly timers: LinkTimers;
  private readonly requestTimeoutMs: number;

  constructor(private readonly transport: Transport, private readonly opts: DeviceLinkOptions) {
    this.timers = opts.timers ?? systemTimers;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.endpoint = new LinkEndpoint({
      timers: this.timers,
      write: (bytes) => transport.write(bytes),
      peer: `the device on ${transport.label}`,
      onHandshake: (frame) => this.handshakeListener?.(frame),
      resetUnknownSessions: false,
    });
    transport.onData((bytes) => this.endpoint.receive(bytes));
    transport.onClose((reason) => {
      this.goneListener?.(reason);
      this.endpoint.endSession(`the connection to the device on ${transport.label} was lost: ${reason}`);
    });
  }

  get port(): string {
    return this.transport.label;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  async start(): Promise<void> {
    const o = this.opts;
    const offer: Hello = {
      versions: o.versions ?? [...PROTOCOL_VERSIONS],
      maxPayload: o.maxPayload ?? payloadForLineRate(this.transport.lineRate),
      window: o.window ?? DEFAULT_WINDOW,
      maxMessage: o.maxMessage ?? DEFAULT_MAX_MESSAGE,
      keepAliveMs: o.keepAliveMs ?? DEFAULT_KEEPALIVE_MS,
      station: STATION_AGENT_NAME,
    };
    const valid = HelloBody.safeParse(offer);
    if (!valid.success) {
      const issue = valid.error.issues[0];
      throw new DockhandError(
        'LINK',
        `cannot connect to the device on ${this.transport.label}: the link option ${issue?.path.join('.') ?? ''} is out of range (${issue?.message ?? 'invalid'})`,
      );
    }
    const session = newSessionNumber();
    const { accept, params } = await helloExchange(
      {
        endpoint: this.endpoint,
        timers: this.timers,
        label: this.transport.label,
        listen: (l) => (this.handshakeListener = l),
        onGone: (l) => (this.goneListener = l),
      },
      session,
      offer,
      o.helloTimeoutMs ?? 5000,
    );
    const d = accept.device;
    this.hello = {
      id: d.id, name: d.name, platform: d.platform, processor: d.processor, codePage: d.codePage, lcid: d.lcid,
      ...(d.userName !== undefined ? { userName: d.userName } : {}),
      ...(d.domain !== undefined ? { domain: d.domain } : {}),
      ...(d.network !== undefined ? { network: d.network } : {}),
      agentVersion: accept.agent,
      protocolVersion: params.version,
      maxPayload: params.maxPayload,
      window: params.window,
    };
    this.caps = accept.caps;
    const name = `the device ${d.name || d.id} on ${this.transport.label}`;
    const channel = this.endpoint.startSession(
      { session, maxPayload: params.maxPayload, window: params.window, maxMessage: params.maxMessage, keepAliveMs: params.keepAliveMs, lineRate: this.transport.lineRate },
      { onMessage: (bytes) => this.onMessage(bytes, name), onClosed: (reason) => this.ended(reason) },
    );
    this.requests = new RequestTable({ timers: this.timers, send: (m) => channel.send(m), device: name });
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closedReason !== undefined) listener(this.closedReason);
    else this.closeListeners.push(listener);
  }

  async machineInventory(): Promise<Inventory> {
    this.check('inventory', 'report its machine inventory');
    return (await this.requests.call(MessageType.MACHINE_INVENTORY, {}, 'MACHINE_INVENTORY_REPLY', 'report its machine inventory', this.requestTimeoutMs)).inventory;
  }

  async listFiles(items: FileFilterItem[]): Promise<FileReport & { warnings?: string[] }> {
    this.check('list-files', 'list its files');
    const reply = await this.requests.call(MessageType.LIST_FILES, { items }, 'LIST_FILES_REPLY', 'list its files', this.requestTimeoutMs);
    // The device's warnings (a listing cut to fit the link, a folder it could not read) reach the technician.
    return { Directories: reply.report.Directories, ...(reply.warnings.length > 0 ? { warnings: reply.warnings } : {}) };
  }

  async queryPutOffset(directory: string, fileName: string, size: number, sha256: string): Promise<number> {
    this.check('put', 'receive files');
    if (!this.caps.includes('put-resume')) return 0;
    const what = `say how much of ${fileName} it holds`;
    const { offset } = await this.requests.call(MessageType.PUT_QUERY, { directory, fileName, size, sha256: sha256.toLowerCase() }, 'PUT_QUERY_REPLY', what, this.requestTimeoutMs);
    if (offset > size) throw misbehaving(this.requests.ctx.device, `claims to hold ${offset} bytes of ${fileName}, which has only ${size}`);
    return offset;
  }

  async putFile(opts: PutFileRequest): Promise<string> {
    this.check('put', 'receive files');
    if (opts.offset > 0 && !this.caps.includes('put-resume')) {
      throw new DockhandError('LINK', `${this.requests.ctx.device} cannot resume a file transfer; send it from byte 0`);
    }
    return putFileOverLink(this.stream(), opts);
  }

  async removeFile(devicePath: string): Promise<void> {
    this.check('remove', 'remove files');
    await this.requests.call(MessageType.REMOVE_FILE, { path: devicePath }, 'REMOVE_FILE_REPLY', `remove ${devicePath}`, this.requestTimeoutMs);
  }

  async runCommand(commandLine: string, directory: string, timeoutMs: number, options: { runId?: string; signal?: AbortSignal } = {}): Promise<DeviceCommandResult> {
    this.check('run', 'run commands');
    const maxOutputBytes = this.opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const runId = options.runId !== undefined && this.caps.includes('run-status') ? { runId: options.runId } : {};
    const r = await this.requests.call(
      MessageType.RUN, { commandLine, directory, timeoutMs, maxOutputBytes, ...runId }, 'RUN_REPLY', `run '${commandLine}'`,
      timeoutMs + this.requestTimeoutMs, options.signal,
    );
    return this.capped(r, maxOutputBytes);
  }

  async runStatus(runId: string, timeoutMs: number, signal?: AbortSignal): Promise<DeviceRunStatus> {
    this.check('run-status', 'say how a command ended');
    const r = await this.requests.call(MessageType.RUN_STATUS, { runId, wait: true }, 'RUN_STATUS_REPLY', `say how the run ${runId} ended`,
      timeoutMs + this.requestTimeoutMs, signal);
    return {
      state: r.state, ...(r.reason !== undefined ? { reason: r.reason } : {}),
      ...(r.result ? { result: this.capped(r.result, this.opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES) } : {}),
    };
  }

  offers(capability: string): boolean {
    return this.caps.includes(capability);
  }

  private capped(r: Omit<DeviceCommandResult, 'outputTruncated'> & { outputTruncated: boolean }, maxOutputBytes: number): DeviceCommandResult {
    const capped = capOutput(r.output, maxOutputBytes);
    return { exitCode: r.exitCode, signal: r.signal, output: capped.output, outputTruncated: r.outputTruncated || capped.truncated, durationMs: r.durationMs };
  }

  async getFile(devicePath: string, maxBytes: number): Promise<Buffer> {
    this.check('get', 'send files');
    return getFileOverLink(this.stream(), devicePath, maxBytes);
  }

  async close(reason = 'closed by the station'): Promise<void> {
    if (this.closedReason === undefined) {
      await this.requests.call(MessageType.BYE, { reason }, 'BYE_REPLY', 'say goodbye', BYE_TIMEOUT_MS).catch(() => undefined);
      this.endpoint.endSession(reason);
    }
    await this.transport.close();
  }

  private stream(): StreamContext {
    const p = this.hello.maxPayload;
    return { requests: this.requests, chunkBytes: chunkCapacity(p), depth: 2 * this.hello.window, requestTimeoutMs: this.requestTimeoutMs };
  }

  /** Throws LINK when the link is gone or the agent lacks `cap` (every caller is async: it becomes a rejection). */
  private check(cap: Capability, what: string): void {
    if (this.closedReason !== undefined) throw linkFailure(`the link to ${this.requests.ctx.device} is closed (${this.closedReason})`);
    if (!this.caps.includes(cap)) throw new DockhandError('LINK', `${this.requests.ctx.device} cannot ${what}: its agent does not offer '${cap}'`);
  }

  private onMessage(bytes: Uint8Array, device: string): void {
    const message = decodeMessage(bytes);
    if (!message) throw misbehaving(device, `sent a message of ${bytes.length} bytes, too short for its header`);
    this.requests.dispatch(message);
  }

  private ended(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.requests.failAll(linkFailure(reason));
    this.transport.close().catch(() => undefined);
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }
}

/** Says HELLO on `transport`, negotiates, and returns the device's link. Rejects with LINK (and closes the transport) on failure. */
export async function openDeviceLink(transport: Transport, opts: DeviceLinkOptions = {}): Promise<DeviceLink> {
  const link = new StationLink(transport, opts);
  try {
    await link.start();
  } catch (err) {
    await transport.close().catch(() => undefined);
    throw err;
  }
  return link;
}
