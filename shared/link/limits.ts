// The numbers both ends agree on. Defaults are what the station offers in its HELLO; limits are the most any
// implementation may offer. docs/link-protocol.md §Limits explains each one.

/** Byte 0 of every frame. A frame with another value is not ours (or from a future layout) and is dropped. */
export const FRAME_FORMAT = 1;
/** Protocol versions this implementation speaks, newest last; the HELLO negotiates the highest common one. */
export const PROTOCOL_VERSIONS: readonly number[] = [1];

/** Fixed frame header: format, type, flags, session, seq (2), ack (2), length (2). */
export const FRAME_HEADER_BYTES = 10;
export const FRAME_CRC_BYTES = 4;

/** Payload bytes per frame: the least any peer may negotiate, the most any may. */
export const MIN_MAX_PAYLOAD = 128;
export const MAX_MAX_PAYLOAD = 4096;
/** The longest a DATA frame should occupy the line: a lost frame costs at most this, and a control message waits at most this behind one. */
export const FRAME_TIME_TARGET_MS = 400;

/**
 * The payload the station offers for a line of `bytesPerSecond` (undefined: a fast link such as USB): the
 * largest power of two whose frame fits in FRAME_TIME_TARGET_MS, within the limits. 115 200 baud 8N1 gets
 * 4096-byte frames (0.36 s each, 98.9 % of the line for file bytes), 9600 baud 256. Large frames matter
 * twice: fewer bytes of overhead on a slow line, fewer frames to handle per megabyte on a fast one.
 */
export function payloadForLineRate(bytesPerSecond: number | undefined): number {
  if (bytesPerSecond === undefined || !(bytesPerSecond > 0)) return MAX_MAX_PAYLOAD;
  const fits = (bytesPerSecond * FRAME_TIME_TARGET_MS) / 1000 - FRAME_HEADER_BYTES - FRAME_CRC_BYTES;
  let payload = MIN_MAX_PAYLOAD;
  while (payload * 2 <= Math.min(fits, MAX_MAX_PAYLOAD)) payload *= 2;
  return payload;
}

/** Unacknowledged DATA frames in flight: offered by default, and the most any peer may negotiate. */
export const DEFAULT_WINDOW = 8;
export const MAX_WINDOW = 32;

/** A message (a request or reply reassembled from DATA frames): offered by default, and the limits. */
export const DEFAULT_MAX_MESSAGE = 1024 * 1024;
export const MIN_MAX_MESSAGE = 16 * 1024;
export const MAX_MAX_MESSAGE = 16 * 1024 * 1024;

/** Keep-alive cadence (the station's HELLO sets it for both ends). */
export const DEFAULT_KEEPALIVE_MS = 2000;
/** The silence after which the peer counts as gone: four keep-alive periods, so one lost frame is no alarm. */
export const DEAD_PEER_KEEPALIVES = 4;

/** Retransmission timing: first guess before any round trip was measured, and the bounds. */
export const INITIAL_RTO_MS = 1000;
export const MIN_RTO_MS = 1000;
export const MAX_RTO_MS = 8000;
/** Sends of one DATA frame before the link is declared broken. */
export const MAX_SENDS = 12;

/** Paths carried in messages (device paths, file names), in characters. CE's MAX_PATH. */
export const MAX_PATH_CHARS = 260;
/** Command lines carried in RUN, in characters. */
export const MAX_COMMAND_LINE_CHARS = 8192;

/** A duration for messages: `0.4 s`, `8 s`, `60 s` (tenths below ten seconds). */
export function seconds(ms: number): string {
  return `${ms < 10_000 ? Math.round(ms / 100) / 10 : Math.round(ms / 1000)} s`;
}
