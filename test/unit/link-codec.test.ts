// Framing units: CRC-32, COBS, the frame layout, the frame reader's resynchronisation, message envelopes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from '../../shared/link/cobs.js';
import { crc32, crc32IsNative, crc32Portable } from '../../shared/link/crc32.js';
import { FrameReader } from '../../shared/link/frame-reader.js';
import { encodeFrame, frameBytes, FrameFlag, FrameType, MAX_ENCODED_FRAME, parseFrame, type Frame } from '../../shared/link/frame.js';
import { MAX_MAX_PAYLOAD } from '../../shared/link/limits.js';
import {
  chunkCapacity, decodeChunk, decodeMessage, encodeChunk, encodeJsonMessage, MessageType, messageTypeName, parseJsonBody,
} from '../../shared/link/messages.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A reproducible byte generator, so failures can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
}

test('CRC-32 is the IEEE/zlib CRC: check value of "123456789" and of the empty string', () => {
  assert.equal(crc32(ascii('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(ascii('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  assert.equal(crc32(ascii('xx123456789yy'), 2, 11), 0xcbf43926, 'a sub-range is checked on its own');
});

test('the native CRC-32 (zlib.crc32) and the portable one agree on every length and sub-range', () => {
  assert.equal(crc32IsNative, true, 'Node 22 has zlib.crc32');
  const next = prng(11);
  const bytes = Uint8Array.from({ length: 5000 }, () => next());
  for (const [start, end] of [[0, 0], [0, 1], [0, 5000], [3, 4099], [17, 18], [4000, 5000]] as const) {
    assert.equal(crc32(bytes, start, end), crc32Portable(bytes, start, end), `[${start}, ${end})`);
  }
  assert.equal(crc32Portable(ascii('123456789')), 0xcbf43926);
});

test('COBS encodes the textbook examples', () => {
  const cases: [string, string][] = [
    ['00', '0101'],
    ['0000', '010101'],
    ['001100', '01021101'],
    ['11220033', '0311220233'],
    ['11223344', '0511223344'],
    ['11000000', '02110101 01'.replace(' ', '')],
  ];
  for (const [plain, encoded] of cases) {
    assert.equal(hex(cobsEncode(Buffer.from(plain, 'hex'))), encoded, plain);
    assert.equal(hex(cobsDecode(Buffer.from(encoded, 'hex'))!), plain, encoded);
  }
});

test('COBS handles 254-byte runs, which carry no implied zero', () => {
  for (const n of [253, 254, 255, 508, 509]) {
    const plain = new Uint8Array(n).fill(0x41);
    const encoded = cobsEncode(plain);
    assert.ok(!encoded.includes(0), `${n}: no zero in the encoding`);
    assert.ok(encoded.length <= cobsMaxEncodedLength(n), `${n}: within the overhead bound`);
    assert.deepEqual(cobsDecode(encoded), plain, `${n} bytes round trip`);
  }
  assert.equal(hex(cobsEncode(new Uint8Array(254).fill(1))).slice(0, 2), 'ff');
});

test('COBS round-trips random data of every size up to two frames, zero-heavy or not', () => {
  const next = prng(7);
  for (let n = 0; n <= 600; n++) {
    const plain = new Uint8Array(n).map(() => (n % 3 === 0 ? next() & 1 : next()));
    const encoded = cobsEncode(plain);
    assert.ok(!encoded.includes(0));
    assert.deepEqual(cobsDecode(encoded), plain, `size ${n}`);
  }
});

test('COBS refuses blocks that cannot be encodings', () => {
  assert.equal(cobsDecode(new Uint8Array(0)), undefined, 'empty');
  assert.equal(cobsDecode(Buffer.from('05112233', 'hex')), undefined, 'code points past the end');
  assert.equal(cobsDecode(Buffer.from('0311002233', 'hex')), undefined, 'zero inside');
});

const sample: Frame = { type: FrameType.DATA, flags: FrameFlag.MORE, session: 0x2a, seq: 0x0102, ack: 0xfffe, payload: ascii('hi\u0000!') };

test('a frame has the documented layout: 10-byte header, payload, big-endian CRC-32 of both', () => {
  const raw = frameBytes(sample);
  assert.equal(hex(raw.subarray(0, 10)), '0103012a0102fffe0004');
  assert.equal(hex(raw.subarray(10, 14)), hex(ascii('hi\u0000!')));
  assert.equal(Buffer.from(raw.subarray(14)).readUInt32BE(0), crc32(raw, 0, 14));
  const line = encodeFrame(sample);
  assert.equal(line[0], 0, 'starts with a delimiter');
  assert.equal(line.at(-1), 0, 'ends with one');
  assert.ok(!line.subarray(1, -1).includes(0), 'no other zero byte');
  assert.deepEqual(parseFrame(cobsDecode(line.subarray(1, -1))!), sample);
});

test('parseFrame names what is wrong with a block', () => {
  const raw = frameBytes(sample);
  const flipped = raw.slice();
  flipped[11]! ^= 0x10;
  assert.deepEqual(parseFrame(flipped), { problem: 'crc', detail: 'CRC-32 mismatch' });
  assert.equal((parseFrame(raw.subarray(0, 13)) as { problem: string }).problem, 'short');
  const withCrc = (bytes: Uint8Array) => {
    const out = new Uint8Array(bytes.length + 4);
    out.set(bytes);
    Buffer.from(out.buffer).writeUInt32BE(crc32(bytes), bytes.length);
    return out;
  };
  const body = raw.slice(0, raw.length - 4);
  body[0] = 2;
  assert.equal((parseFrame(withCrc(body)) as { problem: string }).problem, 'format');
  body[0] = 1;
  body[1] = 0x7e;
  assert.equal((parseFrame(withCrc(body)) as { problem: string }).problem, 'type');
  body[1] = FrameType.DATA;
  body[9] = 0xff; // length field lies, CRC is right
  assert.match((parseFrame(withCrc(body)) as { detail: string }).detail, /length field says 255 bytes, the frame holds 4/);
});

test('frames over the largest payload cannot be built', () => {
  assert.throws(() => frameBytes({ ...sample, payload: new Uint8Array(MAX_MAX_PAYLOAD + 1) }), /over the 4096-byte limit/);
  assert.ok(encodeFrame({ ...sample, payload: new Uint8Array(MAX_MAX_PAYLOAD) }).length - 2 <= MAX_ENCODED_FRAME);
});

function collect(): { reader: FrameReader; frames: Frame[]; problems: string[] } {
  const frames: Frame[] = [];
  const problems: string[] = [];
  const reader = new FrameReader((f) => frames.push(f), (p) => problems.push(p));
  return { reader, frames, problems };
}

test('the reader finds frames however the stream is chunked', () => {
  const frames = Array.from({ length: 20 }, (_, i) => ({ ...sample, seq: i, payload: new Uint8Array(i * 37).fill(i) }));
  const stream = Buffer.concat(frames.map(encodeFrame));
  for (const chunk of [1, 3, 64, 1000, stream.length]) {
    const c = collect();
    for (let at = 0; at < stream.length; at += chunk) c.reader.push(stream.subarray(at, at + chunk));
    assert.deepEqual(c.frames, frames, `chunks of ${chunk}`);
    assert.equal(c.problems.length, 0);
  }
});

test('the reader resynchronises after garbage between and inside frames', () => {
  const next = prng(99);
  const a = encodeFrame({ ...sample, seq: 1 });
  const b = encodeFrame({ ...sample, seq: 2 });
  const c = encodeFrame({ ...sample, seq: 3 });
  const noise = Uint8Array.from({ length: 300 }, () => next());
  const { reader, frames, problems } = collect();
  reader.push(noise); // garbage before anything: the first delimiter after it ends it
  reader.push(a);
  reader.push(b.subarray(0, 6)); // half a frame, then the line glitches
  reader.push(noise.subarray(0, 20).map((x) => x | 1));
  reader.push(c); // its leading delimiter ends the glitch
  assert.deepEqual(frames.map((f) => f.seq), [1, 3]);
  assert.ok(problems.length >= 2, 'the noise and the broken frame are reported as dropped');
  assert.equal(reader.stats.frames, 2);
});

test('a frame with one flipped bit is dropped and the next one is read', () => {
  const next = prng(5);
  for (let trial = 0; trial < 200; trial++) {
    const { reader, frames } = collect();
    const bad = encodeFrame({ ...sample, seq: trial, payload: Uint8Array.from({ length: 50 }, () => next()) });
    const at = 1 + (next() % (bad.length - 2));
    bad[at]! ^= 1 << (next() % 8);
    reader.push(bad);
    reader.push(encodeFrame({ ...sample, seq: 9 }));
    assert.deepEqual(frames.map((f) => f.seq), [9], `trial ${trial}: flip at byte ${at}`);
  }
});

test('a run longer than any frame is skipped without being buffered', () => {
  const { reader, frames, problems } = collect();
  const long = new Uint8Array(MAX_ENCODED_FRAME * 3).fill(0x55);
  reader.push(long);
  reader.push(encodeFrame(sample));
  assert.deepEqual(problems, ['overlong']);
  assert.equal(frames.length, 1);
  assert.equal(reader.stats.droppedBytes, long.length);
});

test('messages: type, request id and JSON body; chunks carry a 64-bit offset', () => {
  const m = decodeMessage(encodeJsonMessage(MessageType.PUT_QUERY, 0xdeadbeef, { size: 5 }))!;
  assert.equal(m.type, MessageType.PUT_QUERY);
  assert.equal(m.id, 0xdeadbeef);
  assert.deepEqual(parseJsonBody(m.body), { size: 5 });
  assert.deepEqual(parseJsonBody(new Uint8Array(0)), {});
  assert.throws(() => parseJsonBody(Uint8Array.of(0xff, 0xfe)));
  const big = 6 * 2 ** 32 + 12345;
  const chunk = decodeMessage(encodeChunk(MessageType.PUT_DATA, 7, big, ascii('abc')))!;
  assert.deepEqual(decodeChunk(chunk.body), { offset: big, bytes: ascii('abc') });
  assert.equal(decodeChunk(new Uint8Array(7)), undefined);
  assert.equal(decodeChunk(Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0)), undefined, 'offsets beyond 2^53');
  assert.equal(decodeMessage(new Uint8Array(4)), undefined);
  assert.equal(messageTypeName(0x84), 'PUT_BEGIN_REPLY');
  assert.equal(messageTypeName(0x42), '0x42');
  assert.equal(chunkCapacity(1024), 1011);
});
