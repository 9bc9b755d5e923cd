// Consistent Overhead Byte Stuffing: rewrites a frame so it contains no 0x00 byte, which then delimits
// frames on the line. A receiver that lands in the middle of a frame (garbage, a dropped byte, the cable
// plugged in mid-stream) throws away everything up to the next 0x00 and is in step again. The cost is one
// byte per 254 bytes of frame plus the delimiter, whatever the data, unlike SLIP whose escaping can double
// a frame full of END bytes.
//
// Encoding: the frame is cut at each 0x00 into groups; each group is written as a code byte (group length
// + 1) followed by its non-zero bytes, the 0x00 itself being implied. A group of 254 non-zero bytes gets
// code 0xFF and implies no 0x00 after it.
//
// Both directions work a group at a time: the zeros are found with indexOf and the runs between them are
// copied whole, never a byte at a time in JavaScript (the link is bound by its cable, not by this code).

/** The largest encoding of `n` bytes (without the delimiter). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * Encodes `bytes` into `out` from index `at` (room for cobsMaxEncodedLength(bytes.length) bytes needed);
 * returns the index after the last byte written. The encoding holds no 0x00 byte.
 */
export function cobsEncodeInto(bytes: Uint8Array, out: Uint8Array, at: number): number {
  const n = bytes.length;
  let o = at;
  let pos = 0;
  for (;;) {
    const zero = bytes.indexOf(0, pos);
    const runEnd = zero === -1 ? n : zero;
    // A run of 254 non-zero bytes is a full group: code 0xFF, no implied zero, and a new group starts.
    while (runEnd - pos >= 254) {
      out[o++] = 0xff;
      out.set(bytes.subarray(pos, pos + 254), o);
      o += 254;
      pos += 254;
    }
    out[o++] = runEnd - pos + 1;
    out.set(bytes.subarray(pos, runEnd), o);
    o += runEnd - pos;
    if (zero === -1) return o;
    pos = zero + 1;
  }
}

/** Encodes `bytes`; the result holds no 0x00 byte. The delimiter is not included. */
export function cobsEncode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(bytes.length));
  return out.subarray(0, cobsEncodeInto(bytes, out, 0));
}

/**
 * Decodes one COBS block (without its delimiter). Returns undefined when the block cannot be a COBS
 * encoding (a 0x00 inside, or a code byte pointing past the end): the caller treats it as line noise.
 */
export function cobsDecode(block: Uint8Array): Uint8Array | undefined {
  const n = block.length;
  if (n === 0 || block.indexOf(0) !== -1) return undefined;
  const out = new Uint8Array(n);
  let o = 0;
  let i = 0;
  while (i < n) {
    const code = block[i++]!;
    const end = i + code - 1;
    if (end > n) return undefined;
    out.set(block.subarray(i, end), o);
    o += end - i;
    i = end;
    // Every group but the last implies a 0x00, unless it was a full 254-byte group.
    if (code !== 0xff && i < n) out[o++] = 0;
  }
  return out.subarray(0, o);
}
