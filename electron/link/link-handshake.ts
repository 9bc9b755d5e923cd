// The station's half of the HELLO exchange: send HELLO (again every half second, since a HELLO can be lost
// like any frame, or arrive while the agent is still opening its port) until the device answers for this
// session or the time is up, then check the answer against the offer.
import { randomInt } from 'node:crypto';
import type { LinkEndpoint } from '../../shared/link/endpoint.js';
import { FrameType, type Frame } from '../../shared/link/frame.js';
import { checkAccept, HelloAcceptBody, HelloRefuseBody, type Hello, type HelloAccept, type Negotiated } from '../../shared/link/hello.js';
import { parseJsonBody } from '../../shared/link/messages.js';
import type { LinkTimers } from '../../shared/link/timers.js';
import { DockhandError } from '../../shared/model/errors.js';
import { seconds } from '../../shared/link/limits.js';
import { linkFailure, misbehaving } from './link-failures.js';

export const HELLO_RETRY_MS = 500;

export interface HandshakeIo {
  endpoint: LinkEndpoint;
  timers: LinkTimers;
  /** The port, for messages. */
  label: string;
  /** Installs the listener for HELLO_REPLY frames (undefined removes it). */
  listen(listener: ((frame: Frame) => void) | undefined): void;
  /** Installs the listener for the transport closing during the exchange. */
  onGone(listener: ((reason: string) => void) | undefined): void;
}

/** A session number for a new HELLO: random in 1–255, so frames of an earlier session are rarely mistaken for it. */
export function newSessionNumber(): number {
  return randomInt(1, 256);
}

function readReply(frame: Frame, label: string, offer: Hello): { accept: HelloAccept; params: Negotiated } {
  const device = `the device on ${label}`;
  let value: unknown;
  try {
    value = parseJsonBody(frame.payload);
  } catch {
    throw misbehaving(device, 'answered HELLO with a body that is not JSON');
  }
  const refused = HelloRefuseBody.safeParse(value);
  if (refused.success) {
    const { code, message } = refused.data.error;
    if (code === 'VERSION_UNSUPPORTED') {
      throw new DockhandError(
        'LINK',
        `${device} speaks link protocol version ${refused.data.versions.join(', ') || '(none given)'}, this station ` +
          `speaks ${offer.versions.join(', ')}: update the device agent or the station so they share a version (${message})`,
        { detail: { deviceVersions: refused.data.versions, stationVersions: offer.versions } },
      );
    }
    throw new DockhandError('LINK', `${device} refused the connection: ${message} (${code})`);
  }
  const accepted = HelloAcceptBody.safeParse(value);
  if (!accepted.success) {
    const issue = accepted.error.issues[0];
    throw misbehaving(device, `answered HELLO with a malformed HELLO_REPLY (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`);
  }
  const params = checkAccept(accepted.data, offer);
  if (typeof params === 'string') throw misbehaving(device, `answered HELLO wrongly: ${params}`);
  return { accept: accepted.data, params };
}

/** Runs the exchange for `session`; resolves with the device's answer, rejects with LINK in plain words. */
export function helloExchange(io: HandshakeIo, session: number, offer: Hello, timeoutMs: number): Promise<{ accept: HelloAccept; params: Negotiated }> {
  const payload = new TextEncoder().encode(JSON.stringify(offer));
  return new Promise((resolve, reject) => {
    let retry: unknown;
    const deadline = io.timers.setTimeout(() => {
      finish();
      reject(
        linkFailure(
          `no answer to HELLO from ${io.label} within ${seconds(timeoutMs)}: check that the device agent is ` +
            'running on that port and that both ends use the same baud rate and framing',
        ),
      );
    }, timeoutMs);
    const finish = (): void => {
      io.timers.clearTimeout(deadline);
      io.timers.clearTimeout(retry);
      io.listen(undefined);
      io.onGone(undefined);
    };
    const send = (): void => {
      io.endpoint.sendUnsequenced(FrameType.HELLO, session, payload).catch(() => undefined); // onGone reports a dead port
      retry = io.timers.setTimeout(send, HELLO_RETRY_MS);
    };
    io.listen((frame) => {
      if (frame.type !== FrameType.HELLO_REPLY || frame.session !== session) return; // an echo, or an old answer
      finish();
      try {
        resolve(readReply(frame, io.label, offer));
      } catch (err) {
        reject(err as Error);
      }
    });
    io.onGone((reason) => {
      finish();
      reject(linkFailure(`the connection to ${io.label} ended before the device answered HELLO: ${reason}`));
    });
    send();
  });
}
