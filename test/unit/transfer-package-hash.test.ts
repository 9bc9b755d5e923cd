// The package's SHA-256 on a thread of its own (package-hash.ts): the same digest as on the main thread,
// shared memory read in place and free to reuse once an update settles, and a process that still exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { DockhandError } from '../../shared/model/errors.js';
import { hashThreadStats, InlineHash, OFF_THREAD_MIN_BYTES, packageHash, terminatePackageThread, ThreadHash, ThreadWriteError } from '../../electron/engine/transfer/package-hash.js';

const MiB = 1024 * 1024;
const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const sharedCopy = (bytes: Uint8Array) => {
  const b = Buffer.from(new SharedArrayBuffer(bytes.length));
  b.set(bytes);
  return b;
};

test('on the thread or inline, shared memory or ordinary, several at once: the digest is the SHA-256 of the bytes in order', async () => {
  const a = randomBytes(3 * MiB + 17);
  const b = randomBytes(5 * MiB);
  const c = randomBytes(1);
  const before = { ...hashThreadStats };
  const one = new ThreadHash();
  const two = new ThreadHash();
  const inline = new InlineHash();
  // Interleaved: the thread keeps each hash's bytes apart and in order.
  await Promise.all([one.update([sharedCopy(a)]), two.update([b]), inline.update([a, sharedCopy(b)])]);
  await Promise.all([one.update([b, sharedCopy(c)]), two.update([sharedCopy(a.subarray(0, 1000)), a.subarray(1000)]), inline.update([c])]);
  assert.equal(await one.digest(), sha(a, b, c));
  assert.equal(await two.digest(), sha(b, a));
  assert.equal(await inline.digest(), sha(a, b, c));
  assert.equal(hashThreadStats.sharedBytes - before.sharedBytes, a.length + c.length + 1000, 'shared memory is read in place');
  assert.equal(hashThreadStats.copiedBytes - before.copiedBytes, b.length * 2 + a.length - 1000, 'ordinary memory is copied into the message');
  await assert.rejects(one.digest(), /used after its digest/);
  await assert.rejects(one.update([c]), /used after its digest/);
});

test('shared memory may be overwritten as soon as its update settles, and not before', async () => {
  const bytes = randomBytes(32 * MiB);
  const block = sharedCopy(bytes);
  const h = new ThreadHash();
  await h.update([block]);
  block.fill(0); // the body pump reuses a block at this point
  assert.equal(await h.digest(), sha(bytes));
});

test('the thread appends to the file, in order, what it hashes; a failed write keeps its errno and spoils the hash', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-hash-write-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'package.part');
  const fd = openSync(file, 'a');
  t.after(() => closeSync(fd));
  const a = randomBytes(5 * MiB + 3);
  const b = randomBytes(100);
  const h = new ThreadHash();
  await h.writeAndUpdate(fd, [sharedCopy(a), b]);
  await h.writeAndUpdate(fd, [sharedCopy(b)]);
  assert.deepEqual(readFileSync(file), Buffer.concat([a, b, b]));
  assert.equal(await h.digest(), sha(a, b, b));

  const full = openSync('/dev/full', 'w'); // every write fails with ENOSPC
  t.after(() => closeSync(full));
  const spoiled = new ThreadHash();
  const err = await spoiled.writeAndUpdate(full, [sharedCopy(b)]).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof ThreadWriteError, `a ThreadWriteError, not ${String(err)}`);
  assert.equal(err.code, 'ENOSPC');
  await assert.rejects(spoiled.update([sharedCopy(b)]), (e: Error) => e instanceof ThreadWriteError, 'a hash whose write failed stays failed');
  await assert.rejects(spoiled.digest(), ThreadWriteError);
});

test('a hash dropped half way frees it; the thread goes on serving others', async () => {
  const dropped = new ThreadHash();
  await dropped.update([sharedCopy(randomBytes(1000))]);
  dropped.drop();
  await assert.rejects(dropped.digest(), /used after its digest/);
  const next = new ThreadHash();
  const bytes = randomBytes(4096);
  await next.update([sharedCopy(bytes)]);
  assert.equal(await next.digest(), sha(bytes));
});

test('a thread that dies fails what waits on it as a transient STORAGE error; the next hash starts a new thread', async () => {
  const h = new ThreadHash();
  const pending = h.update([sharedCopy(randomBytes(64 * MiB))]);
  const started = hashThreadStats.threadsStarted;
  await terminatePackageThread();
  const err = await pending.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof DockhandError, `a DockhandError, not ${String(err)}`);
  assert.equal(err.code, 'STORAGE');
  assert.equal(err.transient, true);
  assert.match(err.message, /thread that writes and hashes large packages stopped \(exit code 1\); the bytes already written are kept/);
  await assert.rejects(h.digest(), /stopped/, 'the dead thread takes no more work');
  const next = new ThreadHash();
  const bytes = randomBytes(1000);
  await next.update([sharedCopy(bytes)]);
  assert.equal(await next.digest(), sha(bytes));
  assert.equal(hashThreadStats.threadsStarted, started + 1, 'a new thread');
});

test('large packages are hashed on the thread, small and unsized ones inline', () => {
  assert.ok(packageHash(OFF_THREAD_MIN_BYTES) instanceof ThreadHash);
  assert.ok(packageHash(OFF_THREAD_MIN_BYTES - 1) instanceof InlineHash);
  assert.ok(packageHash(null) instanceof InlineHash);
});

test('an idle hashing thread does not keep the process alive', () => {
  const module = JSON.stringify(path.resolve(import.meta.dirname, '../../electron/engine/transfer/package-hash.ts'));
  const run = (program: string) => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { ThreadHash } from ${module};\n${program}`],
    { encoding: 'utf8', timeout: 30_000 });
  // After a digest: every answer came back.
  const digested = run(`const h = new ThreadHash();
    await h.update([Buffer.from(new SharedArrayBuffer(1 << 20))]);
    console.log(await h.digest());`);
  assert.equal(digested.signal, null, `the process exits by itself once the digest is out (it was killed after 30 s): ${digested.stderr}`);
  assert.equal(digested.status, 0, digested.stderr);
  assert.equal(digested.stdout.trim(), sha(Buffer.alloc(1 << 20)));
  // A download that failed before its first byte (a full disk found before the first request).
  const dropped = run(`const h = new ThreadHash();
    await new Promise((resolve) => setTimeout(resolve, 300));
    h.drop();`);
  assert.equal(dropped.signal, null, `the process exits by itself with the hash dropped (it was killed after 30 s): ${dropped.stderr}`);
  assert.equal(dropped.status, 0, dropped.stderr);
});
