// The real agent behind an emulated serial cable with a line rate (test/helpers/line-rate-link.ts): a relay
// paces the bytes like a UART and, here, also damages them (flipped bits) and adds noise between frames.
// Transfers must still complete and verify; on a clean line, the bytes on the wire must be mostly file.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { openDeviceLink } from '../../electron/link/link-client.js';
import { openSerialTransport } from '../../electron/link/serial.js';
import { startDockhand } from '../helpers/processes.js';
import { startLineRateLink, type LineRateLinkOptions } from '../helpers/line-rate-link.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function dockBehindRelay(t: TestContext, opts: LineRateLinkOptions) {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  const line = await startLineRateLink(opts);
  t.after(() => line.close());
  const agent = startDockhand(t, ['agent', '--port', line.devicePath, '--root', root, '--baud', String(opts.baud)]);
  await waitFor('the agent to listen', () => agent.out().includes('listening on'), 30_000);
  const link = await openDeviceLink(await openSerialTransport(line.stationPath, { baudRate: opts.baud! }), { helloTimeoutMs: 10_000 });
  t.after(() => link.close());
  return { dir, root, line, agent, link };
}

test('flipped bits and noise on the line: files still arrive whole, commands and collection still work', async (t) => {
  const flips: number[] = [];
  const { dir, root, line, link } = await dockBehindRelay(t, {
    baud: 921_600,
    // one bit flipped every ~7 KiB in each direction, somewhere inside a frame
    transform: (dir, chunk, offset) => {
      const out = Buffer.from(chunk);
      for (let i = 0; i < out.length; i++) {
        if ((offset + i) % 7001 === 3500) {
          out[i]! ^= 0x10;
          flips.push(offset + i);
        }
      }
      void dir;
      return out;
    },
  });
  const noise = setInterval(() => line.inject('toDevice', Buffer.from('\x00\x13\x37garbage on the line\xff\xfe')), 50);
  t.after(() => clearInterval(noise));

  const data = randomBytes(200 * 1024);
  const source = path.join(dir, 'p.bin');
  writeFileSync(source, data);
  const saved = await link.putFile({ directory: '\\noisy', fileName: 'p.bin', sourceFile: source, size: data.length, sha256: sha(data), offset: 0 });
  assert.equal(saved, '\\noisy\\p.bin');
  assert.ok(readFileSync(path.join(root, 'noisy', 'p.bin')).equals(data), 'the file on the device is intact');
  const back = await link.getFile('\\noisy\\p.bin', 1024 * 1024);
  assert.ok(back.equals(data), 'and comes back intact');
  const run = await link.runCommand('ls p.bin', '\\noisy', 20_000);
  assert.equal(run.exitCode, 0);
  assert.match(run.output, /p\.bin/);
  clearInterval(noise);
  assert.ok(flips.length >= 40, `the line really was damaged (${flips.length} bits flipped)`);
});

test('on a clean line more than 85 % of the bytes towards the device are file bytes, 98.8 % without a resend', async (t) => {
  const { dir, line, link } = await dockBehindRelay(t, { baud: 921_600 });
  const data = randomBytes(256 * 1024);
  const source = path.join(dir, 'p.bin');
  writeFileSync(source, data);
  const before = line.received.toDevice;
  const started = performance.now();
  await link.putFile({ directory: '\\fast', fileName: 'p.bin', sourceFile: source, size: data.length, sha256: sha(data), offset: 0 });
  const seconds = (performance.now() - started) / 1000;
  const onWire = line.received.toDevice - before;
  const efficiency = data.length / onWire;
  t.diagnostic(`${data.length} file bytes in ${onWire} line bytes (${(efficiency * 100).toFixed(1)} %); ` +
    `${Math.round(data.length / seconds)} B/s of a ${line.rate} B/s line (${((data.length / seconds / line.rate) * 100).toFixed(0)} %)`);
  // 98.8 % with no retransmission (the channel unit test pins the framing exactly). A machine loaded enough to starve
  // a peer past the retransmission timeout gets a window resent, 32 KiB or 12 % of this file (88.4 % was seen
  // once at load 6–7); framing that grew by a tenth would still fail.
  assert.ok(efficiency > 0.85, `payload efficiency ${efficiency}`);
});
