// Reads one HTTP/1.1 response (RFC 9112) from the bytes of a connection, as they arrive: the head (status
// line and header fields), then the body by its framing — Content-Length, chunked, or until the server
// closes. It owns no socket and no buffer: it is fed views and hands out views (http-exchange.ts wires it to
// a socket that reads into one reused buffer).
//
// Why the station reads HTTP itself: package bytes are the one place where node:http's generality costs.
// Its client allocates a fresh buffer for every socket read and pushes it through a parser and a stream:
// per GiB, 16,000 buffers whose pages the allocator gives back and faults in again, and about a second of
// CPU on a 2-core machine (docs/performance.md). A download needs a small, strict subset of HTTP: one GET,
// `Connection: close`, no upgrade, no keep-alive.
//
// What is refused, and how: anything that is not HTTP/1.x, a head over 64 KiB, a header line that is not
// `token: value`, Content-Length values that disagree, a chunk size that is not hex, and bytes after the end
// of the body (the server sent more than it said). Each is an HttpParseError whose code starts with `HPE_`,
// the prefix node:http's parser uses, so the transfer's error words (transfer-errors.ts) name it the same way.
// Accepted as real servers send it: bare LF line ends, 1xx interim answers (skipped), a Transfer-Encoding
// that overrides Content-Length, chunk extensions and trailers (ignored).

export class HttpParseError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The connection ended before the answer did; the code is the one node:http gives (ECONNRESET). */
export class ConnectionEnded extends Error {
  readonly code = 'ECONNRESET';
}

export interface ResponseHead {
  status: number;
  /** Field names in lower case; a repeated field keeps its first value (what the download reads). */
  headers: Map<string, string>;
}

export interface ResponseEvents {
  head(head: ResponseHead): void;
  /** A piece of the body; a view that is valid only during the call. */
  body(bytes: Buffer): void;
  end(): void;
}

const MAX_HEAD = 64 * 1024;
const MAX_CHUNK_LINE = 4096;
/** A header field name (RFC 9110 token) and value (visible characters, spaces, tabs; no CR or LF). */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

type Framing =
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailers'; left: number; line: string; trailerBytes: number }
  | { kind: 'close' }
  | { kind: 'none' };

export class ResponseReader {
  #inHead = true; // false once the final head is read
  #headPieces: Buffer[] = []; // head bytes gathered so far
  #headBytes = 0;
  #headTail = Buffer.alloc(0); // the last three of them, where the head's end may begin
  #framing: Framing | null = null;
  #complete = false;

  constructor(private readonly on: ResponseEvents) {}

  /** The whole body has arrived (nothing more may follow it). */
  get complete(): boolean {
    return this.#complete;
  }

  /** Feeds the next bytes of the connection; throws HttpParseError when they are not a valid answer. */
  feed(bytes: Buffer): void {
    let view = bytes;
    while (this.#inHead) {
      const rest = this.#readHead(view);
      if (rest === null) return;
      view = rest;
    }
    if (view.length > 0) this.#readBody(view);
  }

