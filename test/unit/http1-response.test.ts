// The station's HTTP/1.1 response reader (electron/engine/transfer/http1-response.ts), fed the way a socket
// feeds it: in pieces split at every possible byte, since a read can end anywhere (inside a CRLF, a chunk
// size, the head's last line). Whole downloads through it are tested in transfer-download.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConnectionEnded, HttpParseError, ResponseReader, type ResponseHead } from '../../electron/engine/transfer/http1-response.js';
import { requestText } from '../../electron/engine/transfer/http-exchange.js';

interface Read {
  heads: ResponseHead[];
  body: Buffer;
  ends: number;
  reader: ResponseReader;
}

function reader(): Read {
  const got: Buffer[] = [];
  const r: Read = {
    heads: [],
    body: Buffer.alloc(0),
    ends: 0,
    reader: new ResponseReader({
      head: (h) => r.heads.push(h),
      // The reader hands out views of the caller's buffer: copy, as a real consumer must.
      body: (bytes) => got.push(Buffer.from(bytes)),
      end: () => r.ends++,
    }),
  };
  Object.defineProperty(r, 'body', { get: () => Buffer.concat(got) });
  return r;
}

/** Feeds `wire` in two pieces split at `at`, each through a scratch buffer that is overwritten afterwards. */
function feedSplit(r: Read, wire: Buffer, at: number): void {
  for (const piece of [wire.subarray(0, at), wire.subarray(at)]) {
    const scratch = Buffer.from(piece);
    r.reader.feed(scratch);
    scratch.fill(0xee); // a reused read buffer: nothing may still point into it
  }
}

function parseError(code: string): (err: unknown) => boolean {
  return (err) => err instanceof HttpParseError && err.code === code && /^HPE_/.test(err.code);
}

test('a Content-Length body split at every byte: one head, the exact bytes, one end', () => {
  const body = randomBytes(300);
  const wire = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 300\r\nETag: "a"\r\n\r\n'), body]);
  for (let at = 0; at <= wire.length; at++) {
    const r = reader();
    feedSplit(r, wire, at);
    assert.equal(r.heads.length, 1, `split at ${at}`);
    assert.equal(r.heads[0]?.status, 200);
    assert.equal(r.heads[0]?.headers.get('etag'), '"a"');
    assert.ok(r.body.equals(body), `split at ${at}: the body`);
    assert.equal(r.ends, 1);
    assert.equal(r.reader.complete, true);
  }
});

test('a chunked body with extensions and trailers, split at every byte, gives back exactly its data', () => {
  const a = randomBytes(26);
  const b = randomBytes(17);
  const wire = Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a;name=value\r\n'), a,
    Buffer.from('\r\n11 \r\n'), b, Buffer.from('\r\n0\r\nX-Trailer: 1\r\n\r\n'),
  ]);
  for (let at = 0; at <= wire.length; at++) {
    const r = reader();
    feedSplit(r, wire, at);
    assert.ok(r.body.equals(Buffer.concat([a, b])), `split at ${at}: the body`);
    assert.equal(r.ends, 1, `split at ${at}: one end`);
  }
});

