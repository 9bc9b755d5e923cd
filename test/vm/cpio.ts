// A cpio archive in the "newc" format, the one the Linux kernel unpacks as an initramfs. Written here so the
// guest build needs no cpio tool: a header of 13 hex fields per entry, the name, the data, each padded to
// four bytes, and a TRAILER!!! entry at the end.
export interface CpioEntry {
  /** Path inside the archive, without a leading slash. */
  name: string;
  type: 'dir' | 'file' | 'symlink';
  /** Permission bits (default 0755 for dirs and files). */
  mode?: number;
  /** File contents, or the symlink's target. */
  data?: Uint8Array | string;
}

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000 } as const;
const pad4 = (n: number) => (4 - (n % 4)) % 4;

export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const add = (name: string, mode: number, data: Buffer, ino: number) => {
    const nameBytes = Buffer.from(`${name}\0`);
    const fields = [ino, mode, 0, 0, mode & TYPE_BITS.dir ? 2 : 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
    const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`, 'ascii');
    parts.push(header, nameBytes, Buffer.alloc(pad4(header.length + nameBytes.length)), data, Buffer.alloc(pad4(data.length)));
  };
  entries.forEach((e, i) => {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    add(e.name.replace(/^\/+/, ''), TYPE_BITS[e.type] | (e.type === 'symlink' ? 0o777 : e.mode ?? 0o755), data, i + 1);
  });
  add('TRAILER!!!', 0, Buffer.alloc(0), 0);
  return Buffer.concat(parts);
}
