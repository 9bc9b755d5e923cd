// Sends a byte range of an open package file as a response body through two reused 1 MiB buffers.
//
// 1 MiB, not a stream's default 64 KiB: a sixteenth of the reads and socket writes (served to curl on
// loopback, 1 GiB took 1.34 s instead of 2.25 s when this was first measured with a read stream).
//
// Reused, not a read stream: a stream allocates a fresh buffer for every read. At 1 MiB that is a new
// mapping each time, every page of which faults in again, and the external memory drives the garbage
// collector. `node --cpu-prof` on `dockhand server` while curl fetched 1 GiB twice: 550 ms of garbage
// collection and 300 ms in the promise read path. With the two buffers, per GiB sent to curl on loopback:
// the server's CPU 0.62-0.67 s instead of 1.37-1.45 s, minor page faults 570-1,020 instead of 8,200-14,400,
// and curl (writing to /dev/null) done in 0.53-0.55 s instead of 1.10-1.14 s. The server's CPU is CPU the
// stations on the same machine do not get (docs/performance.md).
//
// One buffer is filled from the file while the other is on its way to the socket; a buffer is filled again
// only once the socket has taken all of it (the write's callback), so at most 2 MiB are in flight per
// download, the socket's backpressure paces the reads, and nothing is allocated per read.
import { read } from 'node:fs';
import type { ServerResponse } from 'node:http';

const BUFFER_BYTES = 1024 * 1024;
// Buffers kept for the next download once one ends; more would only hold memory no download uses.
const IDLE_BUFFERS_KEPT = 8;
const idle: Buffer[] = [];

/** Buffers allocated in this process (tests: downloads one after another reuse the same two). */
export const fileSenderStats = { buffersAllocated: 0 };

function take(): Buffer {
  const reused = idle.pop();
  if (reused) return reused;
  fileSenderStats.buffersAllocated += 1;
  return Buffer.allocUnsafeSlow(BUFFER_BYTES);
}

function give(buffer: Buffer): void {
  if (idle.length < IDLE_BUFFERS_KEPT) idle.push(buffer);
}

function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, length, position, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead)));
  });
}

/**
 * Writes bytes `start`..`end` (inclusive) of the file open as `fd` to `res` and ends it. The headers must
 * already be set. Resolves when the body is handed to the socket, or when the device went away (normal for
 * checkpoint restart: nothing to report); a file that ends early (changed behind the catalog's back) or
 * fails to read cuts the connection, so the device sees a short body rather than a complete wrong one.
 */
export async function sendFileRange(fd: number, res: ServerResponse, start: number, end: number): Promise<void> {
  const buffers = [take(), take()];
  // Per buffer, its write still on its way to the socket: true once the socket took all of it, false when the
  // write failed. A write's callback is not always called: Node drops it for a socket destroyed a moment
  // before (its 'close' not yet emitted), and keeps it with the queued bytes of a response that waits behind
  // a pipelined one or of a connection already ended. So every wait also ends when the connection closes;
  // by then Node has cancelled what the socket still held, and the buffers are free again.
  const inFlight: (Promise<boolean> | undefined)[] = [undefined, undefined];
  // a response queued behind a pipelined one has no socket yet; its request's socket is the connection
  const connection = res.req?.socket ?? res.socket;
  let onClose = (): void => undefined;
  const closed = new Promise<false>((resolve) => {
    onClose = () => resolve(false);
  });
  if (!connection || connection.destroyed) onClose();
  else connection.once('close', onClose);
  const written = (i: number): Promise<boolean> => Promise.race([inFlight[i] ?? true, closed]);
  try {
    for (let at = start, i = 0; at <= end; i ^= 1) {
      if (!(await written(i)) || res.destroyed) return;
      const buffer = buffers[i]!;
      const bytesRead = await readAt(fd, buffer, Math.min(buffer.length, end + 1 - at), at);
      if (bytesRead === 0) throw new Error(`the package file ended at byte ${at}, before the ${end + 1} bytes its headers promised`);
      at += bytesRead;
      inFlight[i] = new Promise((resolve) => {
        res.write(buffer.subarray(0, bytesRead), (err) => resolve(!err));
      });
    }
    if ((await written(0)) && (await written(1)) && !res.destroyed) res.end();
  } catch {
    res.destroy();
  } finally {
    connection?.off('close', onClose); // a kept-alive connection serves many downloads
    // a buffer goes back for reuse once the socket is done with it: its write settled, or the connection closed
    buffers.forEach((buffer, i) => void written(i).then(() => give(buffer)));
  }
}
