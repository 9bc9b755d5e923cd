// The station's DeviceLink against scripted devices over an in-memory cable: negotiation, and a device
// that lies (wrong offsets, oversized frames and messages, endless output, files over the limit, bad
// hashes), a damaged or noisy line, an unplug, silence. Every failure must be a DockhandError, LINK for
// the link and for a misbehaving device, and nothing may hang.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { openDeviceLink, type DeviceLinkOptions } from '../../electron/link/link-client.js';
import { memoryCable, type MemoryCableOptions } from '../../electron/link/link-memory.js';
import type { Transport } from '../../electron/link/transport.js';
import type { ReliableChannel } from '../../shared/link/channel.js';
import { LinkEndpoint } from '../../shared/link/endpoint.js';
import { FrameReader } from '../../shared/link/frame-reader.js';
import { encodeFrame, FrameType } from '../../shared/link/frame.js';
import { CAPABILITIES, HelloBody, type Hello } from '../../shared/link/hello.js';
import { decodeMessage, encodeChunk, encodeJsonMessage, MessageType, parseJsonBody, type Message } from '../../shared/link/messages.js';
import { systemTimers } from '../../shared/link/timers.js';
import { DockhandError } from '../../shared/model/errors.js';
import { tempDir } from '../helpers/tmp.js';

const identity = { id: 'FAKE-1', name: 'liar', platform: 'test 1.0 x64', processor: '8664', codePage: 65001, lcid: 1033 };

interface Fake {
  session(): number;
  reply(type: MessageType, id: number, body: unknown): void;
  /** Sends a message as is (file chunks); a failure after the test ended is of no interest. */
  send(message: Uint8Array): void;
}

type Script = (m: Message, dev: Fake) => void;

/** A device speaking the protocol as scripted: `hello` shapes HELLO_REPLY, `onMessage` answers requests. */
function fakeDevice(t: Transport, script: { hello?: (h: Hello) => unknown; onMessage?: Script; maxMessage?: number; maxPayload?: number }): Fake {
  let channel: ReliableChannel | undefined;
  let session = 0;
  const dev: Fake = {
    session: () => session,
    reply: (type, id, body) => void channel!.send(encodeJsonMessage(type, id, body)).catch(() => undefined),
    send: (message) => void channel!.send(message).catch(() => undefined),
  };
  const endpoint: LinkEndpoint = new LinkEndpoint({
    timers: systemTimers,
    write: (b) => t.write(b),
    peer: 'the station',
    resetUnknownSessions: true,
    onHandshake: (frame) => {
      if (frame.type !== FrameType.HELLO) return;
      const hello = HelloBody.parse(parseJsonBody(frame.payload));
      const answer = script.hello?.(hello) ?? {
        version: 1, maxPayload: hello.maxPayload, window: hello.window, maxMessage: hello.maxMessage, caps: [...CAPABILITIES], agent: 'fake 1', device: identity,
      };
      if (answer === 'silent') return;
      session = frame.session;
      const a = answer as { maxPayload?: number; window?: number; maxMessage?: number };
      channel = endpoint.startSession(
        {
          session, keepAliveMs: hello.keepAliveMs, window: a.window ?? hello.window,
          maxPayload: script.maxPayload ?? a.maxPayload ?? hello.maxPayload, maxMessage: script.maxMessage ?? a.maxMessage ?? hello.maxMessage,
        },
        {
          onMessage: (bytes) => {
            const m = decodeMessage(bytes)!;
            if (m.type === MessageType.BYE) return dev.reply(MessageType.BYE_REPLY, m.id, {});
            script.onMessage?.(m, dev);
          },
          onClosed: () => undefined,
        },
      );
      void endpoint.sendUnsequenced(FrameType.HELLO_REPLY, session, new TextEncoder().encode(JSON.stringify(answer)));
    },
  });
  t.onData((b) => endpoint.receive(b));
  t.onClose(() => endpoint.endSession('unplugged'));
  return dev;
}

type After = { after(fn: () => unknown): void };

