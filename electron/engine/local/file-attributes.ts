// CE file attribute strings (spec §3.4, §11: `ARCHIVE|COMPRESSED|HIDDEN|READONLY|SYSTEM|TEMPORARY`) for files
// on the station, whose file systems do not have most of these bits. What each one means here:
// - ARCHIVE: every regular file. FAT and NTFS set it whenever a file is written and nothing on the station
//   clears it, so a device would report it for any file a package installed.
// - HIDDEN: the name starts with a dot, the POSIX convention for "do not show".
// - READONLY: the owner may not write it (no owner write bit; Node maps the Windows read-only bit to this).
// - COMPRESSED: Node cannot see file-system compression on any host (NTFS compression, btrfs/ext4 flags), so
//   the station reads the first bytes instead and reports a file whose content is a compressed container
//   (CAB, ZIP, gzip, bzip2, xz, 7-Zip, zstd, RAR). ExcludeCompressed drops those.
// - ENCRYPTED has no attribute string in the spec's list, but ExcludeEncrypted needs a meaning: content that
//   is recognisably encrypted (a ZIP whose first entry is encrypted, `openssl enc` output, age, an armoured
//   PGP message). File-system encryption (EFS, fscrypt) is invisible to Node, as above.
// - SYSTEM and TEMPORARY are never reported: the station has no such notion.
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';

export interface ContentKind {
  compressed: boolean;
  encrypted: boolean;
}

const SNIFF_BYTES = 64;

const COMPRESSED_MAGIC: Buffer[] = [
  Buffer.from('MSCF'), // Microsoft cabinet, the usual CE package
  Buffer.from([0x50, 0x4b, 0x03, 0x04]), // ZIP entry
  Buffer.from([0x50, 0x4b, 0x05, 0x06]), // empty ZIP
  Buffer.from([0x1f, 0x8b]), // gzip
  Buffer.from('BZh'), // bzip2
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), // xz
  Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), // 7-Zip
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), // zstd
  Buffer.from('Rar!\x1a\x07'), // RAR
];

const ENCRYPTED_MAGIC: Buffer[] = [
  Buffer.from('Salted__'), // openssl enc
  Buffer.from('age-encryption.org/v1'),
  Buffer.from('-----BEGIN PGP MESSAGE-----'),
];

// Reading a file to sniff it must not change the LastAccessed the next inventory reports, so on Linux the
// file is opened with O_NOATIME (allowed for the file's owner; others fall back to a plain open).
async function openWithoutTouching(hostPath: string): Promise<fs.FileHandle> {
  const noAtime = fsConstants.O_NOATIME;
  if (noAtime !== undefined) {
    try {
      return await fs.open(hostPath, fsConstants.O_RDONLY | noAtime);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
  }
  return fs.open(hostPath, 'r');
}

/** What the first bytes of a file say about it; unreadable files count as neither. */
export async function sniffContent(hostPath: string): Promise<ContentKind> {
  let head: Buffer;
  try {
    const handle = await openWithoutTouching(hostPath);
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(SNIFF_BYTES), 0, SNIFF_BYTES, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return { compressed: false, encrypted: false };
  }
  const startsWith = (magic: Buffer): boolean => head.length >= magic.length && head.subarray(0, magic.length).equals(magic);
  const zipEntryEncrypted = startsWith(COMPRESSED_MAGIC[1] as Buffer) && head.length >= 8 && (head.readUInt16LE(6) & 0x1) === 1;
  return {
    compressed: COMPRESSED_MAGIC.some(startsWith),
    encrypted: zipEntryEncrypted || ENCRYPTED_MAGIC.some(startsWith),
  };
}

/** The `|`-joined attribute string of a file or folder (see the file comment for what each one means). */
export function attributeString(name: string, mode: number, kind: { isDirectory: boolean; compressed?: boolean }): string {
  const attributes: string[] = [];
  if (!kind.isDirectory) attributes.push('ARCHIVE');
  if (kind.compressed) attributes.push('COMPRESSED');
  if (name.startsWith('.')) attributes.push('HIDDEN');
  if ((mode & 0o200) === 0) attributes.push('READONLY');
  return attributes.join('|');
}
