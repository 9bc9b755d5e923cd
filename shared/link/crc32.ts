// CRC-32 as Ethernet, zlib and PNG compute it (IEEE 802.3: reflected polynomial 0xEDB88320, initial value
// and final XOR 0xFFFFFFFF), so a firmware author can check frames with the CRC routine they already have.
// Check value: crc32 of the ASCII bytes "123456789" is 0xCBF43926.
//
// Node 22 computes it natively (zlib.crc32, about thirty times the speed of the table loop below): that is
// what the station and the agent use. The table loop stays for runtimes without it; both give the same
// numbers (test/unit/link-codec.test.ts checks them against each other).

type NativeCrc32 = (data: Uint8Array, value?: number) => number;

/** zlib.crc32 where the runtime has it; looked up without a static import so other runtimes still load this. */
function nativeCrc32(): NativeCrc32 | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = proc?.getBuiltinModule?.('node:zlib') as { crc32?: unknown } | undefined;
  return typeof zlib?.crc32 === 'function' ? (zlib.crc32 as NativeCrc32) : undefined;
}

const native = nativeCrc32();

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The portable CRC-32 of `bytes[start, end)`: one table lookup per byte. */
export function crc32Portable(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 (IEEE) of `bytes[start, end)`, as an unsigned 32-bit number. */
export const crc32: (bytes: Uint8Array, start?: number, end?: number) => number = native
  ? (bytes, start = 0, end = bytes.length) => native(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)) >>> 0
  : crc32Portable;

/** True when the native CRC-32 is in use (the benchmark says which one it measured). */
export const crc32IsNative = native !== undefined;
