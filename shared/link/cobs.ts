// Consistent Overhead Byte Stuffing: rewrites a frame so it contains no 0x00 byte, which then delimits
// frames on the line. A receiver that lands in the middle of a frame (garbage, a dropped byte, the cable
// plugged in mid-stream) throws away everything up to the next 0x00 and is in step again. The cost is one
// byte per 254 bytes of frame plus the delimiter, whatever the data, unlike SLIP whose escaping can double
// a frame full of END bytes.
//
// Encoding: the frame is cut at each 0x00 into groups; each group is written as a code byte (group length
// + 1) followed by its non-zero bytes, the 0x00 itself being implied. A group of 254 non-zero bytes gets
// code 0xFF and implies no 0x00 after it.

/** The largest encoding of `n` bytes (without the delimiter). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/** Encodes `bytes`; the result holds no 0x00 byte. The delimiter is not included. */
export function cobsEncode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(bytes.length));
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (const b of bytes) {
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    code++;
    if (code === 0xff) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/**
 * Decodes one COBS block (without its delimiter). Returns undefined when the block cannot be a COBS
 * encoding (a 0x00 inside, or a code byte pointing past the end): the caller treats it as line noise.
 */
export function cobsDecode(block: Uint8Array): Uint8Array | undefined {
  if (block.length === 0) return undefined;
  const out = new Uint8Array(block.length);
  let o = 0;
  let i = 0;
  while (i < block.length) {
    const code = block[i++]!;
    if (code === 0) return undefined;
    const end = i + code - 1;
    if (end > block.length) return undefined;
    for (; i < end; i++) {
      const b = block[i]!;
      if (b === 0) return undefined;
      out[o++] = b;
    }
    // Every group but the last implies a 0x00, unless it was a full 254-byte group.
    if (code !== 0xff && i < block.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
