// The station's words for what went wrong on a link, all as DockhandErrors. Link trouble (a dropped cable,
// a silent device, a device breaking the protocol) is LINK; what a device reports about a request keeps the
// meaning of its error code (shared/link/link-errors.ts), so a refused path is PATH_REFUSED either way.
import { isLinkErrorCode, LINK_ERROR_CODES } from '../../shared/link/link-errors.js';
import { DockhandError } from '../../shared/model/errors.js';

/** The link itself failed: transient, since plugging in again or restarting the agent can help. */
export function linkFailure(message: string, detail?: Record<string, unknown>): DockhandError {
  return new DockhandError('LINK', message, { transient: true, detail });
}

/** The device answered against the protocol: a bug in its agent, not a passing fault. */
export function misbehaving(device: string, what: string): DockhandError {
  return new DockhandError('LINK', `${device} ${what}; it is not following the link protocol (update or reinstall its agent)`, {
    detail: { misbehaving: true },
  });
}

/** An ERROR reply: `code` and `message` as the device sent them. */
export function deviceRefusal(device: string, what: string, body: { code: string; message: string }): DockhandError {
  const mapped = isLinkErrorCode(body.code) ? LINK_ERROR_CODES[body.code] : { code: 'LINK' as const, transient: false };
  return new DockhandError(mapped.code, `${device} could not ${what}: ${body.message}`, {
    transient: mapped.transient,
    detail: { linkCode: body.code },
  });
}

/** True for the errors of misbehaving(): they end the link, where a device's refusal ends only its request. */
export function isViolation(err: unknown): boolean {
  return err instanceof DockhandError && err.detail?.misbehaving === true;
}
