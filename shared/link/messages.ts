// Messages ride the reliable channel, one message per reassembled DATA payload (docs/link-protocol.md
// §Messages):
//
//   offset  size  field
//   0       1     type        MessageType; a reply is its request's type with bit 7 set
//   1       4     request id  chosen by the station, echoed by every reply and stream message of the request
//   5       n     body        UTF-8 JSON for control messages; for PUT_DATA and GET_DATA an 8-byte offset
//                             followed by the file bytes
//
// Control bodies are JSON because they are small, rare and easy to read in a line trace; file data is raw
// bytes because it is the bulk of the traffic and must not grow on the line.

export const MessageType = {
  MACHINE_INVENTORY: 0x01,
  LIST_FILES: 0x02,
  PUT_QUERY: 0x03,
  PUT_BEGIN: 0x04,
  PUT_DATA: 0x05,
  PUT_END: 0x06,
  REMOVE_FILE: 0x07,
  RUN: 0x08,
  GET_FILE: 0x09,
  CANCEL: 0x0a,
  BYE: 0x0b,
  // 0x0c and 0x0d are never requests: their reply types would be GET_DATA and GET_END.
  RUN_STATUS: 0x0e,
  MACHINE_INVENTORY_REPLY: 0x81,
  LIST_FILES_REPLY: 0x82,
  PUT_QUERY_REPLY: 0x83,
  PUT_BEGIN_REPLY: 0x84,
  PUT_END_REPLY: 0x86,
  REMOVE_FILE_REPLY: 0x87,
  RUN_REPLY: 0x88,
  GET_FILE_REPLY: 0x89,
  BYE_REPLY: 0x8b,
  GET_DATA: 0x8c,
  GET_END: 0x8d,
  RUN_STATUS_REPLY: 0x8e,
  ERROR: 0xff,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const NAMES = new Map<number, string>(Object.entries(MessageType).map(([name, code]) => [code, name]));

/** `PUT_BEGIN`, or `0x42` for a type this implementation does not know. */
export function messageTypeName(type: number): string {
  return NAMES.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;
}

export const MESSAGE_HEADER_BYTES = 5;
/** Offset field of PUT_DATA and GET_DATA. */
export const CHUNK_HEADER_BYTES = 8;

export interface Message {
  type: number;
  id: number;
  body: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(type: MessageType, id: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(MESSAGE_HEADER_BYTES + body.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, id >>> 0);
  out.set(body, MESSAGE_HEADER_BYTES);
  return out;
}

/** A control message: the body is `value` as JSON. */
export function encodeJsonMessage(type: MessageType, id: number, value: unknown): Uint8Array {
  return encodeMessage(type, id, utf8.encode(JSON.stringify(value)));
}

/** Splits a received message into type, id and body; undefined when it is too short to have a header. */
export function decodeMessage(bytes: Uint8Array): Message | undefined {
  if (bytes.length < MESSAGE_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { type: bytes[0]!, id: view.getUint32(1), body: bytes.subarray(MESSAGE_HEADER_BYTES) };
}

/** The JSON value of a control body (an empty body reads as `{}`); throws a SyntaxError when it is not JSON. */
export function parseJsonBody(body: Uint8Array): unknown {
  if (body.length === 0) return {};
  return JSON.parse(fromUtf8.decode(body)) as unknown;
}

/** PUT_DATA / GET_DATA: the file offset of the first byte, then the bytes (built in one buffer: one copy of the bytes). */
export function encodeChunk(type: MessageType, id: number, offset: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(MESSAGE_HEADER_BYTES + CHUNK_HEADER_BYTES + bytes.length);
  const view = new DataView(out.buffer);
  out[0] = type;
  view.setUint32(1, id >>> 0);
  view.setUint32(MESSAGE_HEADER_BYTES, Math.floor(offset / 0x1_0000_0000));
  view.setUint32(MESSAGE_HEADER_BYTES + 4, offset >>> 0);
  out.set(bytes, MESSAGE_HEADER_BYTES + CHUNK_HEADER_BYTES);
  return out;
}

export function decodeChunk(body: Uint8Array): { offset: number; bytes: Uint8Array } | undefined {
  if (body.length < CHUNK_HEADER_BYTES) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const high = view.getUint32(0);
  if (high >= 0x20_0000) return undefined; // beyond 2^53: no file is that big
  return { offset: high * 0x1_0000_0000 + view.getUint32(4), bytes: body.subarray(CHUNK_HEADER_BYTES) };
}

/** File bytes that fit in one DATA frame's payload beside the message and chunk headers. */
export function chunkCapacity(maxPayload: number): number {
  return maxPayload - MESSAGE_HEADER_BYTES - CHUNK_HEADER_BYTES;
}