/** A link to a fake device; both ends are closed when the test ends, so no keep-alive timer outlives it. */
async function open(
  t: After,
  script: Parameters<typeof fakeDevice>[1],
  opts: DeviceLinkOptions = {},
  cableOpts: MemoryCableOptions = {},
) {
  const cable = memoryCable({ labels: ['/dev/ttyTEST', 'device'], ...cableOpts });
  const dev = fakeDevice(cable.b, script);
  t.after(() => cable.unplug('the test ended'));
  // A 1024-byte offer unless a test says otherwise (a memory cable has no line rate, so the station would offer 4096).
  const link = await openDeviceLink(cable.a, { helloTimeoutMs: 2000, requestTimeoutMs: 2000, maxPayload: 1024, ...opts });
  t.after(() => link.close());
  const closes: string[] = [];
  link.onClose((r) => closes.push(r));
  return { cable, dev, link, closes };
}

const isLink = (pattern: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof DockhandError, `a DockhandError, not ${String(err)}`);
  assert.equal(err.code, 'LINK', err.message);
  assert.match(err.message, pattern);
  return true;
};

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('the hello gives the identity and the smaller of each limit', async (t) => {
  const { link } = await open(t, { hello: () => ({ version: 1, maxPayload: 256, window: 4, maxMessage: 65536, caps: ['inventory'], agent: 'fake 2', device: { ...identity, network: { ipAddress: '10.0.0.7', mac: '02-00-00-00-00-01' } } }) }, { maxPayload: 2048 });
  assert.deepEqual(
    { ...link.hello },
    { ...identity, network: { ipAddress: '10.0.0.7', mac: '02-00-00-00-00-01' }, agentVersion: 'fake 2', protocolVersion: 1, maxPayload: 256, window: 4 },
  );
  assert.equal(link.port, '/dev/ttyTEST');
  await assert.rejects(link.runCommand('x', '\\', 1000), isLink(/cannot run commands: its agent does not offer 'run'/));
});

test('a version mismatch is refused in words that say what to update', async (t) => {
  const refusal = { error: { code: 'VERSION_UNSUPPORTED', message: 'device speaks 2' }, versions: [2] };
  await assert.rejects(
    open(t, { hello: () => refusal }),
    isLink(/the device on \/dev\/ttyTEST speaks link protocol version 2, this station speaks 1: update the device agent or the station/),
  );
  await assert.rejects(open(t, { hello: () => ({ ...refusal, error: { code: 'BUSY', message: 'another station is connected' } }) }), isLink(/refused the connection: another station is connected \(BUSY\)/));
});

