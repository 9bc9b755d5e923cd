// putFile on the station: PUT_BEGIN at the resume offset, the file as a stream of PUT_DATA chunks kept
// flowing through the window, then PUT_END, after which the device checks size and SHA-256 and commits the
// file under its name. The device may refuse at any point with an ERROR; the stream stops at once.
//
// A device that lies about where it resumes (a PUT_BEGIN_REPLY offset other than the one asked for) is
// refused before a byte is sent: resuming at the wrong byte would assemble a wrong file.
import fs from 'node:fs/promises';
import { checkBody, type Body } from '../../shared/link/bodies.js';
import { encodeChunk, encodeJsonMessage, MessageType, messageTypeName } from '../../shared/link/messages.js';
import { SendPipeline } from '../../shared/link/send-pipeline.js';
import { DockhandError } from '../../shared/model/errors.js';
import { seconds } from '../../shared/link/limits.js';
import type { PutFileProgress } from './device-link.js';
import { fileChunks } from './link-file-chunks.js';
import { linkFailure, misbehaving } from './link-failures.js';
import type { RequestTable } from './link-requests.js';

export interface StreamContext {
  requests: RequestTable;
  /** File bytes per PUT_DATA / GET_DATA message: one frame each. */
  chunkBytes: number;
  /** Chunks kept unacknowledged: enough to keep the window full. */
  depth: number;
  requestTimeoutMs: number;
}

export interface PutFileRequest {
  directory: string;
  fileName: string;
  sourceFile: string;
  size: number;
  sha256: string;
  offset: number;
  onProgress?: (p: PutFileProgress) => void;
  signal?: AbortSignal;
}

/** Time the device may take per byte to check a file's SHA-256 before answering PUT_END (5 MB/s, slow flash). */
const VERIFY_MS_PER_BYTE = 1 / 5000;

function cancelled(what: string): DockhandError {
  return new DockhandError('CANCELLED', `${what} was cancelled`);
}

export async function putFileOverLink(ctx: StreamContext, req: PutFileRequest): Promise<string> {
  const { requests } = ctx;
  const device = requests.ctx.device;
  const what = `receive ${req.fileName} into ${req.directory}`;
  const begin = { directory: req.directory, fileName: req.fileName, size: req.size, sha256: req.sha256.toLowerCase(), offset: req.offset };
  const checked = checkBody('PUT_BEGIN', begin);
  if (!checked.ok) throw new DockhandError('LINK', `cannot send ${req.fileName} to ${device}: ${checked.problem}`);
  if (req.offset > req.size) throw new DockhandError('LINK', `cannot resume ${req.fileName} at byte ${req.offset}: the file has only ${req.size} bytes`);
  if (req.signal?.aborted) throw cancelled(`sending ${req.fileName}`);

  let file: fs.FileHandle;
  try {
    file = await fs.open(req.sourceFile, 'r');
  } catch (err) {
    throw new DockhandError('STORAGE', `cannot read ${req.sourceFile} to send it to ${device}: ${(err as Error).message}`, { cause: err });
  }
  const id = requests.allocate();
  // The put's replies arrive one at a time, each expected at one moment: PUT_BEGIN_REPLY, then PUT_END_REPLY.
  // An ERROR may come at any time and stops the stream. Bodies are checked as they arrive, so a malformed
  // one ends the link right there (the handler throws).
  let failure: Error | undefined;
  let waiter: { name: 'PUT_BEGIN_REPLY' | 'PUT_END_REPLY'; resolve(body: unknown): void; reject(e: Error): void } | undefined;
  const reply = <N extends 'PUT_BEGIN_REPLY' | 'PUT_END_REPLY'>(name: N, timeoutMs: number): Promise<Body<N>> => {
    const answer = new Promise<Body<N>>((resolve, reject) => {
      if (failure) return reject(failure);
      const timer = requests.ctx.timers.setTimeout(() => {
        waiter = undefined;
        requests.cancel(id);
        reject(linkFailure(`${device} did not answer in time while it should ${what} (${seconds(timeoutMs)}); it may be busy or hung`));
      }, timeoutMs);
      const done = (): void => {
        requests.ctx.timers.clearTimeout(timer);
        waiter = undefined;
      };
      waiter = { name, resolve: (body) => (done(), resolve(body as Body<N>)), reject: (e) => (done(), reject(e)) };
    });
    // Awaited only after the request is sent; if sending fails first, that error is the one reported.
    answer.catch(() => undefined);
    return answer;
  };
  requests.open(id, {
    handle: (message) => {
      if (message.type === MessageType.ERROR) {
        failure = requests.refusal(message, what);
        return waiter?.reject(failure);
      }
      if (!waiter) throw misbehaving(device, `sent ${messageTypeName(message.type)} for a file transfer that was not waiting for an answer`);
      requests.expect(message, MessageType[waiter.name], what);
      waiter.resolve(requests.read(waiter.name, message));
    },
    fail: (err) => {
      failure = err;
      waiter?.reject(err);
    },
  });

  try {
    const stat = await file.stat();
    if (stat.size !== req.size) {
      throw new DockhandError('SIZE_MISMATCH', `${req.sourceFile} is ${stat.size} bytes, not the ${req.size} expected; download it again`);
    }
    const started = reply('PUT_BEGIN_REPLY', ctx.requestTimeoutMs);
    await requests.ctx.send(encodeJsonMessage(MessageType.PUT_BEGIN, id, begin));
    const accepted = await started;
    if (accepted.offset !== req.offset) {
      requests.cancel(id);
      throw misbehaving(device, `offered to resume ${req.fileName} at byte ${accepted.offset} when asked for byte ${req.offset}`);
    }
    req.onProgress?.({ bytesDone: req.offset, total: req.size });

    const pipeline = new SendPipeline((m) => requests.ctx.send(m), ctx.depth);
    const shorter = () => new DockhandError('SIZE_MISMATCH', `${req.sourceFile} became shorter while it was being sent`);
    for await (const { offset, bytes } of fileChunks(file, req.offset, req.size, ctx.chunkBytes, shorter)) {
      if (failure) throw failure;
      if (req.signal?.aborted) {
        requests.cancel(id);
        throw cancelled(`sending ${req.fileName}`);
      }
      const end = offset + bytes.length;
      await pipeline.push(encodeChunk(MessageType.PUT_DATA, id, offset, bytes), () => req.onProgress?.({ bytesDone: end, total: req.size }));
    }
    await pipeline.drain();
    if (failure) throw failure;
    const ended = reply('PUT_END_REPLY', ctx.requestTimeoutMs + req.size * VERIFY_MS_PER_BYTE);
    await requests.ctx.send(encodeJsonMessage(MessageType.PUT_END, id, {}));
    return (await ended).path;
  } finally {
    requests.close(id);
    await file.close();
  }
}
