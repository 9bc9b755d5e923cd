// File collection reports (spec §13): the POST body is the raw file, named only by the device's
// X-Device-FullyQualifiedFilename. That header is hostile input (`..\..\`, absolute paths, drive
// letters, NUL): it is recorded in the log but never decides where we write. The stored name is our
// own: a unique prefix plus the last path segment reduced to harmless characters.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, consumeBody, declaredLength } from './http-io.js';

export const COLLECTED_DIR = 'collected';

/** Keep letters, digits, dot, dash and underscore; no leading dots; bounded length. */
function harmless(text: string, max: number): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._]+/, '').slice(0, max);
}

/** A folder name for a device ID; IDs that had to be changed get a hash so two devices never share one. */
export function deviceFolderName(deviceId: string): string {
  const safe = harmless(deviceId, 64);
  if (safe === deviceId && safe !== '') return safe;
  const tag = createHash('sha256').update(deviceId).digest('hex').slice(0, 12);
  return safe === '' ? `device-${tag}` : `${safe}-${tag}`;
}

/** The last segment of a device path (either slash), made harmless; `file` when nothing usable is left. */
export function storedFileName(devicePath: string): string {
  const last = devicePath.split(/[\\/]/).filter((s) => s !== '').pop() ?? '';
  const safe = harmless(last, 80);
  return safe === '' ? 'file' : safe;
}

export interface CollectedFile {
  size: number;
  sha256: string;
  /** Relative to the data folder, '/'-separated. */
  storedAs: string;
}

/** Stream the request body into DIR/collected/<device>/<unique>-<name>; nothing is left behind on failure. */
export async function storeCollectedFile(req: IncomingMessage, dataDir: string, deviceId: string, devicePath: string,
  limit: number): Promise<CollectedFile> {
  const root = path.resolve(dataDir, COLLECTED_DIR);
  const dir = path.join(root, deviceFolderName(deviceId));
  const unique = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomBytes(4).toString('hex')}`;
  const final = path.join(dir, `${unique}-${storedFileName(devicePath)}`);
  // belt and braces: whatever the naming above does, the file stays inside DIR/collected
  if (path.dirname(path.dirname(final)) !== root) throw new Error('collected file path escaped its folder');
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) {
    req.resume();
    throw new BodyTooLargeError(limit);
  }
  await mkdir(dir, { recursive: true });
  const partial = `${final}.part`;
  const out = createWriteStream(partial, { flags: 'wx' });
  out.on('error', () => undefined); // surfaced through `errored` and finished() below, never as a crash
  const hash = createHash('sha256');
  try {
    const size = await consumeBody(req, limit, async (chunk) => {
      hash.update(chunk);
      if (out.errored) throw out.errored;
      if (!out.write(chunk)) await once(out, 'drain');
    });
    out.end();
    await finished(out);
    await rename(partial, final);
    return { size, sha256: hash.digest('hex'), storedAs: path.relative(dataDir, final).split(path.sep).join('/') };
  } catch (err) {
    // wait for the descriptor to close (the open may still be in flight) so the removal is final
    if (!out.closed) await new Promise<void>((resolve) => { out.destroy().once('close', () => resolve()); });
    await rm(partial, { force: true });
    throw err;
  }
}
