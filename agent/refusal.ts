// How the agent says no: a LinkRefusal carries the protocol's error code (docs/link-protocol.md §Error
// codes) and a sentence for the technician at the station. Anything else thrown while answering a request
// is turned into the closest code here, so the station always gets an ERROR it can act on.
import { linkCodeFor, type LinkErrorCode } from '../shared/link/link-errors.js';
import { DockhandError } from '../shared/model/errors.js';

export class LinkRefusal extends Error {
  constructor(readonly code: LinkErrorCode, message: string) {
    super(message);
    this.name = 'LinkRefusal';
  }
}

const STORAGE_ERRNO = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EBUSY', 'EMFILE']);

/** The ERROR body for anything thrown while serving a request. */
export function errorBody(err: unknown): { code: LinkErrorCode; message: string } {
  if (err instanceof LinkRefusal) return { code: err.code, message: err.message };
  if (err instanceof DockhandError) return { code: linkCodeFor(err.code), message: err.message };
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (errno === 'ENOENT') return { code: 'NOT_FOUND', message };
  if (errno !== undefined && STORAGE_ERRNO.has(errno)) return { code: 'STORAGE', message: `the device's storage failed: ${message}` };
  return { code: 'INTERNAL', message: `the agent failed: ${message}` };
}
