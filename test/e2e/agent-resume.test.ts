// Unplugging a real agent mid-transfer: the socat relay joining the station's pty to the agent's is
// killed while a file is on its way (both ends see their port vanish, as with a pulled USB cable), then a
// new relay is started under the same names. The agent reopens its port by itself; the station reconnects,
// asks the device how much it holds, and finishes from there.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { openDeviceLink } from '../../electron/link/link-client.js';
import { openSerialTransport } from '../../electron/link/serial.js';
import { DockhandError } from '../../shared/model/errors.js';
import { startDockhand } from '../helpers/processes.js';
import { ptyPair } from '../helpers/pty.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a transfer cut by an unplug resumes from the device\'s offset after re-plugging', async (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  const data = randomBytes(3 * 1024 * 1024 + 123);
  const source = path.join(dir, 'package.cab');
  writeFileSync(source, data);
  const put = { directory: '\\Windows\\Temp', fileName: 'package.cab', sourceFile: source, size: data.length, sha256: sha(data) };

  const pair = await ptyPair(t, dir);
  const agent = startDockhand(t, ['agent', '--port', pair.b, '--root', root, '--id', 'RESUME-1']);
  await waitFor('the agent to listen', () => agent.out().includes('listening on'), 30_000);

  const first = await openDeviceLink(await openSerialTransport(pair.a, { baudRate: 115200 }));
  t.after(() => first.close());
  const closed = new Promise<string>((resolve) => first.onClose(resolve));
  let pulledAt = 0;
  let pulledTime = 0;
  let pulling: Promise<void> | undefined;
  const interrupted = first.putFile({
    ...put, offset: 0,
    onProgress: (p) => {
      if (pulling || p.bytesDone < data.length / 3) return;
      pulledAt = p.bytesDone;
      pulledTime = Date.now();
      pulling = pair.unplug();
    },
  });
  await assert.rejects(interrupted, (err: unknown) => err instanceof DockhandError && err.code === 'LINK' && /unplugged/.test(err.message));
  const noticedAfter = Date.now() - pulledTime;
  assert.ok(noticedAfter < 6000, `the unplug was noticed from the port itself, not the 8 s keep-alive (${noticedAfter} ms)`);
  // a pty whose other end vanished answers EIO, as a pulled USB-serial adapter does: both read as an unplug
  assert.match(await closed, /serial port .* (was disconnected \(unplugged\)|failed: the port was unplugged)/, 'onClose names the unplug');
  await pulling;
  assert.equal(first.closed, true);
  await waitFor('the agent to keep the part file', () => /interrupted at byte \d+ of \d+; kept for resume/.test(agent.out()), 20_000);
  assert.ok(existsSync(path.join(root, 'Windows', 'Temp', '.package.cab.dockhand-part')));

  await pair.plug();
  await waitFor('the agent to reopen its port', () => agent.out().split('listening on').length === 3, 30_000);
  const second = await openDeviceLink(await openSerialTransport(pair.a, { baudRate: 115200 }));
  t.after(() => second.close());
  const offset = await second.queryPutOffset(put.directory, put.fileName, put.size, put.sha256);
  assert.ok(offset > 0, 'the device holds part of the file');
  assert.ok(offset >= pulledAt - 64 * 1024 && offset < data.length, `resume at ${offset} (progress said ${pulledAt} when pulled)`);
  let firstProgress: number | undefined;
  const saved = await second.putFile({ ...put, offset, onProgress: (p) => (firstProgress ??= p.bytesDone) });
  assert.equal(saved, '\\Windows\\Temp\\package.cab');
  assert.equal(firstProgress, offset, 'the second leg started at the device\'s offset');
  assert.ok(readFileSync(path.join(root, 'Windows', 'Temp', 'package.cab')).equals(data), 'the assembled file is the original');
  assert.equal(await second.queryPutOffset(put.directory, put.fileName, put.size, put.sha256), 0);

  await second.close();
  agent.kill('SIGTERM');
  assert.equal(await agent.exited, 0);
});
