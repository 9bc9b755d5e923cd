// The HELLO exchange (docs/link-protocol.md §Negotiation): the station offers the versions it speaks and
// the largest frame payload, window and message it can take; the device answers with the highest common
// version, the smaller of each limit, its capabilities and its identity (everything a WinCE-DM poll
// request needs to speak for it). Neither side may answer with more than was offered.
import { z } from 'zod';
import { MAX_MAX_MESSAGE, MAX_MAX_PAYLOAD, MAX_WINDOW, MIN_MAX_MESSAGE, MIN_MAX_PAYLOAD } from './limits.js';

/** What a device can do; the station checks before asking. */
export const CAPABILITIES = ['inventory', 'list-files', 'put', 'put-resume', 'remove', 'run', 'get', 'run-status'] as const;
export type Capability = (typeof CAPABILITIES)[number];

const count = (min: number, max: number) => z.number().int().min(min).max(max);

export const HelloBody = z.object({
  versions: z.array(count(1, 255)).min(1).max(16),
  maxPayload: count(MIN_MAX_PAYLOAD, MAX_MAX_PAYLOAD),
  window: count(1, MAX_WINDOW),
  maxMessage: count(MIN_MAX_MESSAGE, MAX_MAX_MESSAGE),
  keepAliveMs: count(100, 60_000),
  station: z.string().max(128),
});
export type Hello = z.infer<typeof HelloBody>;

export const DeviceIdentityBody = z.object({
  id: z.string().min(1).max(128),
  name: z.string().max(255),
  platform: z.string().max(255),
  processor: z.string().max(64),
  codePage: count(0, 65535),
  lcid: count(0, 0xffff_ffff),
  userName: z.string().max(255).optional(),
  domain: z.string().max(255).optional(),
  network: z.object({
    ipAddress: z.string().max(64).optional(),
    ipSubnet: z.string().max(64).optional(),
    mac: z.string().max(64).optional(),
  }).optional(),
});
export type DeviceIdentity = z.infer<typeof DeviceIdentityBody>;

export const HelloAcceptBody = z.object({
  version: count(1, 255),
  maxPayload: count(MIN_MAX_PAYLOAD, MAX_MAX_PAYLOAD),
  window: count(1, MAX_WINDOW),
  maxMessage: count(MIN_MAX_MESSAGE, MAX_MAX_MESSAGE),
  caps: z.array(z.string().max(32)).max(32),
  agent: z.string().max(128),
  device: DeviceIdentityBody,
});
export const HelloRefuseBody = z.object({
  error: z.object({ code: z.string().max(64), message: z.string().max(512) }),
  versions: z.array(count(1, 255)).max(16),
});
export type HelloAccept = z.infer<typeof HelloAcceptBody>;
export type HelloRefuse = z.infer<typeof HelloRefuseBody>;

/** The parameters both ends use for the session. */
export interface Negotiated {
  version: number;
  maxPayload: number;
  window: number;
  maxMessage: number;
  keepAliveMs: number;
}

/** What a device is able to take, for negotiate(). */
export interface DeviceOffer {
  versions: readonly number[];
  maxPayload: number;
  window: number;
  maxMessage: number;
}

/** The device's side: the session parameters for a HELLO, or the refusal to send back. */
export function negotiate(hello: Hello, own: DeviceOffer): { accept: Negotiated } | { refuse: HelloRefuse } {
  const common = hello.versions.filter((v) => own.versions.includes(v));
  if (common.length === 0) {
    return {
      refuse: {
        error: {
          code: 'VERSION_UNSUPPORTED',
          message: `the device speaks link protocol version ${own.versions.join(', ')}; the station offered ${hello.versions.join(', ')}`,
        },
        versions: [...own.versions],
      },
    };
  }
  return {
    accept: {
      version: Math.max(...common),
      maxPayload: Math.min(hello.maxPayload, own.maxPayload),
      window: Math.min(hello.window, own.window),
      maxMessage: Math.min(hello.maxMessage, own.maxMessage),
      keepAliveMs: hello.keepAliveMs,
    },
  };
}

/**
 * The station's side: checks that the device's answer stays within what was offered. Returns the session
 * parameters, or a sentence saying what the device got wrong.
 */
export function checkAccept(accept: HelloAccept, offered: Hello): Negotiated | string {
  if (!offered.versions.includes(accept.version)) return `it chose link protocol version ${accept.version}, which the station did not offer`;
  if (accept.maxPayload > offered.maxPayload) return `it chose frames of ${accept.maxPayload} bytes, more than the ${offered.maxPayload} offered`;
  if (accept.window > offered.window) return `it chose a window of ${accept.window} frames, more than the ${offered.window} offered`;
  if (accept.maxMessage > offered.maxMessage) return `it chose messages of ${accept.maxMessage} bytes, more than the ${offered.maxMessage} offered`;
  return { version: accept.version, maxPayload: accept.maxPayload, window: accept.window, maxMessage: accept.maxMessage, keepAliveMs: offered.keepAliveMs };
}
