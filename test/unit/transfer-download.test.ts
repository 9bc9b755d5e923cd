// downloadResumable against a real HTTP server on 127.0.0.1: a small Range server written here (the
// reference server in server/ can replace it later), plus the fault proxy for cuts and corruption.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { downloadResumable, type DownloadOptions, type DownloadResult, type TransferCheckpoint } from '../../electron/engine/transfer/download.js';
import { RateLimiter } from '../../electron/engine/transfer/rate-limiter.js';
import { openExchange } from '../../electron/engine/transfer/http-exchange.js';
import { pumpBody } from '../../electron/engine/transfer/body-pump.js';
import { PartFile } from '../../electron/engine/transfer/part-file.js';
import { hashThreadStats, OFF_THREAD_MIN_BYTES } from '../../electron/engine/transfer/package-hash.js';
import { DockhandError, type ErrorCode } from '../../shared/model/errors.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { selfSignedCertificate } from '../helpers/certificate.js';

const KiB = 1024;
const SIZE = 700 * KiB;

// ---- a Range server ---------------------------------------------------------------------------

interface Pkg { body: Buffer; etag: string | null; lastModified: string | null }
interface Served { path: string; headers: IncomingHttpHeaders; status: number; bodyBytes: number }
type Directive =
  | { kind: 'normal'; cutAfter?: number; stallAfter?: number; ignoreRange?: boolean; shiftStart?: number; chunked?: boolean; extraBody?: number; paceMs?: number }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'redirect'; location: string }
  | { kind: 'raw'; bytes: (req: IncomingMessage) => Buffer }
  | { kind: 'silent' };

class RangeServer {
  readonly files = new Map<string, Pkg>();
  readonly served: Served[] = [];
  directives: Directive[] = [];
  private constructor(private readonly server: http.Server, readonly port: number, private readonly scheme: 'http' | 'https') {}

  /** With `tls`, the server speaks HTTPS with that key and certificate. */
  static async start(t: TestContext, tls?: { key: Buffer; cert: Buffer }): Promise<RangeServer> {
    let self: RangeServer | null = null;
    const handler = (req: IncomingMessage, res: ServerResponse): void => void self?.handle(req, res);
    const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new RangeServer(server, (server.address() as net.AddressInfo).port, tls ? 'https' : 'http');
    const s = self;
    t.after(() => s.close());
    return self;
  }

  url(p: string): string {
    return `${this.scheme}://127.0.0.1:${this.port}${p}`;
  }

  put(p: string, body: Buffer, etag: string | null = `"${createHash('md5').update(body).digest('hex')}"`, lastModified: string | null = null): Buffer {
    this.files.set(p, { body, etag, lastModified });
    return body;
  }

  /** Body bytes this server wrote for each request, in order. */
  sent(): number[] {
    return this.served.map((s) => s.bodyBytes);
  }

  async openConnections(): Promise<number> {
    return new Promise((r, j) => this.server.getConnections((err, n) => (err ? j(err) : r(n))));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const d = this.directives.shift() ?? { kind: 'normal' };
    const rec: Served = { path: req.url ?? '', headers: req.headers, status: 0, bodyBytes: 0 };
    this.served.push(rec);
    if (d.kind === 'silent') return; // never answers; the client must give up
    if (d.kind === 'status') {
      rec.status = d.status;
      res.writeHead(d.status, d.headers).end();
      return;
    }
    if (d.kind === 'redirect') {
      rec.status = 302;
      res.writeHead(302, { location: d.location }).end();
      return;
    }
    if (d.kind === 'raw') {
      const bytes = d.bytes(req);
      rec.status = Number(bytes.subarray(9, 12).toString());
      req.socket.end(bytes);
      return;
    }
    const pkg = this.files.get(rec.path);
    if (!pkg) {
      rec.status = 404;
      res.writeHead(404).end();
      return;
    }
    const size = pkg.body.length;
    const validators: Record<string, string> = { 'accept-ranges': 'bytes' };
    if (pkg.etag) validators['etag'] = pkg.etag;
    if (pkg.lastModified) validators['last-modified'] = pkg.lastModified;
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (m && !d.ignoreRange && (ifRange === undefined || ifRange === (pkg.etag ?? pkg.lastModified))) {
      start = Number(m[1]);
      if (start >= size) {
        rec.status = 416;
        res.writeHead(416, { ...validators, 'content-range': `bytes */${size}` }).end();
        return;
      }
    }
    rec.status = m && start > 0 ? 206 : 200;
    const headers: Record<string, string | number> = { ...validators };
    if (rec.status === 206) headers['content-range'] = `bytes ${start + (d.shiftStart ?? 0)}-${size - 1}/${size}`;
    if (!d.chunked) headers['content-length'] = size - start;
    res.writeHead(rec.status, headers).flushHeaders(); // headers go out even when no body byte follows
    let body = pkg.body.subarray(start);
    if (d.extraBody) body = Buffer.concat([body, randomBytes(d.extraBody)]);
    const upTo = d.cutAfter ?? d.stallAfter ?? body.length;
    for (let at = 0; at < upTo && !res.destroyed; at += 64 * KiB) {
      const piece = body.subarray(at, Math.min(upTo, at + 64 * KiB));
      rec.bodyBytes += piece.length;
      if (!res.write(piece)) {
        await new Promise<void>((r) => {
          const go = (): void => {
            res.off('drain', go);
            res.off('close', go);
            r();
          };
          res.once('drain', go);
          res.once('close', go);
        });
      }
      if (d.paceMs) await new Promise((r) => setTimeout(r, d.paceMs)); // a slow server: one piece per paceMs
    }
    if (d.cutAfter !== undefined) res.socket?.end(); // FIN after the bytes written: a cut connection
    else if (d.stallAfter === undefined) res.end();
  }
}

// ---- helpers ----------------------------------------------------------------------------------

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dockhand-transfer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Run { saves: TransferCheckpoint[]; fileAtSave: number[]; progress: [number, number | null][] }

/** Calls downloadResumable, recording every checkpoint (with the file length at that moment). */
async function download(o: Omit<DownloadOptions, 'saveCheckpoint'> & { saveCheckpoint?: DownloadOptions['saveCheckpoint'] }, run: Run = { saves: [], fileAtSave: [], progress: [] }): Promise<DownloadResult & { run: Run }> {
  const result = await downloadResumable({
    saveCheckpoint: (cp) => {
      run.saves.push({ ...cp });
      run.fileAtSave.push(existsSync(o.partPath) ? statSync(o.partPath).size : -1);
    },
    onProgress: (done, total) => run.progress.push([done, total]),
    ...o,
  });
  return { ...result, run };
}

