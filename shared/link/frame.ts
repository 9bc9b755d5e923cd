// One frame on the line, before COBS (docs/link-protocol.md §Frames):
//
//   offset  size  field
//   0       1     format   FRAME_FORMAT (1)
//   1       1     type     FrameType
//   2       1     flags    bit 0 MORE (DATA: the message continues in the next DATA frame)
//                          bit 1 NAK  (the sender is missing frame `ack`; resend it now)
//   3       1     session  chosen by the station in HELLO; frames of another session are not ours
//   4       2     seq      DATA: this frame's sequence number; 0 otherwise
//   6       2     ack      the next sequence number the sender of this frame expects (cumulative)
//   8       2     length   payload bytes that follow
//   10      n     payload
//   10+n    4     CRC-32 (IEEE) of bytes 0 … 9+n
//
// Multi-byte fields are big-endian. On the line the whole is COBS-encoded, between two 0x00 delimiters.
import { cobsEncodeInto, cobsMaxEncodedLength } from './cobs.js';
import { crc32 } from './crc32.js';
import { FRAME_CRC_BYTES, FRAME_FORMAT, FRAME_HEADER_BYTES, MAX_MAX_PAYLOAD } from './limits.js';

export const FrameType = {
  HELLO: 0x01,
  HELLO_REPLY: 0x02,
  DATA: 0x03,
  ACK: 0x04,
  KEEPALIVE: 0x05,
  RESET: 0x06,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const FrameFlag = { MORE: 0x01, NAK: 0x02 } as const;

export interface Frame {
  type: FrameType;
  flags: number;
  session: number;
  seq: number;
  ack: number;
  payload: Uint8Array;
}

/** The longest run of bytes between two delimiters that can hold a valid frame. */
export const MAX_ENCODED_FRAME = cobsMaxEncodedLength(FRAME_HEADER_BYTES + MAX_MAX_PAYLOAD + FRAME_CRC_BYTES);

const FRAME_TYPES = new Set<number>(Object.values(FrameType));

/** The frame's bytes before COBS: header, payload, CRC. */
export function frameBytes(frame: Frame): Uint8Array {
  const n = frame.payload.length;
  if (n > MAX_MAX_PAYLOAD) throw new RangeError(`frame payload of ${n} bytes is over the ${MAX_MAX_PAYLOAD}-byte limit`);
  const raw = new Uint8Array(FRAME_HEADER_BYTES + n + FRAME_CRC_BYTES);
  const view = new DataView(raw.buffer);
  raw[0] = FRAME_FORMAT;
  raw[1] = frame.type;
  raw[2] = frame.flags;
  raw[3] = frame.session;
  view.setUint16(4, frame.seq);
  view.setUint16(6, frame.ack);
  view.setUint16(8, n);
  raw.set(frame.payload, FRAME_HEADER_BYTES);
  view.setUint32(FRAME_HEADER_BYTES + n, crc32(raw, 0, FRAME_HEADER_BYTES + n));
  return raw;
}

/**
 * The frame as it goes on the line: 0x00, the COBS encoding, 0x00. The leading delimiter costs one byte and
 * ends whatever noise the receiver buffered while the line was idle (a boot console, a glitch on plugging
 * in), so that noise cannot swallow this frame; receivers skip the empty block between two frames.
 */
export function encodeFrame(frame: Frame): Uint8Array {
  const raw = frameBytes(frame);
  const line = new Uint8Array(cobsMaxEncodedLength(raw.length) + 2);
  const end = cobsEncodeInto(raw, line, 1);
  return line.subarray(0, end + 1); // first and last byte stay 0x00
}

/** Why a decoded block is not a frame. `crc` and `short` are line noise; the others are a peer's mistake. */
export type FrameProblem = 'short' | 'crc' | 'format' | 'type' | 'length';

/**
 * Reads a frame from its COBS-decoded bytes. The CRC is checked first, so anything else that is wrong with
 * a block that passed it was sent that way on purpose (or by a broken peer), not damaged on the line.
 */
export function parseFrame(raw: Uint8Array): Frame | { problem: FrameProblem; detail: string } {
  if (raw.length < FRAME_HEADER_BYTES + FRAME_CRC_BYTES) return { problem: 'short', detail: `${raw.length} bytes` };
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = raw.length - FRAME_CRC_BYTES;
  if (view.getUint32(end) !== crc32(raw, 0, end)) return { problem: 'crc', detail: 'CRC-32 mismatch' };
  if (raw[0] !== FRAME_FORMAT) return { problem: 'format', detail: `frame format ${raw[0]}, expected ${FRAME_FORMAT}` };
  const type = raw[1]!;
  if (!FRAME_TYPES.has(type)) return { problem: 'type', detail: `unknown frame type 0x${type.toString(16)}` };
  const length = view.getUint16(8);
  if (length !== end - FRAME_HEADER_BYTES) {
    return { problem: 'length', detail: `length field says ${length} bytes, the frame holds ${end - FRAME_HEADER_BYTES}` };
  }
  return {
    type: type as FrameType,
    flags: raw[2]!,
    session: raw[3]!,
    seq: view.getUint16(4),
    ack: view.getUint16(6),
    payload: raw.subarray(FRAME_HEADER_BYTES, end), // a view: the reader decodes every block into fresh bytes
  };
}
