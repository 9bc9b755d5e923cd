// Package downloads: GET/HEAD of DIR/packages/<ID>/<file> with a strong ETag and single byte ranges,
// which is what checkpoint restart needs (spec §14, A3): `Range: bytes=N-` resumes, `If-Range` with a
// stale ETag gets the whole new file. Files are sent from an open descriptor through two reused buffers
// (file-sender.ts), never read whole.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { open, type FileHandle } from 'node:fs/promises';
import type { Db } from './db.js';
import { etagOf, getPackage, restamp, type CatalogPackage } from './catalog.js';
import { packageFilePath, stampOf } from './package-store.js';
import { sendText } from './http-io.js';
import { sendFileRange } from './file-sender.js';

export type RangeDecision = 'whole' | 'unsatisfiable' | { start: number; end: number };

/**
 * One `Range` header against a file of `size` bytes. Only a single `bytes=` range is honoured; a
 * header we do not understand (several ranges, another unit, bad syntax) is ignored, which HTTP allows,
 * and the whole file is sent.
 */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return 'whole';
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return 'whole';
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return 'whole';
  if (first === '') {
    // suffix range: the last N bytes
    const n = Number(last);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return 'whole'; // syntactically invalid: ignore the header
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/** If-Range holds when it names our current (strong) ETag or exactly our Last-Modified date. */
export function ifRangeHolds(ifRange: string | undefined, etag: string, lastModified: string): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('W/')) return false; // weak validators never match for ranges
  if (v.startsWith('"')) return v === etag;
  return v === lastModified;
}

function ifNoneMatchHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

// One content check per file and stamp, however many downloads ask at once.
const checking = new Map<string, Promise<boolean>>();

/**
 * The file on disk has another stamp than the row: the data folder was copied or restored (new times),
 * or an admin is replacing the package this very moment. The bytes decide: when they hash to the row's
 * SHA-256 they are the package, and the row takes the new stamp (unless an admin changed it meanwhile),
 * so only the first download after a restore pays for the read.
 */
async function sameContent(db: Db, pkg: CatalogPackage, handle: FileHandle, stamp: string): Promise<boolean> {
  const key = `${pkg.id}\0${pkg.sha256}\0${stamp}`;
  let check = checking.get(key);
  if (!check) {
    check = (async () => {
      const { size } = await handle.stat();
      if (size !== pkg.size || (await sha256Of(handle, size)) !== pkg.sha256) return false;
      restamp(db, pkg.id, pkg.fileStamp, stamp);
      return true;
    })().finally(() => checking.delete(key));
    checking.set(key, check);
  }
  return check;
}

async function sha256Of(handle: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (let at = 0; at < size;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
  return hash.digest('hex');
}

export async function servePackageFile(req: IncomingMessage, res: ServerResponse, db: Db, dataDir: string,
  id: string, fileName: string): Promise<void> {
  const pkg = getPackage(db, id);
  if (!pkg || pkg.fileName !== fileName) {
    sendText(res, 404, 'no such package file');
    return;
  }
  let handle: FileHandle;
  try {
    handle = await open(packageFilePath(dataDir, pkg.id, pkg.fileName), 'r');
  } catch {
    sendText(res, 503, 'the package file is being replaced; try again', { 'Retry-After': '1' });
    return;
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (stampOf(st) !== pkg.fileStamp && !(await sameContent(db, pkg, handle, stampOf(st)))) {
      // an admin is replacing the package right now (or changed the file behind the catalog's back):
      // these bytes are not the ones the ETag names
      sendText(res, 503, 'the package file on disk is not the one the catalog describes (being replaced, or changed ' +
        "outside 'dockhand server package add'); try again", { 'Retry-After': '1' });
      return;
    }
    const size = Number(st.size);
    const etag = etagOf(pkg);
    const lastModified = new Date(Number(st.mtimeMs)).toUTCString();
    const common = { 'Accept-Ranges': 'bytes', ETag: etag, 'Last-Modified': lastModified };
    if (ifNoneMatchHolds(req.headers['if-none-match'], etag)) {
      res.writeHead(304, common);
      res.end();
      return;
    }
    const ifRange = req.headers['if-range'];
    const range = ifRangeHolds(Array.isArray(ifRange) ? ifRange[0] : ifRange, etag, lastModified) ? decideRange(req.headers.range, size) : 'whole';
    if (range === 'unsatisfiable') {
      sendText(res, 416, `range not satisfiable: the file has ${size} bytes`, { ...common, 'Content-Range': `bytes */${size}` });
      return;
    }
    const [start, end] = range === 'whole' ? [0, size - 1] : [range.start, range.end];
    const length = end - start + 1;
    res.writeHead(range === 'whole' ? 200 : 206, {
      ...common,
      'Content-Type': 'application/octet-stream',
      'Content-Length': length,
      ...(range === 'whole' ? {} : { 'Content-Range': `bytes ${start}-${end}/${size}` }),
    });
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    await sendFileRange(handle.fd, res, start, end);
  } finally {
    await handle.close();
  }
}
