// Reads a stretch of an open file as the chunks a PUT_DATA or GET_DATA message carries: the disk is read
// 64 KiB at a time (a read per 1 KiB chunk would cost a system call per frame), and each block is cut into
// chunks of `chunkBytes`. Used by the station to push files and by the agent to send them back.
import type { FileHandle } from 'node:fs/promises';

const READ_BLOCK = 64 * 1024;

/**
 * Yields `{ offset, bytes }` for [start, end). `bytes` is a view of a reused buffer, valid until the next
 * iteration (encode it before asking for more). Throws `shorter()` if the file ends before `end`.
 */
export async function* fileChunks(
  file: FileHandle,
  start: number,
  end: number,
  chunkBytes: number,
  shorter: () => Error,
): AsyncGenerator<{ offset: number; bytes: Buffer }> {
  const block = Buffer.alloc(Math.min(READ_BLOCK, Math.max(chunkBytes, end - start)));
  for (let position = start; position < end; ) {
    const { bytesRead } = await file.read(block, 0, Math.min(block.length, end - position), position);
    if (bytesRead === 0) throw shorter();
    for (let at = 0; at < bytesRead; at += chunkBytes) {
      yield { offset: position + at, bytes: block.subarray(at, Math.min(bytesRead, at + chunkBytes)) };
    }
    position += bytesRead;
  }
}
