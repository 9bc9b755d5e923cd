// GET_FILE on the device (file collection): announce the size, stream the bytes as GET_DATA chunks through
// the window, end with the SHA-256 of exactly what was sent. A file over the station's limit is refused
// before a byte is read; a CANCEL stops the stream between chunks.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Body } from '../shared/link/bodies.js';
import { chunkCapacity, encodeChunk, encodeJsonMessage, MessageType } from '../shared/link/messages.js';
import { SendPipeline } from '../shared/link/send-pipeline.js';
import { fileChunks } from '../electron/link/link-file-chunks.js';
import type { RequestScope } from './context.js';
import { deviceFile } from './handlers.js';
import { LinkRefusal } from './refusal.js';

export async function sendFile(scope: RequestScope, id: number, body: Body<'GET_FILE'>, signal: AbortSignal): Promise<void> {
  const host = deviceFile(scope.ctx, body.path);
  const file = await fs.open(host, 'r').catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? new LinkRefusal('NOT_FOUND', `there is no file ${body.path} on the device`) : err;
  });
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw new LinkRefusal('NOT_FOUND', `${body.path} is not a file`);
    const size = stat.size;
    if (size > body.maxBytes) throw new LinkRefusal('TOO_LARGE', `${body.path} is ${size} bytes, over the ${body.maxBytes} the station accepts`);
    const pipeline = new SendPipeline(scope.send, 2 * scope.window);
    await pipeline.push(encodeJsonMessage(MessageType.GET_FILE_REPLY, id, { size }));
    const hash = createHash('sha256');
    const shorter = () => new LinkRefusal('STORAGE', `${body.path} became shorter while it was being sent`);
    for await (const { offset, bytes } of fileChunks(file, 0, size, chunkCapacity(scope.maxPayload), shorter)) {
      if (signal.aborted) return;
      hash.update(bytes);
      await pipeline.push(encodeChunk(MessageType.GET_DATA, id, offset, bytes));
    }
    await pipeline.push(encodeJsonMessage(MessageType.GET_END, id, { sha256: hash.digest('hex') }));
    await pipeline.drain();
    scope.ctx.log(`sent ${body.path} (${size} bytes)`);
  } finally {
    await file.close();
  }
}
