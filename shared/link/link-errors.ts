// Error codes a device puts in an ERROR reply (docs/link-protocol.md §Error codes). The station turns them
// into DockhandErrors: codes that mean the same thing as one of Dockhand's own keep that meaning (a refused
// path is PATH_REFUSED whether the station or the device refused it); the rest are LINK errors.
import type { ErrorCode } from '../model/errors.js';

export const LINK_ERROR_CODES = {
  VERSION_UNSUPPORTED: { code: 'LINK', transient: false },
  BAD_REQUEST: { code: 'LINK', transient: false },
  UNSUPPORTED: { code: 'LINK', transient: false },
  NOT_FOUND: { code: 'STORAGE', transient: false },
  PATH_REFUSED: { code: 'PATH_REFUSED', transient: false },
  TOO_LARGE: { code: 'LINK', transient: false },
  BAD_OFFSET: { code: 'LINK', transient: true },
  SIZE_MISMATCH: { code: 'SIZE_MISMATCH', transient: true },
  HASH_MISMATCH: { code: 'HASH_MISMATCH', transient: true },
  STORAGE: { code: 'STORAGE', transient: true },
  COMMAND_REFUSED: { code: 'COMMAND_REFUSED', transient: false },
  COMMAND_FAILED: { code: 'COMMAND_FAILED', transient: false },
  BUSY: { code: 'LINK', transient: true },
  CANCELLED: { code: 'CANCELLED', transient: false },
  INTERNAL: { code: 'LINK', transient: true },
} as const satisfies Record<string, { code: ErrorCode; transient: boolean }>;

export type LinkErrorCode = keyof typeof LINK_ERROR_CODES;

export function isLinkErrorCode(code: string): code is LinkErrorCode {
  return Object.hasOwn(LINK_ERROR_CODES, code);
}

/** The LinkErrorCode a device reports for one of Dockhand's error codes (the agent's side of the mapping). */
export function linkCodeFor(code: ErrorCode | undefined): LinkErrorCode {
  switch (code) {
    case 'PATH_REFUSED':
    case 'COMMAND_REFUSED':
    case 'COMMAND_FAILED':
    case 'SIZE_MISMATCH':
    case 'HASH_MISMATCH':
    case 'STORAGE':
    case 'CANCELLED':
      return code;
    default:
      return 'INTERNAL';
  }
}
