// The link protocol over USB: the station's openDeviceLink on the USB transport, and the agent's own
// device side (serveTransport) on the far end of the in-memory WebUSB device. No USB bus exists on these
// machines; everything above the bulk endpoints is the real code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { openUsbTransport } from '../../electron/link/usb.js';
import { openDeviceLink } from '../../electron/link/link-client.js';
import type { DeviceLink } from '../../electron/link/device-link.js';
import { prepareAgent, serveTransport } from '../../agent/agent.js';
import type { AgentContext } from '../../agent/context.js';
import { FakeUsbDevice } from '../helpers/webusb-fake.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

/** Plugs a fresh fake device served by the agent context `ctx`, and opens the station's link over USB. */
async function dock(t: { after(fn: () => unknown): void }, ctx: AgentContext, serial: string) {
  const device = new FakeUsbDevice({ serialNumber: serial, packetSize: 512 });
  const stop = new AbortController();
  const served = serveTransport(ctx, device.peer, stop.signal);
  t.after(async () => {
    stop.abort();
    await served;
  });
  const transport = await openUsbTransport(device);
  const link: DeviceLink = await openDeviceLink(transport);
  t.after(() => link.close().catch(() => undefined));
  return { device, link, served };
}

function payload(dir: string, size: number) {
  const data = randomBytes(size);
  const file = path.join(dir, 'payload.bin');
  writeFileSync(file, data);
  return { data, file, sha256: createHash('sha256').update(data).digest('hex') };
}

test('hello, put and get a file over the USB transport', async (t) => {
  const dir = tempDir(t);
  const ctx = await prepareAgent({ root: path.join(dir, 'root'), id: 'usb-dev-1', name: 'USB dock test', log: () => undefined });
  const { link } = await dock(t, ctx, 'U1');
  assert.equal(link.hello.id, 'usb-dev-1');
  assert.equal(link.port, 'usb 1209:d0c4 serial U1');
  const { data, file, sha256 } = payload(dir, 300_000);
  const saved = await link.putFile({ directory: '\\Apps', fileName: 'app.bin', sourceFile: file, size: data.length, sha256, offset: 0 });
  const back = await link.getFile(saved, data.length);
  assert.ok(back.equals(data), 'the bytes read back equal the bytes pushed');
});

test('unplugging mid-put closes the link in words, and a re-docked device resumes from its checkpoint', async (t) => {
  const dir = tempDir(t);
  const ctx = await prepareAgent({ root: path.join(dir, 'root'), id: 'usb-dev-2', name: 'USB dock test', log: () => undefined });
  const { data, file, sha256 } = payload(dir, 600_000);
  const first = await dock(t, ctx, 'U2');
  const closes: string[] = [];
  first.link.onClose((r) => closes.push(r));
  let unpluggedAt = -1;
  const put = first.link.putFile({
    directory: '\\Apps', fileName: 'big.bin', sourceFile: file, size: data.length, sha256, offset: 0,
    onProgress: (p) => {
      if (unpluggedAt < 0 && p.bytesDone >= 128 * 1024) {
        unpluggedAt = p.bytesDone;
        first.device.unplug();
      }
    },
  });
  await assert.rejects(put);
  assert.ok(unpluggedAt > 0, 'the cable was pulled during the transfer');
  await waitFor('the link to close', () => closes.length === 1);
  assert.match(closes[0]!, /USB device 1209:d0c4 \(serial U2\) was unplugged/);
  assert.match(await first.served, /cable was pulled/);

  const again = await dock(t, ctx, 'U2');
  const offset = await again.link.queryPutOffset('\\Apps', 'big.bin', data.length, sha256);
  assert.ok(offset > 0 && offset < data.length, `the device kept ${offset} of ${data.length} bytes`);
  // The agent lets go of the interrupted transfer once its last disk write settles, a moment after the
  // port closed; until then it answers BUSY (transient), which a station retries.
  const saved = await waitFor('the agent to accept the resumed put', async () => {
    try {
      return await again.link.putFile({ directory: '\\Apps', fileName: 'big.bin', sourceFile: file, size: data.length, sha256, offset });
    } catch (err) {
      if ((err as { detail?: { linkCode?: string } }).detail?.linkCode === 'BUSY') return undefined;
      throw err;
    }
  }, 10_000);
  assert.ok((await again.link.getFile(saved, data.length)).equals(data));
});