test('a hello answer beyond the offer, malformed, or missing fails with LINK', async (t) => {
  const base = { version: 1, maxPayload: 1024, window: 8, maxMessage: 65536, caps: [], agent: 'x', device: identity };
  await assert.rejects(open(t, { hello: () => ({ ...base, maxPayload: 4096 }) }), isLink(/chose frames of 4096 bytes, more than the 1024 offered/));
  await assert.rejects(open(t, { hello: () => ({ ...base, window: 16 }) }), isLink(/window of 16 frames, more than the 8 offered/));
  await assert.rejects(open(t, { hello: () => ({ ...base, version: 3 }) }), isLink(/version 3, which the station did not offer/));
  await assert.rejects(open(t, { hello: () => ({ ...base, device: { id: '' } }) }), isLink(/malformed HELLO_REPLY \(device/));
  await assert.rejects(open(t, { hello: () => 'silent' }, { helloTimeoutMs: 300 }), isLink(/no answer to HELLO from \/dev\/ttyTEST within 0\.3 s: check that the device agent is running/));
});

test('an offset beyond the file, or a resume at another byte than asked, is refused', async (t) => {
  const dir = tempDir(t);
  const data = randomBytes(5000);
  const file = path.join(dir, 'f');
  writeFileSync(file, data);
  const { link, closes } = await open(t, {
    onMessage: (m, dev) => {
      if (m.type === MessageType.PUT_QUERY) dev.reply(MessageType.PUT_QUERY_REPLY, m.id, { offset: 9000 });
      if (m.type === MessageType.PUT_BEGIN) dev.reply(MessageType.PUT_BEGIN_REPLY, m.id, { offset: 100 });
    },
  });
  await assert.rejects(link.queryPutOffset('\\t', 'f', 5000, sha(data)), isLink(/claims to hold 9000 bytes of f, which has only 5000; it is not following the link protocol/));
  await assert.rejects(
    link.putFile({ directory: '\\t', fileName: 'f', sourceFile: file, size: 5000, sha256: sha(data), offset: 0 }),
    isLink(/offered to resume f at byte 100 when asked for byte 0/),
  );
  assert.deepEqual(closes, []);
});

test('a frame longer than agreed ends the link; pending calls reject with LINK and onClose fires', async (t) => {
  const { link, closes, cable } = await open(t, {
    onMessage: (m, dev) => {
      // A well-formed DATA frame (CRC and all) three times the agreed payload, acknowledging the request.
      const frame = encodeFrame({ type: FrameType.DATA, flags: 0, session: dev.session(), seq: 0, ack: 1, payload: new Uint8Array(3000) });
      if (m.type === MessageType.MACHINE_INVENTORY) void cable.b.write(frame);
    },
  });
  await assert.rejects(link.machineInventory(), isLink(/sent a frame of 3\d\d\d bytes, over the agreed 1024 \(link protocol error\)/));
  assert.equal(closes.length, 1);
  assert.equal(link.closed, true);
  await assert.rejects(link.machineInventory(), isLink(/is closed/));
});

test('endless output: a reply without end is cut off at the agreed message size, a long one is capped', async (t) => {
  const endless = await open(t, {
    maxMessage: 64 * 1024 * 1024,
    onMessage: (m, dev) => {
      if (m.type === MessageType.RUN) dev.reply(MessageType.RUN_REPLY, m.id, { exitCode: 0, signal: null, output: 'y\n'.repeat(300_000), outputTruncated: false, durationMs: 1 });
    },
  }, { maxMessage: 65536 });
  await assert.rejects(endless.link.runCommand('yes', '\\', 5000), isLink(/a message of more than 65536 bytes, over the agreed limit/));

  const long = await open(t, {
    onMessage: (m, dev) => {
      if (m.type === MessageType.RUN) dev.reply(MessageType.RUN_REPLY, m.id, { exitCode: 0, signal: null, output: 'z'.repeat(50_000), outputTruncated: false, durationMs: 1 });
    },
  }, { maxOutputBytes: 1000 });
  const r = await long.link.runCommand('yes', '\\', 5000);
  assert.equal(r.output.length, 1000);
  assert.equal(r.outputTruncated, true);
});

test('getFile refuses a size over the limit, wrong offsets, extra bytes and a wrong hash', async (t) => {
  const content = Buffer.from('collected file content');
  const lies: Record<string, (id: number, dev: Fake) => void> = {
    '\\big': (id, dev) => dev.reply(MessageType.GET_FILE_REPLY, id, { size: 10_000_000 }),
    '\\offset': (id, dev) => {
      dev.reply(MessageType.GET_FILE_REPLY, id, { size: content.length });
      dev.send(encodeChunk(MessageType.GET_DATA, id, 5, content));
    },
    '\\extra': (id, dev) => {
      dev.reply(MessageType.GET_FILE_REPLY, id, { size: 4 });
      dev.send(encodeChunk(MessageType.GET_DATA, id, 0, content));
    },
    '\\hash': (id, dev) => {
      dev.reply(MessageType.GET_FILE_REPLY, id, { size: content.length });
      dev.send(encodeChunk(MessageType.GET_DATA, id, 0, content));
      dev.reply(MessageType.GET_END, id, { sha256: sha(Buffer.from('other')) });
    },
    '\\good': (id, dev) => {
      dev.reply(MessageType.GET_FILE_REPLY, id, { size: content.length });
      dev.send(encodeChunk(MessageType.GET_DATA, id, 0, content.subarray(0, 10)));
      dev.send(encodeChunk(MessageType.GET_DATA, id, 10, content.subarray(10)));
      dev.reply(MessageType.GET_END, id, { sha256: sha(content) });
    },
  };
  const script: Script = (m, dev) => {
    if (m.type === MessageType.GET_FILE) lies[(parseJsonBody(m.body) as { path: string }).path]!(m.id, dev);
  };
  const a = await open(t, { onMessage: script });
  assert.ok((await a.link.getFile('\\good', 1000)).equals(content));
  await assert.rejects(a.link.getFile('\\big', 1_000_000), isLink(/announced \\big as 10000000 bytes, over the limit of 1000000/));
  await assert.rejects(a.link.getFile('\\hash', 1000), isLink(/do not match the SHA-256 it reported/));
  assert.equal(a.link.closed, false, 'refusals so far leave the link up');
  await assert.rejects(a.link.getFile('\\offset', 1000), isLink(/sent \\offset at offset 5 where byte 0 was next/));
  const b = await open(t, { onMessage: script });
  await assert.rejects(b.link.getFile('\\extra', 1000), isLink(/sent more of \\extra than the 4 bytes it announced/));
});

test('a reply of the wrong type or shape is a protocol error; an ERROR keeps its meaning', async (t) => {
  const { link } = await open(t, {
    onMessage: (m, dev) => {
      if (m.type === MessageType.REMOVE_FILE) dev.reply(MessageType.ERROR, m.id, { code: 'PATH_REFUSED', message: "the device path '\\..' climbs up" });
      if (m.type === MessageType.LIST_FILES) dev.reply(MessageType.LIST_FILES_REPLY, m.id, { report: { Directories: 'nope' }, truncated: false, warnings: [] });
    },
  });
  await assert.rejects(link.removeFile('\\..'), (err: unknown) => err instanceof DockhandError && err.code === 'PATH_REFUSED' && /could not remove \\\.\.: the device path/.test(err.message));
  await assert.rejects(link.listFiles([]), isLink(/sent a malformed LIST_FILES_REPLY \(report\.Directories: /));
  assert.equal(link.closed, true);

  const wrong = await open(t, { onMessage: (m, dev) => dev.reply(MessageType.RUN_REPLY, m.id, {}) });
  await assert.rejects(wrong.link.machineInventory(), isLink(/answered 'report its machine inventory' with RUN_REPLY instead of MACHINE_INVENTORY_REPLY/));
});

test('a device that never answers times the request out; the link stays up', async (t) => {
  const { link } = await open(t, {}, { requestTimeoutMs: 300 });
  await assert.rejects(link.machineInventory(), isLink(/did not answer 'report its machine inventory' within 0\.3 s; it may be busy or hung/));
  assert.equal(link.closed, false);
});

test('damaged frames and garbage on the line are recovered from', async (t) => {
  let chunks = 0;
  const tamper = (bytes: Uint8Array, from: 'a' | 'b') => {
    if (from !== 'b') return bytes;
    chunks++;
    if (chunks % 3 === 0) {
      const bad = bytes.slice();
      bad[Math.floor(bad.length / 2)]! ^= 0x08; // CRC must catch it
      return bad;
    }
    if (chunks % 3 === 1) return Buffer.concat([Buffer.from('\x7f\x01garbage\xff\x00\x00noise'), bytes]);
    return bytes;
  };
  const { link } = await open(t, {
    onMessage: (m, dev) => {
      if (m.type === MessageType.MACHINE_INVENTORY) {
        dev.reply(MessageType.MACHINE_INVENTORY_REPLY, m.id, { inventory: { type: 'Device', Items: [{ name: 'Device_System', Properties: [{ name: 'p', value: 'v'.repeat(3000) }] }] } });
      }
    },
  }, { requestTimeoutMs: 30_000 }, { tamper });
  const inventory = await link.machineInventory();
  assert.equal(inventory.Items[0]!.Properties[0]!.value.length, 3000);
  assert.ok(chunks >= 3, 'the line damaged some frames');
});

test('unplugging mid-transfer rejects the put at once and fires onClose', async (t) => {
  const dir = tempDir(t);
  const data = randomBytes(400_000);
  const file = path.join(dir, 'f');
  writeFileSync(file, data);
  const o = await open(t, {
    onMessage: (m, dev) => {
      if (m.type === MessageType.PUT_BEGIN) dev.reply(MessageType.PUT_BEGIN_REPLY, m.id, { offset: 0 });
    },
  });
  const put = o.link.putFile({
    directory: '\\t', fileName: 'f', sourceFile: file, size: data.length, sha256: sha(data), offset: 0,
    onProgress: (p) => p.bytesDone > 100_000 && o.cable.unplug('the cable was pulled'),
  });
  await assert.rejects(put, isLink(/the connection to the device on \/dev\/ttyTEST was lost: the cable was pulled/));
  assert.deepEqual(o.closes, ['the connection to the device on /dev/ttyTEST was lost: the cable was pulled']);
});

test('a silent device is declared gone after four keep-alive periods', async (t) => {
  let mute = false;
  const { link, closes } = await open(t, {}, { keepAliveMs: 100 }, { tamper: (b, from) => (from === 'b' && mute ? undefined : b) });
  mute = true;
  const pending = link.machineInventory();
  await assert.rejects(pending, isLink(/nothing heard from the device on \/dev\/ttyTEST for [\d.]+ s: it was unplugged, powered off or stopped/));
  assert.equal(closes.length, 1);
});

test('cancelling a put stops the stream and tells the device', async (t) => {
  const dir = tempDir(t);
  const data = randomBytes(300_000);
  const file = path.join(dir, 'f');
  writeFileSync(file, data);
  const cancelled: number[] = [];
  const { link } = await open(t, {
    onMessage: (m, dev) => {
      if (m.type === MessageType.PUT_BEGIN) dev.reply(MessageType.PUT_BEGIN_REPLY, m.id, { offset: 0 });
      if (m.type === MessageType.CANCEL) cancelled.push(m.id);
    },
  });
  const controller = new AbortController();
  await assert.rejects(
    link.putFile({
      directory: '\\t', fileName: 'f', sourceFile: file, size: data.length, sha256: sha(data), offset: 0, signal: controller.signal,
      onProgress: (p) => p.bytesDone > 50_000 && controller.abort(),
    }),
    (err: unknown) => err instanceof DockhandError && err.code === 'CANCELLED',
  );
  await link.close();
  assert.equal(cancelled.length, 1, 'one CANCEL, for the put');
});

test('the station ignores frames of a session it does not have (only a device answers them with RESET)', async () => {
  const seen: number[] = [];
  const cable = memoryCable();
  cable.b.onData((bytes) => new FrameReader((f) => seen.push(f.type)).push(bytes));
  const linkPromise = openDeviceLink(cable.a, { helloTimeoutMs: 200 });
  await cable.b.write(encodeFrame({ type: FrameType.KEEPALIVE, flags: 0, session: 77, seq: 0, ack: 0, payload: new Uint8Array(0) }));
  await assert.rejects(linkPromise, isLink(/no answer to HELLO/));
  assert.ok(seen.length > 0 && seen.every((type) => type === FrameType.HELLO), 'only HELLOs, no RESET');
});

test('an answer over the station\'s item limits fails that request only, in words; the link stays up', async (t) => {
  let items = 5000;
  const { link } = await open(t, {
    onMessage: (m, dev) => {
      if (m.type !== MessageType.MACHINE_INVENTORY) return;
      dev.reply(MessageType.MACHINE_INVENTORY_REPLY, m.id, {
        inventory: { type: 'machine', Items: Array.from({ length: items }, (_, i) => ({ name: 'Device_FileSystem', Properties: [{ name: 'Name', value: `v${i}` }] })) },
      });
    },
  }, { maxMessage: 4 * 1024 * 1024 });
  await assert.rejects(link.machineInventory(),
    isLink(/answered 'report its machine inventory' with a machine inventory of 5,000 items; the station takes at most 4,096 \(docs\/link-protocol\.md §6\.2\)/));
  assert.equal(link.closed, false, 'a device over a limit is not a protocol violation');
  items = 3;
  assert.equal((await link.machineInventory()).Items.length, 3);
});
