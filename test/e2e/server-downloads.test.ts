// Package downloads from the real server process: full GET, single ranges, If-Range, 416, HEAD, a
// package replaced while the server runs getting a new ETag (so a resume from old bytes restarts), and a
// data folder copied or restored serving its packages as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { httpRequest, runDockhand, spawnServerProcess } from '../../server/process-harness.js';
import { tempDir } from '../helpers/tmp.js';

async function add(data: string, file: string, bytes: Buffer, id?: string): Promise<string> {
  writeFileSync(file, bytes);
  const r = await runDockhand(['server', 'package', 'add', '--data', data, '--file', file, '--name', 'Big', ...(id ? ['--id', id] : [])]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

test('package files are served whole, by single range, with If-Range and 416, and streamed', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const bytes = randomBytes(5 * 1024 * 1024 + 123); // several stream chunks
  const id = await add(data, path.join(dir, 'big.bin'), bytes);
  const server = await spawnServerProcess(data);
  t.after(() => server.stop());
  const url = `${server.url}/packages/${id}/big.bin`;
  const size = bytes.length;

  const full = await httpRequest(url);
  assert.equal(full.status, 200);
  assert.equal(full.headers['accept-ranges'], 'bytes');
  assert.equal(Number(full.headers['content-length']), size);
  const etag = String(full.headers.etag);
  assert.match(etag, /^"[0-9a-f]{64}"$/, 'a strong ETag');
  assert.ok(full.body.equals(bytes));

  const tail = await httpRequest(url, { headers: { Range: 'bytes=1000000-' } });
  assert.equal(tail.status, 206);
  assert.equal(tail.headers['content-range'], `bytes 1000000-${size - 1}/${size}`);
  assert.equal(Number(tail.headers['content-length']), size - 1_000_000);
  assert.ok(tail.body.equals(bytes.subarray(1_000_000)));

  const middle = await httpRequest(url, { headers: { range: 'bytes=10-19', 'If-Range': etag } });
  assert.equal(middle.status, 206);
  assert.equal(middle.headers['content-range'], `bytes 10-19/${size}`);
  assert.ok(middle.body.equals(bytes.subarray(10, 20)));

  const clamped = await httpRequest(url, { headers: { Range: `bytes=${size - 5}-${size + 1000}` } });
  assert.equal(clamped.status, 206);
  assert.ok(clamped.body.equals(bytes.subarray(size - 5)));

  const stale = await httpRequest(url, { headers: { Range: 'bytes=100-', 'If-Range': '"0000"' } });
  assert.equal(stale.status, 200, 'a stale If-Range gets the whole file');
  assert.ok(stale.body.equals(bytes));

  const beyond = await httpRequest(url, { headers: { Range: `bytes=${size}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers['content-range'], `bytes */${size}`);

  const head = await httpRequest(url, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers['content-length']), size);
  assert.equal(head.headers.etag, etag);
  assert.equal(head.body.length, 0);

  assert.equal((await httpRequest(`${server.url}/packages/${id}/other.bin`)).status, 404);
  assert.equal((await httpRequest(`${server.url}/packages/${id}/..%2F..%2Fserver.sqlite`)).status, 404);
  assert.equal((await httpRequest(`${server.url}/packages/..%2Fserver.sqlite/x`)).status, 404);
  assert.equal((await httpRequest(url, { method: 'POST' })).status, 405);

  // the server keeps serving after a client drops a download half way
  await new Promise<void>((resolve) => {
    void import('node:http').then(({ default: http }) => {
      const req = http.get(url, { agent: false }, (res) => {
        res.once('data', () => { res.destroy(); resolve(); });
      });
      req.on('error', () => resolve());
    });
  });
  assert.equal((await httpRequest(url, { headers: { Range: 'bytes=0-0' } })).status, 206);
});

test('re-adding a package with the same ID replaces its bytes and its ETag while the server runs', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const first = Buffer.from('first version of the package');
  const id = await add(data, path.join(dir, 'pkg.cab'), first);
  const server = await spawnServerProcess(data);
  t.after(() => server.stop());
  const url = `${server.url}/packages/${id}/pkg.cab`;
  const before = await httpRequest(url);
  assert.ok(before.body.equals(first));
  const oldTag = String(before.headers.etag);

  const second = Buffer.from('the second, longer version of the same package');
  assert.equal(await add(data, path.join(dir, 'pkg.cab'), second, id), id);
  const resumed = await httpRequest(url, { headers: { Range: 'bytes=5-', 'If-Range': oldTag } });
  assert.equal(resumed.status, 200, 'the old ETag no longer matches: the whole new file comes back');
  assert.notEqual(resumed.headers.etag, oldTag);
  assert.ok(resumed.body.equals(second));

  // a new file name moves the URL; the old one is gone
  const third = Buffer.from('third');
  await add(data, path.join(dir, 'renamed.cab'), third, id);
  assert.equal((await httpRequest(url)).status, 404);
  assert.ok((await httpRequest(`${server.url}/packages/${id}/renamed.cab`)).body.equals(third));
});

test('a data folder copied with cp -a or a plain cp serves its packages; bytes that differ from the catalog are refused', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const bytes = randomBytes(300_000);
  const id = await add(data, path.join(dir, 'pkg.cab'), bytes);
  const etag = `"${createHash('sha256').update(bytes).digest('hex')}"`;
  // the real tools, as an administrator moving or restoring a server would use them
  execFileSync('cp', ['-a', data, path.join(dir, 'archive')]); // keeps times, new inodes
  execFileSync('cp', ['-r', data, path.join(dir, 'plain')]); // new inodes and new times
  execFileSync('cp', ['-r', data, path.join(dir, 'tampered')]);
  const tamperedBytes = Buffer.from(bytes);
  tamperedBytes[1000] = (tamperedBytes[1000] ?? 0) ^ 0xff;
  writeFileSync(path.join(dir, 'tampered', 'packages', id, 'pkg.cab'), tamperedBytes);

  for (const copy of ['archive', 'plain']) {
    const folder = path.join(dir, copy);
    const server = await spawnServerProcess(folder);
    t.after(() => server.stop());
    const url = `${server.url}/packages/${id}/pkg.cab`;
    const whole = await httpRequest(url);
    assert.equal(whole.status, 200, `${copy}: ${whole.text.slice(0, 200)}`);
    assert.equal(whole.headers.etag, etag);
    assert.ok(whole.body.equals(bytes), copy);
    const resumed = await httpRequest(url, { headers: { Range: 'bytes=1000-', 'If-Range': etag } });
    assert.equal(resumed.status, 206, copy);
    assert.ok(resumed.body.equals(bytes.subarray(1000)), copy);
    // the content was checked once; the row now names the file as it is in this folder
    const listed = JSON.parse((await runDockhand(['server', 'package', 'list', '--data', folder, '--json'])).stdout) as { fileStamp: string }[];
    const st = statSync(path.join(folder, 'packages', id, 'pkg.cab'), { bigint: true });
    assert.equal(listed[0]?.fileStamp, `${st.size}:${st.mtimeNs}`, copy);
  }

  const server = await spawnServerProcess(path.join(dir, 'tampered'));
  t.after(() => server.stop());
  const refused = await httpRequest(`${server.url}/packages/${id}/pkg.cab`);
  assert.equal(refused.status, 503, 'bytes that are not the package are never served under its ETag');
});