/** Runs a download expected to fail; returns the error and the checkpoints it saved. */
async function failing(o: Omit<DownloadOptions, 'saveCheckpoint'>, code: ErrorCode): Promise<{ err: DockhandError; run: Run }> {
  const run: Run = { saves: [], fileAtSave: [], progress: [] };
  try {
    await download(o, run);
  } catch (err) {
    assert.ok(err instanceof DockhandError, `expected a DockhandError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return { err, run };
  }
  assert.fail(`the download should have failed with ${code}`);
}

const last = (run: Run): TransferCheckpoint => run.saves[run.saves.length - 1] as TransferCheckpoint;
const fileSize = (p: string): number => (existsSync(p) ? statSync(p).size : -1);

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
let timersBefore = 0;

/** Every socket the download opened must be closed again, and no timer of it left running (polled). */
async function noOpenConnections(srv: RangeServer): Promise<void> {
  const deadline = Date.now() + 3000;
  while ((await srv.openConnections()) > 0 || timers() > timersBefore) {
    if (Date.now() > deadline) assert.fail(`the download left ${await srv.openConnections()} connection(s) and ${timers() - timersBefore} timer(s) behind`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function fixture(t: TestContext, size = SIZE): Promise<{ srv: RangeServer; body: Buffer; url: string; partPath: string; dir: string }> {
  timersBefore = timers();
  const srv = await RangeServer.start(t);
  const body = srv.put('/pkg/setup.cab', randomBytes(size));
  const dir = await tempDir(t);
  return { srv, body, url: srv.url('/pkg/setup.cab'), partPath: path.join(dir, 'cache', 'setup.cab.part'), dir };
}


// ---- whole downloads and checkpoints ----------------------------------------------------------

test('downloads a whole package: size and SHA-256 verified, checkpoint before the first byte, after writes and at the end', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  // A checkpoint after every write (bytes: 1), so each one can be checked against the file.
  const r = await download({ url, partPath, checkpoint: null, expectedSize: SIZE, sha256: sha(body), headers: { 'X-Device-UUID': 'dev-1' }, checkpointEvery: { bytes: 1 } });
  assert.equal(r.bytes, SIZE);
  assert.equal(r.sha256, sha(body));
  assert.equal(r.resumedFrom, 0);
  assert.equal(r.restartedFromZero, false);
  assert.equal(r.validator, srv.files.get('/pkg/setup.cab')?.etag);
  assert.deepEqual(await readFile(partPath), body);
  assert.equal(srv.served.length, 1);
  assert.equal(srv.served[0]?.headers.range, undefined, 'nothing on disk: no Range header');
  assert.equal(srv.served[0]?.headers['x-device-uuid'], 'dev-1', 'extra headers reach the server');
  const { saves, fileAtSave, progress } = r.run;
  assert.equal(saves[0]?.bytesDone, 0, 'the first checkpoint comes before any byte');
  assert.equal(fileAtSave[0], 0, 'and the file is still empty then');
  for (let i = 1; i < saves.length; i++) {
    assert.ok((saves[i] as TransferCheckpoint).bytesDone <= (fileAtSave[i] as number), 'a checkpoint never counts bytes not yet in the file');
  }
  assert.deepEqual(last(r.run), { url, validator: r.validator, bytesDone: SIZE, expectedSize: SIZE });
  assert.deepEqual(progress[progress.length - 1], [SIZE, SIZE]);
  await noOpenConnections(srv);
});

test('the body is written in blocks of 256 KiB, not per socket read; a progress call per block', async (t) => {
  const size = 4 * 1024 * KiB;
  const { srv, body, url, partPath } = await fixture(t, size);
  // 64 KiB every 2 ms: the disk keeps up with every piece, so only the batching makes writes large.
  srv.directives = [{ kind: 'normal', paceMs: 2 }];
  const r = await download({ url, partPath, checkpoint: null, expectedSize: size, sha256: sha(body), checkpointEvery: { bytes: 1 } });
  assert.equal(r.sha256, sha(body));
  const writes = r.run.saves.slice(1, -1); // between the one before the first byte and the one at the end
  assert.ok(writes.length >= 1 && writes.length <= 20, `${writes.length} writes for 4 MiB (a write per 64 KiB piece would be 64)`);
  assert.ok(r.run.progress.length <= writes.length + 1, `${r.run.progress.length} progress calls for ${writes.length} writes`);
  await noOpenConnections(srv);
});

test('a slow body still reaches the disk within a fraction of a second, and checkpoints follow the clock', async (t) => {
  const { srv, body, url, partPath } = await fixture(t, 512 * KiB);
  srv.directives = [{ kind: 'normal', paceMs: 80 }]; // 64 KiB every 80 ms: 8 pieces over about 0.6 s
  const r = await download({ url, partPath, checkpoint: null, expectedSize: 512 * KiB, sha256: sha(body), checkpointEvery: { bytes: 1024 * 1024 * KiB, ms: 100 } });
  assert.equal(r.sha256, sha(body));
  const during = r.run.saves.filter((cp) => cp.bytesDone > 0 && cp.bytesDone < 512 * KiB);
  assert.ok(during.length >= 1, 'checkpoints while the body was arriving, by time alone');
  r.run.saves.forEach((cp, i) => assert.ok(cp.bytesDone <= r.run.fileAtSave[i]!, 'never ahead of the file'));
  const midway = r.run.progress.filter(([done]) => done > 0 && done < 512 * KiB);
  assert.ok(midway.length >= 1, 'bytes were written (and reported) before the body ended, not held to the end');
  await noOpenConnections(srv);
});

for (const [label, cutAt] of [['byte 0', 0], ['byte 1', 1], ['the middle', SIZE / 2], ['the last byte but one', SIZE - 1]] as const) {
  test(`resumes from the interrupted byte after the connection drops at ${label}`, async (t) => {
    const { srv, body, url, partPath } = await fixture(t);
    srv.directives = [{ kind: 'normal', cutAfter: cutAt }];
    const { err, run } = await failing({ url, partPath, checkpoint: null, expectedSize: SIZE, sha256: sha(body) }, 'NETWORK');
    assert.equal(err.transient, true);
    assert.match(err.message, new RegExp(`the connection to 127\\.0\\.0\\.1:${srv.port} dropped after`));
    assert.match(err.message, cutAt === 0 ? /nothing was downloaded yet/ : /are kept and the download will resume from there|is kept and the download will resume/);
    assert.equal(fileSize(partPath), cutAt, 'every byte the server sent is on disk');
    assert.equal(last(run).bytesDone, cutAt, 'and the checkpoint says so');

    const r = await download({ url, partPath, checkpoint: last(run), expectedSize: SIZE, sha256: sha(body) });
    assert.equal(r.resumedFrom, cutAt);
    assert.equal(r.restartedFromZero, false);
    assert.equal(r.sha256, sha(body), 'the hash covers the kept prefix and the new bytes');
    assert.deepEqual(await readFile(partPath), body);
    assert.equal(srv.served[1]?.headers.range, cutAt === 0 ? undefined : `bytes=${cutAt}-`);
    if (cutAt > 0) assert.equal(srv.served[1]?.headers['if-range'], srv.files.get('/pkg/setup.cab')?.etag);
    assert.deepEqual(srv.sent(), [cutAt, SIZE - cutAt], 'the server sent each byte exactly once');
    await noOpenConnections(srv);
  });
}

test('the partial file\'s length wins over the checkpoint\'s bytesDone, whichever is larger', async (t) => {
  for (const claimed of [100 * KiB, 500 * KiB]) {
    const { srv, body, url, partPath } = await fixture(t);
    await mkdir(path.dirname(partPath), { recursive: true });
    await writeFile(partPath, body.subarray(0, 300 * KiB));
    const etag = srv.files.get('/pkg/setup.cab')?.etag ?? null;
    const r = await download({ url, partPath, checkpoint: { url, validator: etag, bytesDone: claimed, expectedSize: SIZE }, expectedSize: SIZE, sha256: sha(body) });
    assert.equal(r.resumedFrom, 300 * KiB, `checkpoint claimed ${claimed}`);
    assert.equal(srv.served[0]?.headers.range, `bytes=${300 * KiB}-`);
    assert.deepEqual(srv.sent(), [SIZE - 300 * KiB]);
    assert.deepEqual(await readFile(partPath), body);
  }
});

test('a package that changed on the server (If-Range no longer matches) is downloaded again from zero', async (t) => {
  const { srv, url, partPath } = await fixture(t);
  srv.directives = [{ kind: 'normal', cutAfter: 200 * KiB }];
  const { run } = await failing({ url, partPath, checkpoint: null }, 'NETWORK');
  const v2 = srv.put('/pkg/setup.cab', randomBytes(SIZE), '"v2"');
  const r = await download({ url, partPath, checkpoint: last(run), sha256: sha(v2) });
  assert.equal(srv.served[1]?.headers['if-range'], last(run).validator, 'the old validator was sent');
  assert.equal(srv.served[1]?.status, 200);
  assert.equal(r.restartedFromZero, true);
  assert.equal(r.resumedFrom, 0);
  assert.equal(r.validator, '"v2"');
  assert.deepEqual(await readFile(partPath), v2);
  assert.equal(r.run.saves[0]?.bytesDone, 0, 'the checkpoint is reset before new bytes are written');
  assert.equal(r.run.fileAtSave[0], 0, 'after the old bytes were removed');
  assert.equal(r.run.saves[0]?.validator, '"v2"');
});

test('Last-Modified is the validator when the server sends no ETag', async (t) => {
  const { srv, partPath } = await fixture(t);
  const lastModified = 'Tue, 03 Nov 2026 10:00:00 GMT';
  const body = srv.put('/lm.bin', randomBytes(SIZE), null, lastModified);
  const url = srv.url('/lm.bin');
  srv.directives = [{ kind: 'normal', cutAfter: 1000 }];
  const { run } = await failing({ url, partPath, checkpoint: null }, 'NETWORK');
  assert.equal(last(run).validator, lastModified);
  const r = await download({ url, partPath, checkpoint: last(run), sha256: sha(body) });
  assert.equal(srv.served[1]?.headers['if-range'], lastModified);
  assert.equal(srv.served[1]?.status, 206);
  assert.equal(r.resumedFrom, 1000);
});

test('a server that ignores Range and answers 200 makes the download start again from zero', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  srv.directives = [{ kind: 'normal', cutAfter: 300 * KiB }, { kind: 'normal', ignoreRange: true }];
  const { run } = await failing({ url, partPath, checkpoint: null }, 'NETWORK');
  const r = await download({ url, partPath, checkpoint: last(run), expectedSize: SIZE, sha256: sha(body) });
  assert.equal(srv.served[1]?.headers.range, `bytes=${300 * KiB}-`);
  assert.equal(r.restartedFromZero, true);
  assert.deepEqual(srv.sent(), [300 * KiB, SIZE]);
  assert.deepEqual(await readFile(partPath), body, 'the old bytes were truncated, not kept in front');
});

test('a changed location URL restarts from zero ("restart the download from the new server")', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  srv.put('/mirror/setup.cab', body, srv.files.get('/pkg/setup.cab')?.etag);
  srv.directives = [{ kind: 'normal', cutAfter: 300 * KiB }];
  const { run } = await failing({ url, partPath, checkpoint: null }, 'NETWORK');
  const r = await download({ url: srv.url('/mirror/setup.cab'), partPath, checkpoint: last(run), sha256: sha(body) });
  assert.equal(srv.served[1]?.headers.range, undefined, 'no Range: the bytes from the old server are not reused');
  assert.equal(r.restartedFromZero, true);
  assert.deepEqual(srv.sent(), [300 * KiB, SIZE]);
  assert.equal(last(r.run).url, srv.url('/mirror/setup.cab'));
  assert.deepEqual(await readFile(partPath), body);
});

test('a partial file without a (readable) checkpoint is downloaded again from zero', async (t) => {
  for (const checkpoint of [null, { url: 42, validator: 'x', bytesDone: 'lots' } as unknown as TransferCheckpoint]) {
    const { srv, body, url, partPath } = await fixture(t);
    await mkdir(path.dirname(partPath), { recursive: true });
    await writeFile(partPath, body.subarray(0, 1234));
    const r = await download({ url, partPath, checkpoint, sha256: sha(body) });
    assert.equal(srv.served[0]?.headers.range, undefined);
    assert.equal(r.restartedFromZero, true);
    assert.deepEqual(await readFile(partPath), body);
  }
});

test('a partial file longer than PackageSize, or a checkpoint for another package size, restarts from zero', async (t) => {
  for (const [onDisk, cpSize] of [[SIZE + 10, SIZE], [1000, 5000]] as const) {
    const { srv, body, url, partPath } = await fixture(t);
    await mkdir(path.dirname(partPath), { recursive: true });
    await writeFile(partPath, Buffer.concat([body, body]).subarray(0, onDisk));
    const etag = srv.files.get('/pkg/setup.cab')?.etag ?? null;
    const r = await download({ url, partPath, checkpoint: { url, validator: etag, bytesDone: onDisk, expectedSize: cpSize }, expectedSize: SIZE, sha256: sha(body) });
    assert.equal(srv.served[0]?.headers.range, undefined, `${onDisk} bytes on disk, checkpoint for ${cpSize}`);
    assert.equal(r.restartedFromZero, true);
    assert.deepEqual(await readFile(partPath), body);
  }
});

test('a 206 that does not start at the byte asked for is refused and the next attempt restarts from zero', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  srv.directives = [{ kind: 'normal', cutAfter: 100 * KiB }, { kind: 'normal', shiftStart: 10 }];
  const first = await failing({ url, partPath, checkpoint: null }, 'NETWORK');
  const { err, run } = await failing({ url, partPath, checkpoint: last(first.run) }, 'HTTP_STATUS');
  assert.equal(err.transient, true);
  assert.match(err.message, new RegExp(`bytes ${100 * KiB + 10}-`));
  assert.match(err.message, new RegExp(`asked for bytes ${100 * KiB} to the end`));
  assert.match(err.message, /next attempt starts from the beginning/);
  assert.equal(fileSize(partPath), -1, 'the partial file is gone');
  assert.equal(last(run).bytesDone, 0);
  const r = await download({ url, partPath, checkpoint: last(run), sha256: sha(body) });
  assert.equal(srv.served[2]?.headers.range, undefined);
  assert.equal(r.bytes, SIZE);
  await noOpenConnections(srv);
});

// ---- 416 --------------------------------------------------------------------------------------

test('416 with the whole package already on disk completes without downloading a byte', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  await mkdir(path.dirname(partPath), { recursive: true });
  await writeFile(partPath, body);
  const etag = srv.files.get('/pkg/setup.cab')?.etag ?? null;
  const r = await download({ url, partPath, checkpoint: { url, validator: etag, bytesDone: SIZE - 5, expectedSize: SIZE }, expectedSize: SIZE, sha256: sha(body) });
  assert.equal(srv.served[0]?.status, 416);
  assert.deepEqual(srv.sent(), [0]);
  assert.deepEqual({ bytes: r.bytes, resumedFrom: r.resumedFrom, restartedFromZero: r.restartedFromZero, sha256: r.sha256 }, { bytes: SIZE, resumedFrom: SIZE, restartedFromZero: false, sha256: sha(body) });
  assert.equal(last(r.run).bytesDone, SIZE);
});

test('416 with a whole-sized file of the wrong content fails the hash check and deletes the file', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  await mkdir(path.dirname(partPath), { recursive: true });
  const damaged = Buffer.from(body);
  damaged[12345] = (damaged[12345] as number) ^ 1;
  await writeFile(partPath, damaged);
  const etag = srv.files.get('/pkg/setup.cab')?.etag ?? null;
  const { err, run } = await failing({ url, partPath, checkpoint: { url, validator: etag, bytesDone: SIZE, expectedSize: SIZE }, expectedSize: SIZE, sha256: sha(body) }, 'HASH_MISMATCH');
  assert.match(err.message, /downloads it again from the beginning/);
  assert.equal(fileSize(partPath), -1);
  assert.deepEqual(last(run), { url, validator: null, bytesDone: 0, expectedSize: SIZE });
});

test('416 for a partial file longer than the server\'s package restarts from zero in the same call', async (t) => {
  const { srv, url, partPath } = await fixture(t, 1000);
  const body = srv.files.get('/pkg/setup.cab')?.body as Buffer;
  await mkdir(path.dirname(partPath), { recursive: true });
  await writeFile(partPath, randomBytes(2000));
  const etag = srv.files.get('/pkg/setup.cab')?.etag ?? null;
  const r = await download({ url, partPath, checkpoint: { url, validator: etag, bytesDone: 2000, expectedSize: null } });
  assert.deepEqual(srv.served.map((s) => s.status), [416, 200]);
  assert.equal(srv.served[1]?.headers.range, undefined);
  assert.equal(r.restartedFromZero, true);
  assert.deepEqual(await readFile(partPath), body);
});

// ---- sizes and hashes -------------------------------------------------------------------------

const rawResponse = (head: string, body: Buffer): Buffer => Buffer.concat([Buffer.from(`${head.split('\n').join('\r\n')}\r\n\r\n`), body]);

test('a server sending more bytes than its Content-Length announces fails with SIZE_MISMATCH naming the number', async (t) => {
  const { srv, partPath } = await fixture(t);
  srv.directives = [{ kind: 'raw', bytes: () => rawResponse('HTTP/1.1 200 OK\nContent-Length: 1000\nETag: "lie"', randomBytes(1500)) }];
  const { err, run } = await failing({ url: srv.url('/lie'), partPath, checkpoint: null }, 'SIZE_MISMATCH');
  assert.match(err.message, /only 1000 bytes were announced/);
  assert.match(err.message, /next attempt starts from the beginning/);
  assert.equal(fileSize(partPath), -1, 'bytes from a lying server are not kept');
  assert.deepEqual(last(run), { url: srv.url('/lie'), validator: null, bytesDone: 0, expectedSize: 1000 });
  await noOpenConnections(srv);
});

test('a 206 longer than its Content-Range is stopped at the range end and fails with both numbers', async (t) => {
  const { srv, body, url, partPath } = await fixture(t, 4000);
  srv.directives = [
    { kind: 'normal', cutAfter: 1000 },
    { kind: 'raw', bytes: () => rawResponse(`HTTP/1.1 206 Partial Content\nContent-Range: bytes 1000-3999/4000\nContent-Length: 5000\nETag: ${srv.files.get('/pkg/setup.cab')?.etag}`, randomBytes(5000)) },
  ];
  const first = await failing({ url, partPath, checkpoint: null }, 'NETWORK');
  const { err } = await failing({ url, partPath, checkpoint: last(first.run), sha256: sha(body) }, 'SIZE_MISMATCH');
  assert.match(err.message, /sent at least \d+ bytes where only 3000 bytes were announced/);
  assert.equal(fileSize(partPath), -1);
  await noOpenConnections(srv);
});

test('a chunked body longer than PackageSize is stopped at PackageSize', async (t) => {
  const { srv, url, partPath } = await fixture(t, 3000);
  srv.directives = [{ kind: 'normal', chunked: true, extraBody: 500 * KiB }];
  const { err, run } = await failing({ url, partPath, checkpoint: null, expectedSize: 3000 }, 'SIZE_MISMATCH');
  assert.match(err.message, /sent at least \d+ bytes where only 3000 bytes were announced/);
  assert.equal(fileSize(partPath), -1);
  assert.equal(last(run).bytesDone, 0);
  assert.ok(srv.sent()[0] as number > 3000);
  await noOpenConnections(srv);
});

test('a body shorter than its Content-Length is a dropped connection and what arrived is kept', async (t) => {
  const { srv, partPath } = await fixture(t);
  srv.directives = [{ kind: 'raw', bytes: () => rawResponse('HTTP/1.1 200 OK\nContent-Length: 10000\nETag: "short"', randomBytes(6000)) }];
  const { err, run } = await failing({ url: srv.url('/short'), partPath, checkpoint: null }, 'NETWORK');
  assert.equal(err.transient, true);
  assert.match(err.message, /dropped after 6 KB of 10 KB; 6 KB are kept and the download will resume from there/);
  assert.equal(fileSize(partPath), 6000);
  assert.equal(last(run).bytesDone, 6000);
});

test('a server whose package size differs from PackageSize is refused before anything is written', async (t) => {
  const { srv, partPath } = await fixture(t, 1);
  const big = 48 * 1024 * KiB; // more than loopback buffers hold: the socket must really be closed
  srv.put('/big.bin', Buffer.alloc(big, 7));
  const { err } = await failing({ url: srv.url('/big.bin'), partPath, checkpoint: null, expectedSize: big - 1 }, 'SIZE_MISMATCH');
  assert.equal(err.transient, false, 'retrying cannot make the server\'s package match its instructions');
  assert.match(err.message, new RegExp(`package has ${big} bytes but its instructions say PackageSize ${big - 1}`));
  assert.ok(fileSize(partPath) <= 0, 'nothing was written');
  await noOpenConnections(srv);
});

test('a body that ends before PackageSize without an announced length is a SIZE_MISMATCH', async (t) => {
  const { srv, url, partPath } = await fixture(t, 3000);
  srv.directives = [{ kind: 'normal', chunked: true }];
  const { err } = await failing({ url, partPath, checkpoint: null, expectedSize: 4000 }, 'SIZE_MISMATCH');
  assert.match(err.message, /ended the package after 3000 bytes but it has 4000 bytes/);
  assert.equal(fileSize(partPath), -1);
});

test('a hash mismatch deletes the partial file and resets the checkpoint; the next attempt starts from zero', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  const wrong = sha(Buffer.from('another package'));
  const { err, run } = await failing({ url, partPath, checkpoint: null, sha256: wrong.toUpperCase() }, 'HASH_MISMATCH');
  assert.equal(err.transient, true);
  assert.match(err.message, new RegExp(`expected ${wrong}, got ${sha(body)}`));
  assert.match(err.message, /partial file was deleted and the next attempt downloads it again from the beginning/);
  assert.equal(fileSize(partPath), -1);
  assert.deepEqual(last(run), { url, validator: null, bytesDone: 0, expectedSize: SIZE });
  const r = await download({ url, partPath, checkpoint: last(run), sha256: sha(body) });
  assert.equal(srv.served[1]?.headers.range, undefined);
  assert.equal(r.resumedFrom, 0);
});

// ---- stalls, pauses and errors ----------------------------------------------------------------

test('a server that stops sending mid-body fails after stallTimeoutMs and the bytes are kept', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  srv.directives = [{ kind: 'normal', stallAfter: 200 * KiB }];
  const { err, run } = await failing({ url, partPath, checkpoint: null, stallTimeoutMs: 500 }, 'NETWORK');
  assert.equal(err.transient, true);
  assert.match(err.message, /sent no data for 500 ms after 205 KB of 717 KB; 205 KB are kept and the download will resume from there/);
  assert.equal(last(run).bytesDone, 200 * KiB);
  assert.equal(fileSize(partPath), 200 * KiB);
  await noOpenConnections(srv);
  const r = await download({ url, partPath, checkpoint: last(run), sha256: sha(body) });
  assert.equal(r.resumedFrom, 200 * KiB);
});

test('a server that never answers fails after stallTimeoutMs', async (t) => {
  const { srv, url, partPath } = await fixture(t);
  srv.directives = [{ kind: 'silent' }];
  const { err } = await failing({ url, partPath, checkpoint: null, stallTimeoutMs: 100 }, 'NETWORK');
  assert.match(err.message, /sent no data for 100 ms before answering; nothing was downloaded yet/);
  await noOpenConnections(srv);
});

test('abort mid-transfer pauses: CANCELLED, file and checkpoint kept, and a second call completes', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  srv.directives = [{ kind: 'normal', stallAfter: 300 * KiB }];
  const ac = new AbortController();
  const run: Run = { saves: [], fileAtSave: [], progress: [] };
  const paused = download({ url, partPath, checkpoint: null, signal: ac.signal, stallTimeoutMs: 60_000, onProgress: (done) => done >= 300 * KiB && ac.abort() }, run);
  await assert.rejects(paused, (err: unknown) => err instanceof DockhandError && err.code === 'CANCELLED' && /paused after 307 KB of 717 KB; 307 KB are kept and it will resume from there/.test(err.message));
  assert.equal(fileSize(partPath), 300 * KiB);
  assert.equal(last(run).bytesDone, 300 * KiB);
  await noOpenConnections(srv);
  const r = await download({ url, partPath, checkpoint: last(run), sha256: sha(body) });
  assert.equal(r.resumedFrom, 300 * KiB);
  assert.deepEqual(srv.sent(), [300 * KiB, SIZE - 300 * KiB]);
});

test('abort while waiting for the rate limiter stops at once and keeps what arrived', async (t) => {
  const { srv, url, partPath } = await fixture(t);
  const frozen = { now: () => 0, sleep: (_ms: number, signal?: AbortSignal) => new Promise<void>((_r, j) => signal?.addEventListener('abort', () => j(signal.reason))) };
  const limiter = new RateLimiter(1000, frozen); // one 16 KiB burst, then time never moves
  const ac = new AbortController();
  const run: Run = { saves: [], fileAtSave: [], progress: [] };
  const p = download({ url, partPath, checkpoint: null, limiter, signal: ac.signal, onProgress: () => ac.abort() }, run);
  await assert.rejects(p, (err: unknown) => err instanceof DockhandError && err.code === 'CANCELLED');
  assert.ok(fileSize(partPath) > 0);
  assert.equal(last(run).bytesDone, fileSize(partPath), 'checkpoint and file agree');
  await noOpenConnections(srv);
});

test('an abort before the start changes nothing and sends nothing', async (t) => {
  const { srv, url, partPath } = await fixture(t);
  const ac = new AbortController();
  ac.abort();
  const { err, run } = await failing({ url, partPath, checkpoint: null, signal: ac.signal }, 'CANCELLED');
  assert.match(err.message, /nothing on disk was changed/);
  assert.equal(srv.served.length, 0);
  assert.equal(run.saves.length, 0);
});

test('HTTP errors: 5xx, 408 and 429 are transient, other 4xx are fatal', async (t) => {
  const { srv, url, partPath } = await fixture(t);
  const cases: [number, boolean, RegExp][] = [[503, true, /busy or failing/], [429, true, /busy or failing/], [408, true, /busy/], [404, false, /not on the server at that address/], [403, false, /refused this station access/]];
  for (const [status, transient, words] of cases) {
    srv.directives = [{ kind: 'status', status, headers: { 'retry-after': '7' } }];
    const { err } = await failing({ url, partPath, checkpoint: null }, 'HTTP_STATUS');
    assert.equal(err.transient, transient, `HTTP ${status}`);
    assert.match(err.message, new RegExp(`HTTP ${status} for ${url.replace(/[.]/g, '\\.')}`));
    assert.match(err.message, words);
    assert.equal(err.detail?.['retryAfter'], '7');
  }
  await noOpenConnections(srv);
});

test('only http: and https: locations are accepted', async (t) => {
  const dir = await tempDir(t);
  for (const url of ['ftp://127.0.0.1/pkg.cab', '\\\\dmserver\\SMSPKG\\setup.exe', 'file:///etc/passwd', 'not a url']) {
    const { err } = await failing({ url, partPath: path.join(dir, 'x.part'), checkpoint: null }, 'PROTOCOL');
    assert.equal(err.transient, false);
    assert.match(err.message, /must be an http:\/\/ or https:\/\/ address/);
  }
  await assert.rejects(downloadResumable({ url: 'http://127.0.0.1:1/x', partPath: path.join(dir, 'x.part'), checkpoint: null, saveCheckpoint: () => {}, sha256: 'abc' }), /not 64 hexadecimal digits/);
  await assert.rejects(downloadResumable({ url: 'http://127.0.0.1:1/x', partPath: path.join(dir, 'x.part'), checkpoint: null, saveCheckpoint: () => {}, expectedSize: -3 }), /PackageSize must be a whole number/);
});

test('a refused connection is a transient NETWORK error', async (t) => {
  const dir = await tempDir(t);
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const { err, run } = await failing({ url: `http://127.0.0.1:${port}/pkg.cab`, partPath: path.join(dir, 'p.part'), checkpoint: null }, 'NETWORK');
  assert.equal(err.transient, true);
  assert.match(err.message, new RegExp(`could not download from 127\\.0\\.0\\.1:${port}: the connection was refused`));
  assert.equal(run.saves.length, 0, 'nothing changed, so nothing to record');
});

test('https: a server whose certificate is not trusted is a TLS error (not an outage) that says so', async (t) => {
  const dir = await tempDir(t);
  const server = https.createServer(selfSignedCertificate(dir), (_req, res) => res.end('x'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as net.AddressInfo).port;
  const { err } = await failing({ url: `https://127.0.0.1:${port}/pkg.cab`, partPath: path.join(dir, 'p.part'), checkpoint: null }, 'TLS');
  assert.equal(err.transient, false);
  assert.match(err.message, /^the server's certificate is not trusted \(self-signed\): the secure connection to 127\.0\.0\.1:\d+ was refused \(DEPTH_ZERO_SELF_SIGNED_CERT\); install the server's certificate authority/);
});

/** A certificate for 127.0.0.1 that this process trusts while the test runs, as NODE_EXTRA_CA_CERTS would make it. */
function trustedCertificate(t: TestContext, dir: string): { key: Buffer; cert: Buffer } {
  const credentials = selfSignedCertificate(dir);
  const before = tls.getCACertificates('default');
  tls.setDefaultCACertificates([...before, credentials.cert.toString()]);
  t.after(() => tls.setDefaultCACertificates(before));
  return credentials;
}

test('https: from a trusted server the package arrives whole, and a cut download resumes over TLS from the cut byte', async (t) => {
  const dir = await tempDir(t);
  const credentials = trustedCertificate(t, dir);
  timersBefore = timers();
  const srv = await RangeServer.start(t, credentials);
  const body = srv.put('/pkg/secure.cab', randomBytes(3 * 1024 * KiB));
  const url = srv.url('/pkg/secure.cab');
  const partPath = path.join(dir, 'cache', 'secure.cab.part');
  srv.directives = [{ kind: 'normal', cutAfter: 1200 * KiB }];
  const first = await failing({ url, partPath, checkpoint: null, expectedSize: body.length, sha256: sha(body) }, 'NETWORK');
  assert.equal(fileSize(partPath), 1200 * KiB, 'every byte that came through TLS before the cut is kept');
  const r = await download({ url, partPath, checkpoint: last(first.run), expectedSize: body.length, sha256: sha(body) });
  assert.equal(r.resumedFrom, 1200 * KiB);
  assert.equal(r.sha256, sha(body));
  assert.equal(srv.served[1]?.headers.range, `bytes=${1200 * KiB}-`);
  assert.deepEqual(srv.sent(), [1200 * KiB, body.length - 1200 * KiB], 'no byte was fetched twice');
  await noOpenConnections(srv);
});

test('https: a short body that arrives with its head and the close in one read is kept', async (t) => {
  const dir = await tempDir(t);
  const server = tls.createServer(trustedCertificate(t, dir), (socket) => {
    // Head, ten of the eleven announced bytes and the close: over TLS one read can carry all three.
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 11\r\nETag: "short"\r\n\r\n0123456789'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const partPath = path.join(dir, 'short.part');
  const { err, run } = await failing({ url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/short.cab`, partPath, checkpoint: null }, 'NETWORK');
  assert.match(err.message, /dropped after 10 bytes of 11 bytes; 10 bytes are kept/);
  assert.equal(fileSize(partPath), 10);
  assert.equal(last(run).bytesDone, 10);

  // The same answer while the caller is still busy: the connection has failed before the pump starts, and the
  // bytes that came with the head still reach the sink before the failure is taken.
  const exchange = await openExchange(new URL(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}/short.cab`), { headers: {}, maxRedirects: 0, stallTimeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 200));
  const got: Buffer[] = [];
  await assert.rejects(pumpBody({ exchange, limit: Infinity, stallTimeoutMs: 5000, sink: async (pieces) => void got.push(...pieces.map((p) => Buffer.from(p))) }), { code: 'ECONNRESET' });
  assert.equal(Buffer.concat(got).toString(), '0123456789');
});

test('a validator with bytes over 0x7F goes back in If-Range as the same bytes, so the resume is granted', async (t) => {
  const { srv, partPath } = await fixture(t);
  const body = randomBytes(SIZE);
  const cut = 300 * KiB;
  const etag = '"\u00e9t\u00e9"'; // on the wire: the latin1 bytes 22 E9 74 E9 22, as servers send such header bytes
  const head = (lines: string[]): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  srv.directives = [
    { kind: 'raw', bytes: () => Buffer.concat([head(['HTTP/1.1 200 OK', `Content-Length: ${SIZE}`, `ETag: ${etag}`]), body.subarray(0, cut)]) },
    {
      kind: 'raw',
      // A server grants the range only when If-Range is its validator, byte for byte (node:http reads header bytes as latin1).
      bytes: (req) => req.headers['if-range'] === etag
        ? Buffer.concat([head(['HTTP/1.1 206 Partial Content', `Content-Range: bytes ${cut}-${SIZE - 1}/${SIZE}`, `Content-Length: ${SIZE - cut}`, `ETag: ${etag}`]), body.subarray(cut)])
        : Buffer.concat([head(['HTTP/1.1 200 OK', `Content-Length: ${SIZE}`, `ETag: ${etag}`]), body]),
    },
  ];
  const url = srv.url('/pkg/latin1.cab');
  const first = await failing({ url, partPath, checkpoint: null, sha256: sha(body) }, 'NETWORK');
  assert.equal(last(first.run).validator, etag);
  const r = await download({ url, partPath, checkpoint: last(first.run), sha256: sha(body) });
  assert.equal(srv.served[1]?.headers['if-range'], etag, 'the server read the same validator back');
  assert.equal(r.resumedFrom, cut, 'a validator sent back as UTF-8 would not match, and the download would restart from zero');
});

test('a large package is hashed on its own thread from the blocks themselves; a resume feeds it the kept prefix', async (t) => {
  const size = OFF_THREAD_MIN_BYTES + 4 * 1024 * KiB;
  const cutAt = 3 * 1024 * KiB; // what is left after the cut is still over the threshold
  const { srv, url, partPath } = await fixture(t, size);
  const body = srv.put('/pkg/setup.cab', randomBytes(size));
  srv.directives = [{ kind: 'normal', cutAfter: cutAt }];
  const before = { ...hashThreadStats };
  const first = await failing({ url, partPath, checkpoint: null, expectedSize: size, sha256: sha(body) }, 'NETWORK');
  assert.equal(fileSize(partPath), cutAt);
  assert.equal(hashThreadStats.sharedBytes - before.sharedBytes, cutAt, 'every byte written was hashed in place, on the thread');
  assert.equal(hashThreadStats.writtenBytes - before.writtenBytes, cutAt, 'and written by the thread');
  const r = await download({ url, partPath, checkpoint: last(first.run), expectedSize: size, sha256: sha(body) });
  assert.equal(r.sha256, sha(body));
  assert.equal(r.resumedFrom, cutAt);
  assert.deepEqual(await readFile(partPath), body);
  assert.equal(hashThreadStats.copiedBytes - before.copiedBytes, cutAt, 'the kept prefix, read back, went to the thread once');
  assert.equal(hashThreadStats.sharedBytes - before.sharedBytes, size, 'the rest was hashed in the blocks');
  assert.equal(hashThreadStats.writtenBytes - before.writtenBytes, size, 'and written by the thread');
  await noOpenConnections(srv);
});

test('the body is read straight into the pump\'s blocks: only bytes that came before it had a place are copied', async (t) => {
  const { srv, body, url } = await fixture(t, 8 * 1024 * KiB);
  const pump = async (): Promise<{ copied: number; hash: string }> => {
    const exchange = await openExchange(new URL(url), { headers: {}, maxRedirects: 0, stallTimeoutMs: 5000 });
    const hash = createHash('sha256');
    const stats = { copiedBytes: -1 };
    const n = await pumpBody({ exchange, limit: Infinity, stallTimeoutMs: 5000, stats, sink: async (pieces) => void pieces.forEach((p) => hash.update(p)) });
    assert.equal(n, body.length);
    return { copied: stats.copiedBytes, hash: hash.digest('hex') };
  };
  const plain = await pump();
  assert.equal(plain.hash, sha(body));
  // What came with the head, and the one read whose buffer was chosen before the pump gave its blocks.
  assert.ok(plain.copied <= 512 * KiB, `${plain.copied} of ${body.length} bytes were copied`);
  srv.directives = [{ kind: 'normal', chunked: true }];
  const chunked = await pump();
  assert.equal(chunked.hash, sha(body));
  // A chunked body's data sits between chunk lines, so most pieces are moved into place (a piece that starts
  // a read lands where it belongs).
  assert.ok(chunked.copied > body.length / 2, `only ${chunked.copied} of ${body.length} bytes of a chunked body were copied`);
  await noOpenConnections(srv);
});

test('behind a slow disk the full blocks that piled up go in one write, at most 16 of 256 KiB, in order', async (t) => {
  const { body, url, dir } = await fixture(t, 8 * 1024 * KiB);
  const exchange = await openExchange(new URL(url), { headers: {}, maxRedirects: 0, stallTimeoutMs: 5000 });
  const part = await PartFile.open(path.join(dir, 'slow.part'));
  t.after(() => part.close());
  const writes: number[][] = [];
  await pumpBody({
    exchange, limit: Infinity, stallTimeoutMs: 5000,
    sink: async (pieces) => {
      writes.push(pieces.map((p) => p.length));
      await part.append(pieces);
      await new Promise((r) => setTimeout(r, 15)); // a disk slower than the socket
    },
  });
  assert.ok(writes.some((w) => w.length > 1), `every write was one block: ${JSON.stringify(writes)}`);
  assert.ok(writes.every((w) => w.length <= 16 && w.every((n) => n <= 256 * KiB)), JSON.stringify(writes));
  assert.ok((await readFile(path.join(dir, 'slow.part'))).equals(body), 'the file holds the body in order');
});

test('under a rate limit the socket reads little ahead of the limit, so a pause finds little more than the limit let through', async (t) => {
  const { body, url } = await fixture(t, 8 * 1024 * KiB);
  const exchange = await openExchange(new URL(url), { headers: {}, maxRedirects: 0, stallTimeoutMs: 5000 });
  const stop = new AbortController();
  let written = 0;
  const started = performance.now();
  const pumping = pumpBody({
    exchange, limit: Infinity, stallTimeoutMs: 5000, limiter: new RateLimiter(256 * KiB), signal: stop.signal,
    sink: async (pieces) => void pieces.forEach((p) => (written += p.length)),
  });
  await new Promise((r) => setTimeout(r, 300));
  stop.abort();
  await assert.rejects(pumping);
  const allowed = ((performance.now() - started) / 1000) * 256 * KiB + 16 * KiB; // the limiter's burst
  // What arrived is written on a pause (never lost): the limit's bytes, two shares read ahead (128 KiB) and
  // at most one read into a block (256 KiB). Reading ahead to the 8 MiB high water would be 8 MiB and more.
  assert.ok(written <= allowed + 128 * KiB + 256 * KiB, `${written} bytes taken in ${Math.round(performance.now() - started)} ms at 256 KiB/s`);
  assert.ok(written < body.length);
});

test('redirects are followed (the checkpoint keeps the location URL); loops and non-http targets are refused', async (t) => {
  const { srv, body, url, partPath } = await fixture(t);
  const other = await RangeServer.start(t);
  other.put('/elsewhere.cab', body);
  srv.directives = [{ kind: 'redirect', location: other.url('/elsewhere.cab') }];
  const r = await download({ url, partPath, checkpoint: null, sha256: sha(body), headers: { 'X-Device-UUID': 'u1', 'X-Device-Auth': 'secret' } });
  assert.equal(r.bytes, SIZE);
  assert.equal(last(r.run).url, url);
  assert.equal(other.served[0]?.headers['x-device-uuid'], 'u1');
  assert.equal(other.served[0]?.headers['x-device-auth'], undefined, 'credentials are not handed to another origin');

  srv.directives = [{ kind: 'redirect', location: '/a' }, { kind: 'redirect', location: '/b' }, { kind: 'redirect', location: '/c' }];
  const loop = await failing({ url, partPath, checkpoint: null, maxRedirects: 2 }, 'HTTP_STATUS');
  assert.match(loop.err.message, /redirected more than 2 times/);
  srv.directives = [{ kind: 'redirect', location: 'ftp://127.0.0.1/x' }];
  const ftp = await failing({ url, partPath, checkpoint: null }, 'PROTOCOL');
  assert.match(ftp.err.message, /redirected the download to "ftp:\/\/127\.0\.0\.1\/x" uses ftp/);
  await noOpenConnections(srv);
});

test('a limited download asks the limiter for every byte (measured on a fake clock)', async (t) => {
  const { body, url, partPath } = await fixture(t);
  let now = 0;
  const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) }; // time jumps instead of passing
  const rate = 100 * KiB;
  const r = await download({ url, partPath, checkpoint: null, limiter: new RateLimiter(rate, clock), sha256: sha(body) });
  assert.equal(r.bytes, SIZE);
  // The first burst passes at once and the last chunk (a socket read, at most 64 KiB) may leave a debt
  // nobody waits for; every other byte must have been paid for in limiter time.
  assert.ok(now >= ((SIZE - rate / 4 - 64 * KiB) / rate) * 1000, `only ${now} ms of limiter time for ${SIZE} bytes`);
  assert.ok(now <= (SIZE / rate) * 1000 + 1, `${now} ms is more than the rate needs`);
});

// ---- disk and callbacks -----------------------------------------------------------------------

test('a full disk is a STORAGE error that names the path', async (t) => {
  assert.ok(existsSync('/dev/full'), 'this test needs /dev/full (Linux)');
  const { srv, url, dir } = await fixture(t);
  const partPath = path.join(dir, 'full.part');
  await symlink('/dev/full', partPath); // every write to it fails with ENOSPC
  const { err } = await failing({ url, partPath, checkpoint: null }, 'STORAGE');
  assert.equal(err.transient, true, 'a full disk may get room: tried again later (issue 7)');
  assert.match(err.message, new RegExp(`the disk is full at ${partPath.replace(/[.]/g, '\\.')}`));
  await noOpenConnections(srv);
});

test('a full disk under a large package (written by the hashing thread) is the same transient STORAGE error', async (t) => {
  assert.ok(existsSync('/dev/full'), 'this test needs /dev/full (Linux)');
  const size = OFF_THREAD_MIN_BYTES + 1024 * KiB;
  const { srv, url, dir } = await fixture(t, size);
  const partPath = path.join(dir, 'full.part');
  await symlink('/dev/full', partPath);
  const before = hashThreadStats.writtenBytes;
  const { err } = await failing({ url, partPath, checkpoint: null, expectedSize: size, freeSpace: async () => 2 * size }, 'STORAGE');
  assert.ok(hashThreadStats.writtenBytes > before, 'the thread was the writer');
  assert.equal(err.transient, true);
  assert.match(err.message, new RegExp(`the disk is full at ${partPath.replace(/[.]/g, '\\.')}`));
  await noOpenConnections(srv);
});

test('a partial file path that is a folder is a STORAGE error', async (t) => {
  const { url, dir } = await fixture(t);
  const { err } = await failing({ url, partPath: dir, checkpoint: null }, 'STORAGE');
  assert.match(err.message, /is a folder, not a file/);
});

test('a checkpoint that cannot be saved stops the download with STORAGE; a throwing onProgress is passed through', async (t) => {
  const { srv, url, partPath } = await fixture(t);
  await assert.rejects(downloadResumable({ url, partPath, checkpoint: null, saveCheckpoint: () => { throw new Error('database is locked'); } }),
    (err: unknown) => err instanceof DockhandError && err.code === 'STORAGE' && /could not be recorded \(database is locked\)/.test(err.message));
  const bug = new TypeError('the UI broke');
  await assert.rejects(downloadResumable({ url, partPath, checkpoint: null, saveCheckpoint: () => {}, onProgress: () => { throw bug; } }), (err: unknown) => err === bug);
  await noOpenConnections(srv);
});

// ---- through the fault proxy ------------------------------------------------------------------

test('through a proxy that cuts the body: the resumed request starts at the byte the server delivered up to', async (t) => {
  const { srv, body, partPath } = await fixture(t);
  const proxy = await startFaultProxy({ port: srv.port });
  t.after(() => proxy.close());
  const cut = 333_333;
  proxy.setPlans([{ cutAfterBodyBytes: cut }]);
  const url = `${proxy.url}/pkg/setup.cab`;
  const first = await failing({ url, partPath, checkpoint: null, sha256: sha(body) }, 'NETWORK');
  const r = await download({ url, partPath, checkpoint: last(first.run), sha256: sha(body) });
  const [a, b] = proxy.stats().connections;
  assert.equal(a?.responseBodyBytes, cut);
  assert.equal(r.resumedFrom, cut);
  assert.equal(b?.requests[0]?.headers['range'], `bytes=${cut}-`);
  assert.equal(b?.responseBodyBytes, SIZE - cut);
});

test('through a proxy that corrupts one body byte: HASH_MISMATCH, and a clean retry succeeds', async (t) => {
  const { srv, body, url: direct, partPath } = await fixture(t);
  const proxy = await startFaultProxy({ port: srv.port });
  t.after(() => proxy.close());
  proxy.setPlans([{ corruptAtBodyByte: 5000 }]);
  const url = `${proxy.url}/pkg/setup.cab`;
  const { run } = await failing({ url, partPath, checkpoint: null, expectedSize: SIZE, sha256: sha(body) }, 'HASH_MISMATCH');
  assert.equal(proxy.stats().connections[0]?.corrupted, 1);
  const r = await download({ url, partPath, checkpoint: last(run), expectedSize: SIZE, sha256: sha(body) });
  assert.equal(r.sha256, sha(body));
  assert.notEqual(url, direct);
});