test('what real servers send is accepted: bare LF line ends, a 100 Continue first, duplicate equal lengths', () => {
  const r = reader();
  r.reader.feed(Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\nContent-Length: 3\nContent-Length: 3\nServer:  lenient \n\nabc'));
  assert.equal(r.heads.length, 1, 'the interim answer is skipped');
  assert.equal(r.heads[0]?.headers.get('server'), 'lenient');
  assert.equal(r.body.toString(), 'abc');
  assert.equal(r.ends, 1);
});

test('a head that arrives a byte at a time is read as one', () => {
  const r = reader();
  const wire = Buffer.from(`HTTP/1.1 200 OK\r\n${Array.from({ length: 40 }, (_, i) => `X-Field-${i}: ${'v'.repeat(40)}\r\n`).join('')}Content-Length: 4\r\n\r\nbody`);
  for (let i = 0; i < wire.length; i++) r.reader.feed(wire.subarray(i, i + 1));
  assert.equal(r.heads.length, 1);
  assert.equal(r.heads[0]?.headers.get('x-field-39'), 'v'.repeat(40));
  assert.equal(r.body.toString(), 'body');
  assert.equal(r.ends, 1);
});

test('a repeated Transfer-Encoding is one list: chunked then gzip means the body runs until the close', () => {
  const r = reader();
  r.reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n3\r\nabc'));
  assert.equal(r.ends, 0);
  r.reader.eof();
  assert.equal(r.body.toString(), '3\r\nabc', 'not decoded as chunks: the last coding is not chunked');
});

test('Transfer-Encoding overrides Content-Length, which is then not reported as the size', () => {
  const r = reader();
  r.reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 999\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'));
  assert.equal(r.heads[0]?.headers.get('content-length'), undefined);
  assert.equal(r.body.toString(), 'abc');
  assert.equal(r.ends, 1);
});

test('a body without a length runs until the server closes; 204 has none', () => {
  const r = reader();
  r.reader.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\nuntil'));
  r.reader.feed(Buffer.from(' close'));
  assert.equal(r.ends, 0);
  r.reader.eof();
  assert.equal(r.body.toString(), 'until close');
  assert.equal(r.ends, 1);

  const empty = reader();
  empty.reader.feed(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'));
  assert.equal(empty.ends, 1);
  assert.throws(() => empty.reader.feed(Buffer.from('x')), parseError('HPE_DATA_AFTER_BODY'));
});

test('bytes after the announced end are refused, with the body marked whole (a server sending more than it said)', () => {
  const r = reader();
  assert.throws(() => r.reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabEXTRA')), parseError('HPE_DATA_AFTER_BODY'));
  assert.equal(r.body.toString(), 'ab', 'the announced bytes were delivered');
  assert.equal(r.reader.complete, true);
  assert.equal(r.ends, 0, 'the body is not reported ended: the answer was a lie');

  const chunked = reader();
  assert.throws(() => chunked.reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nmore')), parseError('HPE_DATA_AFTER_BODY'));
});

test('malformed answers are named: not HTTP, bad header line, disagreeing lengths, bad chunk size, oversize head, chunk overrun', () => {
  const cases: Array<[string, string]> = [
    ['<html>captive portal</html>\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\n folded: line\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nContent-Length: \u00a05\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'], // only spaces and tabs are whitespace
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n', 'HPE_STRICT'],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', 'HPE_UNEXPECTED_UPGRADE'],
    [`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70 * 1024)}\r\n\r\n`, 'HPE_HEADER_OVERFLOW'],
  ];
  for (const [wire, code] of cases) {
    assert.throws(() => reader().reader.feed(Buffer.from(wire, 'latin1')), parseError(code), wire.slice(0, 40));
  }
  // Trailers that never end are refused once all of them together pass the head's limit.
  const trailers = reader();
  trailers.reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n'));
  assert.throws(() => {
    for (let i = 0; i < 100; i++) trailers.reader.feed(Buffer.from(`X-${i}: ${'t'.repeat(1000)}\r\n`));
  }, parseError('HPE_CHUNK_EXTENSIONS_OVERFLOW'));
  // A head that never ends is refused once it passes the limit, without waiting for its end.
  const endless = reader();
  assert.throws(() => {
    for (let i = 0; i < 100; i++) endless.reader.feed(Buffer.from(`X-${i}: ${'b'.repeat(1000)}\r\n`));
  }, parseError('HPE_HEADER_OVERFLOW'));
});

test('a connection that ends early: before the head "socket hang up", inside a sized body "aborted", both ECONNRESET', () => {
  const before = reader();
  before.reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le'));
  assert.throws(() => before.reader.eof(), (err) => err instanceof ConnectionEnded && err.code === 'ECONNRESET' && err.message === 'socket hang up');
  const inside = reader();
  inside.reader.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  assert.throws(() => inside.reader.eof(), (err) => err instanceof ConnectionEnded && err.message === 'aborted');
  assert.equal(inside.body.toString(), 'abc', 'what arrived was delivered before the cut');
});

test('the request: one GET with Host, identity encoding and Connection: close; a header that could split it is refused', () => {
  const text = requestText(new URL('http://[::1]:8080/pkg/a%20b.cab?x=1'), { Range: 'bytes=5-', 'If-Range': '"v1"', connection: 'keep-alive' });
  assert.equal(text,
    'GET /pkg/a%20b.cab?x=1 HTTP/1.1\r\nHost: [::1]:8080\r\nAccept-Encoding: identity\r\nRange: bytes=5-\r\nIf-Range: "v1"\r\nConnection: close\r\n\r\n');
  assert.throws(() => requestText(new URL('http://127.0.0.1/p'), { 'If-Range': '"v1"\r\nX-Evil: 1' }), /Invalid character in header content \["If-Range"\]/);
  assert.throws(() => requestText(new URL('http://127.0.0.1/p'), { 'Bad Name': 'x' }), /Invalid character/);
  // Credentials in the URL go as Basic authentication, as node:http sent them; the caller's own header wins.
  assert.match(requestText(new URL('http://tech:p%40ss@127.0.0.1/p'), {}), /\r\nAuthorization: Basic dGVjaDpwQHNz\r\n/);
  assert.doesNotMatch(requestText(new URL('http://tech:x@127.0.0.1/p'), { authorization: 'Bearer t' }), /Basic/);
});