  /** The server closed its side: ends a body that runs until the close, else the answer was cut short. */
  eof(): void {
    if (this.#complete) return;
    if (this.#framing?.kind === 'close') return this.#finish();
    throw new ConnectionEnded(this.#inHead ? 'socket hang up' : 'aborted');
  }

  #restartHead(): void {
    this.#headPieces = [];
    this.#headBytes = 0;
    this.#headTail = Buffer.alloc(0);
  }

  // Gathers the head; returns the bytes after it once it is whole (null while it is not). Pieces are kept in
  // a list and joined once: a server sending its head a byte at a time costs a list entry per byte, not a
  // copy of everything gathered so far. The end is searched in the new bytes and the three before them.
  #readHead(view: Buffer): Buffer | null {
    const tail = this.#headTail;
    const probe = tail.length === 0 ? view : Buffer.concat([tail, view]);
    const found = headEnd(probe);
    if (found === null) {
      this.#headPieces.push(Buffer.from(view)); // `view` is the caller's reused buffer: keep a copy
      this.#headBytes += view.length;
      if (this.#headBytes > MAX_HEAD) throw headOverflow();
      this.#headTail = Buffer.from(probe.subarray(Math.max(0, probe.length - 3)));
      return null;
    }
    const before = this.#headBytes - tail.length; // where `probe` starts within the whole head
    const end = { headLength: before + found.headLength, bodyStart: before + found.bodyStart };
    const all = this.#headPieces.length === 0 ? view : Buffer.concat([...this.#headPieces, view]);
    this.#restartHead();
    if (end.headLength > MAX_HEAD) throw headOverflow();
    const head = parseHead(all.subarray(0, end.headLength).toString('latin1'));
    const rest = all.subarray(end.bodyStart);
    if (head.status >= 100 && head.status < 200) {
      // An interim answer (100 Continue, 103 Early Hints): the real one follows. 101 would switch protocols,
      // which a GET without Upgrade never asked for.
      if (head.status === 101) throw new HttpParseError('HPE_UNEXPECTED_UPGRADE', 'the server switched protocols, which the download never asked for');
      return rest.length > 0 ? rest : null;
    }
    this.#inHead = false;
    this.#framing = framingOf(head);
    this.on.head(head);
    if (this.#framing.kind === 'none' || (this.#framing.kind === 'length' && this.#framing.left === 0)) this.#finish();
    return rest;
  }

  #readBody(view: Buffer): void {
    const framing = this.#framing as Framing;
    if (this.#complete || framing.kind === 'none') throw afterBody();
    if (framing.kind === 'close') return this.on.body(view);
    if (framing.kind === 'length') {
      const n = Math.min(framing.left, view.length);
      framing.left -= n;
      this.on.body(n === view.length ? view : view.subarray(0, n));
      if (framing.left === 0) {
        this.#complete = true; // before the throw below: the body is whole, what follows is extra
        if (n < view.length) throw afterBody();
        this.#finish();
      }
      return;
    }
    this.#readChunked(framing, view);
  }

  #readChunked(c: Extract<Framing, { kind: 'chunked' }>, view: Buffer): void {
    let at = 0;
    while (at < view.length) {
      if (this.#complete) throw afterBody();
      if (c.state === 'data') {
        const n = Math.min(c.left, view.length - at);
        this.on.body(view.subarray(at, at + n));
        at += n;
        c.left -= n;
        if (c.left === 0) c.state = 'data-end';
        continue;
      }
      // The other states read a line: gather up to its LF.
      const lf = view.indexOf(0x0a, at);
      const piece = view.subarray(at, lf < 0 ? view.length : lf).toString('latin1');
      at = lf < 0 ? view.length : lf + 1;
      c.line += piece;
      if (c.state === 'trailers') c.trailerBytes += piece.length + (lf < 0 ? 0 : 1); // all trailer lines together
      const tooLong = c.state === 'trailers' ? c.trailerBytes > MAX_HEAD : c.line.length > MAX_CHUNK_LINE;
      if (tooLong) {
        throw new HttpParseError('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'a chunk line of the answer is too long');
      }
      if (lf < 0) return;
      const line = c.line.endsWith('\r') ? c.line.slice(0, -1) : c.line;
      c.line = '';
      if (c.state === 'data-end') {
        if (line !== '') throw new HttpParseError('HPE_STRICT', 'a chunk of the answer is longer than its size says');
        c.state = 'size';
      } else if (c.state === 'size') {
        const m = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
        if (!m) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', `"${line.slice(0, 40)}" is not a chunk size`);
        c.left = parseInt(m[1] as string, 16);
        c.state = c.left === 0 ? 'trailers' : 'data';
      } else if (line === '') {
        this.#finish(); // the empty line after the trailers ends the body
      }
    }
  }

  #finish(): void {
    this.#complete = true;
    this.on.end();
  }
}

function headOverflow(): HttpParseError {
  return new HttpParseError('HPE_HEADER_OVERFLOW', `the answer's head is longer than ${MAX_HEAD} bytes`);
}

function afterBody(): HttpParseError {
  return new HttpParseError('HPE_DATA_AFTER_BODY', 'the server sent bytes after the end of its answer');
}

// Where the head ends (CRLF CRLF, or bare LF LF as lenient servers send): its length and the body's start.
function headEnd(bytes: Buffer): { headLength: number; bodyStart: number } | null {
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    if (bytes[i + 1] === 0x0a) return { headLength: i, bodyStart: i + 2 };
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return { headLength: i, bodyStart: i + 3 };
    if (i + 1 >= bytes.length) break;
  }
  return null;
}

/** Strips optional whitespace (spaces and tabs only: RFC 9110's OWS, not every Unicode space). */
function ows(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

function parseHead(text: string): ResponseHead {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] as string);
  if (!m) throw new HttpParseError('HPE_INVALID_CONSTANT', `the answer does not start with an HTTP/1.1 status line ("${(lines[0] as string).slice(0, 60)}")`);
  const headers = new Map<string, string>();
  const lengths: string[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const value = ows(line.slice(colon + 1));
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) {
      throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', `"${line.slice(0, 60)}" is not a header field`);
    }
    const key = name.toLowerCase();
    if (key === 'content-length') lengths.push(...value.split(',').map(ows));
    // A repeated Transfer-Encoding is one list (RFC 9110 §5.3): its last coding decides the framing.
    if (key === 'transfer-encoding' && headers.has(key)) headers.set(key, `${headers.get(key)}, ${value}`);
    if (!headers.has(key)) headers.set(key, value);
  }
  if (lengths.length > 0) {
    // Repeated or listed lengths must agree (RFC 9112 §6.3): two different sizes are a request-smuggling sign.
    if (!lengths.every((v) => /^\d{1,15}$/.test(v) && v === lengths[0])) {
      throw new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', `the answer's Content-Length "${lengths.join(', ')}" is not one size`);
    }
    headers.set('content-length', lengths[0] as string);
  }
  // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3): the length no longer says how much follows.
  if (headers.has('transfer-encoding')) headers.delete('content-length');
  return { status: Number(m[1]), headers };
}

function framingOf(head: ResponseHead): Framing {
  if (head.status === 204 || head.status === 304) return { kind: 'none' };
  const te = head.headers.get('transfer-encoding');
  if (te !== undefined) {
    const last = ows(te.split(',').pop() ?? '').toLowerCase();
    return last === 'chunked' ? { kind: 'chunked', state: 'size', left: 0, line: '', trailerBytes: 0 } : { kind: 'close' };
  }
  const length = head.headers.get('content-length');
  return length !== undefined ? { kind: 'length', left: Number(length) } : { kind: 'close' };
}
