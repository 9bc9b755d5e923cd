// The one error type every codec throws. It names the document, the element path and the problem, so a
// technician reading a log line can find the offending element without opening a debugger.
import { DockhandError } from '../model/errors.js';

export class ProtocolError extends DockhandError {
  declare readonly code: 'PROTOCOL';
  /** Root element name of the document being read or built (e.g. `Instructions`), or the value kind. */
  readonly document: string;
  /** Element path such as `/Instructions/Package[1]/Flags`, or `` when the error is not about an element. */
  readonly path: string;
  /** The problem in words, without the document and path. */
  readonly problem: string;

  constructor(document: string, path: string, problem: string, options: { cause?: unknown } = {}) {
    // A malformed document stays malformed however often it is read again: never transient.
    super('PROTOCOL', [document, path, problem].filter((part) => part !== '').join(': '), {
      transient: false,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      detail: { document, path, problem },
    });
    this.name = 'ProtocolError';
    this.document = document;
    this.path = path;
    this.problem = problem;
  }
}

/**
 * Runs a value parser (DM time, duration, flags, number…) and, if it fails, re-throws its problem under the
 * document and element path it was read from.
 */
export function inContext<T>(document: string, path: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ProtocolError) throw new ProtocolError(document, path, err.problem, { cause: err });
    throw err;
  }
}

/** Quotes a value for an error message, shortening it and making control characters visible. */
export function quote(text: string, max = 60): string {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  // eslint-disable-next-line no-control-regex
  return `'${shown.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}
