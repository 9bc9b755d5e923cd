// Expected failures are values with a stable code, words a technician can act on, and whether trying
// again later can help (transient) or not (fatal). Bugs stay ordinary exceptions.

export type ErrorCode =
  | 'PROTOCOL' // a document could not be read or built
  | 'NETWORK' // the server could not be reached or the connection dropped
  | 'TLS' // the server was reached but its certificate is not trusted (self-signed, expired, another host's)
  | 'HTTP_STATUS' // the server answered with a non-2xx status
  | 'SIZE_MISMATCH' // the bytes received do not match the size announced
  | 'HASH_MISMATCH' // the bytes received do not match the published SHA-256
  | 'PATH_REFUSED' // a path would leave the folder it must stay in
  | 'COMMAND_REFUSED' // policy forbids running the command
  | 'COMMAND_FAILED' // the command ran and failed, or could not be started
  | 'STORAGE' // the local disk or database failed
  | 'LINK' // a tethered device link failed
  | 'CANCELLED';

export class DockhandError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { transient?: boolean; cause?: unknown; detail?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DockhandError';
    this.code = code;
    this.transient = options.transient ?? false;
    this.detail = options.detail;
  }
}

export function isTransient(err: unknown): boolean {
  return err instanceof DockhandError ? err.transient : false;
}

/** One line for logs and status columns, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
