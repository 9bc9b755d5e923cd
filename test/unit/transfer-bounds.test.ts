// The bounds of a package download (issue 7, README "Bounds"): a server that trickles bytes is given up as
// a network fault that keeps the checkpoint (curl's --speed-limit/--speed-time); a package without a
// declared size stops at the cap, naming the package, the server and the cap; free space is checked before
// and during the download. Real HTTP servers on 127.0.0.1; where a disk must fill up mid-download, a
// free-space double (named `shrinkingDisk`) stands in for it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { downloadResumable, type TransferCheckpoint } from '../../electron/engine/transfer/download.js';
import { RateLimiter } from '../../electron/engine/transfer/rate-limiter.js';
import { DockhandError } from '../../shared/model/errors.js';
import { tempDir } from '../helpers/tmp.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function server(t: TestContext, handler: Handler): Promise<{ url: string; ranges: string[] }> {
  const ranges: string[] = [];
  const srv = http.createServer((req, res) => {
    ranges.push(req.headers.range ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/p/1/app.bin`, ranges };
}

/** Serves `body`, honouring `Range: bytes=N-`. */
const serve = (body: Buffer, chunked = false): Handler => (req, res) => {
  const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
  const headers: Record<string, string | number> = { etag: '"v1"' };
  if (!chunked) headers['content-length'] = body.length - start;
  if (start > 0) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  res.writeHead(start > 0 ? 206 : 200, headers);
  res.end(body.subarray(start));
};

async function fails(p: Promise<unknown>, code: string): Promise<DockhandError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DockhandError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

test('a server trickling below the speed floor is given up as a network fault; the bytes are kept and resumed', { timeout: 20_000 }, async (t) => {
  const body = randomBytes(200_000);
  let trickling = true;
  const srv = await server(t, (req, res) => {
    if (!trickling) return serve(body)(req, res);
    res.writeHead(200, { 'content-length': body.length, etag: '"v1"' });
    let at = 0;
    const timer = setInterval(() => {
      res.write(body.subarray(at, at + 20)); // 1 KB/s: never silent long enough for the stall timer
      at += 20;
    }, 20);
    res.on('close', () => clearInterval(timer));
  });
  const partPath = path.join(tempDir(t), 'app.bin.part');
  let checkpoint: TransferCheckpoint | null = null;
  const err = await fails(downloadResumable({
    url: srv.url, partPath, checkpoint, expectedSize: body.length, lowSpeed: { bytesPerSecond: 20_000, windowMs: 300 },
    saveCheckpoint: (cp) => (checkpoint = cp),
  }), 'NETWORK');
  assert.equal(err.transient, true);
  assert.match(err.message, /sent only .* in 300 ms .*below the 20 KB\/s the station waits for; .* kept and the download will resume from there/);
  const kept = statSync(partPath).size;
  assert.ok(kept > 0 && kept === checkpoint!.bytesDone, `the checkpoint counts the ${kept} bytes kept`);

  trickling = false;
  const done = await downloadResumable({ url: srv.url, partPath, checkpoint, expectedSize: body.length, sha256: sha(body), saveCheckpoint: () => undefined });
  assert.equal(done.sha256, sha(body));
  assert.equal(done.resumedFrom, kept, 'resumed from the kept bytes');
  assert.equal(srv.ranges.at(-1), `bytes=${kept}-`);
});

test('the station\'s own rate limit is not mistaken for a slow server', async (t) => {
  const body = randomBytes(100_000);
  const srv = await server(t, serve(body));
  const r = await downloadResumable({
    url: srv.url, partPath: path.join(tempDir(t), 'a.part'), checkpoint: null, sha256: sha(body),
    limiter: new RateLimiter(80_000), lowSpeed: { bytesPerSecond: 200_000, windowMs: 1000 }, saveCheckpoint: () => undefined,
  });
  assert.equal(r.bytes, body.length);
});

test('a package without a declared size stops at the cap: announced over it, nothing is fetched; sent over it, the file is discarded', async (t) => {
  const body = randomBytes(3000);
  const dir = tempDir(t);
  const label = "the package 'Scanner app' (9A43)";
  for (const chunked of [false, true]) {
    const srv = await server(t, serve(body, chunked));
    const partPath = path.join(dir, `cap-${chunked}.part`);
    let checkpoint: TransferCheckpoint | null = null;
    const err = await fails(downloadResumable({ url: srv.url, partPath, checkpoint: null, maxUndeclaredBytes: 2000, label, saveCheckpoint: (cp) => (checkpoint = cp) }), 'SIZE_MISMATCH');
    const host = new URL(srv.url).host;
    assert.equal(err.message, `${label} from ${host} has no declared size (PackageSize) and ${chunked ? 'sent more than 2 KB' : 'announces 3 KB'}, ` +
      'over the 2 KB cap for such downloads (maxUndeclaredDownloadBytes in station.json); the partial file was discarded');
    assert.equal(existsSync(partPath) ? statSync(partPath).size : 0, 0, 'nothing is kept');
    assert.equal(checkpoint === null ? 0 : (checkpoint as TransferCheckpoint).bytesDone, 0, 'the checkpoint is discarded');
  }
  const small = await server(t, serve(body.subarray(0, 1500), true));
  const ok = await downloadResumable({ url: small.url, partPath: path.join(dir, 'small.part'), checkpoint: null, maxUndeclaredBytes: 2000, saveCheckpoint: () => undefined });
  assert.equal(ok.bytes, 1500, 'under the cap it downloads');
});

test('a declared size the disk cannot hold fails before the first request, as a transient "disk full"', async (t) => {
  const srv = await server(t, serve(Buffer.alloc(10)));
  const dir = tempDir(t);
  const err = await fails(downloadResumable({ url: srv.url, partPath: path.join(dir, 'huge.part'), checkpoint: null, expectedSize: 2 ** 52, saveCheckpoint: () => undefined }), 'STORAGE');
  assert.equal(err.transient, true);
  assert.match(err.message, new RegExp(`^disk full in ${dir.replace(/[.]/g, '\\.')}: the package at .* needs 4504 TB more, .* free; nothing was downloaded yet`));
  assert.deepEqual(srv.ranges, [], 'the server was not asked');
});

test('a disk that fills up during the download stops it, keeping the bytes; with room again it resumes', async (t) => {
  const body = randomBytes(12 * 1024 * 1024);
  const srv = await server(t, serve(body));
  const partPath = path.join(tempDir(t), 'big.part');
  // A double for a disk another program fills: plenty of room until the part file holds 8 MiB, then 1 MiB.
  const shrinkingDisk = async () => ((existsSync(partPath) ? statSync(partPath).size : 0) >= 8 * 1024 * 1024 ? 1024 * 1024 : 1024 ** 4);
  let checkpoint: TransferCheckpoint | null = null;
  const err = await fails(downloadResumable({
    url: srv.url, partPath, checkpoint, expectedSize: body.length, freeSpace: shrinkingDisk, saveCheckpoint: (cp) => (checkpoint = cp),
  }), 'STORAGE');
  assert.equal(err.transient, true);
  assert.match(err.message, /^disk full in .*: the package at .* needs [\d.]+ MB more, 1 MB free; [\d.]+ MB are kept/);
  const kept = statSync(partPath).size;
  assert.ok(kept >= 8 * 1024 * 1024 && kept === checkpoint!.bytesDone, `kept ${kept}, checkpoint ${checkpoint!.bytesDone}`);
  const done = await downloadResumable({ url: srv.url, partPath, checkpoint, expectedSize: body.length, sha256: sha(body), saveCheckpoint: () => undefined });
  assert.equal(done.resumedFrom, kept);
  assert.equal(sha(readFileSync(partPath)), sha(body));
  assert.equal(srv.ranges.at(-1), `bytes=${kept}-`);
});
