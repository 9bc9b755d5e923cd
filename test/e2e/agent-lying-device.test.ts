// A device that lies, over a real pseudo-terminal pair: a tiny fake device in this test speaks the protocol
// but answers wrongly (impossible offsets, a frame far beyond the agreed size, output that never ends, a
// file over the limit). The station must fail each call with LINK in plain words: no hang, no crash.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { openDeviceLink } from '../../electron/link/link-client.js';
import { openSerialTransport } from '../../electron/link/serial.js';
import type { ReliableChannel } from '../../shared/link/channel.js';
import { LinkEndpoint } from '../../shared/link/endpoint.js';
import { encodeFrame, FrameFlag, FrameType } from '../../shared/link/frame.js';
import { CAPABILITIES, HelloBody } from '../../shared/link/hello.js';
import { decodeMessage, encodeJsonMessage, encodeMessage, MessageType, parseJsonBody, type Message } from '../../shared/link/messages.js';
import { systemTimers } from '../../shared/link/timers.js';
import { DockhandError } from '../../shared/model/errors.js';
import { ptyPair } from '../helpers/pty.js';
import { tempDir } from '../helpers/tmp.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const identity = { id: 'LIAR-1', name: 'liar', platform: 'fake 1.0', processor: '0', codePage: 65001, lcid: 1033 };

test('a lying device gets LINK errors, never a hang', async (t) => {
  const dir = tempDir(t);
  const pair = await ptyPair(t, dir);
  const device = await openSerialTransport(pair.b, { baudRate: 115200 });
  t.after(() => device.close());

  // The liar: a real endpoint for HELLO and replies, plus raw frames where it breaks the rules.
  let channel: ReliableChannel | undefined;
  let session = 0;
  const reply = (type: MessageType, m: Message, body: unknown) => void channel!.send(encodeJsonMessage(type, m.id, body)).catch(() => undefined);
  const lie = (m: Message): void => {
    switch (m.type) {
      case MessageType.PUT_QUERY:
        return reply(MessageType.PUT_QUERY_REPLY, m, { offset: 1e9 }); // holds more than the file has
      case MessageType.PUT_BEGIN:
        return reply(MessageType.PUT_BEGIN_REPLY, m, { offset: 4096 }); // resumes where nobody asked
      case MessageType.GET_FILE:
        return reply(MessageType.GET_FILE_REPLY, m, { size: 2 ** 40 }); // a terabyte
      case MessageType.RUN: {
        // output that never ends: one message whose frames all say MORE, as long as the link lives
        const params = channel!.params as { maxMessage: number };
        params.maxMessage = 2 ** 30;
        const chunk = encodeMessage(MessageType.RUN_REPLY, m.id, Buffer.alloc(900 * 1024, 'y'));
        return void channel!.send(chunk).catch(() => undefined);
      }
      case MessageType.MACHINE_INVENTORY: {
        // a frame three times the agreed payload, CRC and all correct
        const frame = encodeFrame({ type: FrameType.DATA, flags: FrameFlag.MORE, session, seq: 0, ack: 1, payload: new Uint8Array(3000) });
        return void device.write(frame);
      }
      case MessageType.BYE:
        return reply(MessageType.BYE_REPLY, m, {});
    }
  };
  const endpoint: LinkEndpoint = new LinkEndpoint({
    timers: systemTimers,
    write: (b) => device.write(b),
    peer: 'the station',
    resetUnknownSessions: true,
    onHandshake: (frame) => {
      if (frame.type !== FrameType.HELLO) return;
      const hello = HelloBody.parse(parseJsonBody(frame.payload));
      session = frame.session;
      channel = endpoint.startSession(
        { session, maxPayload: hello.maxPayload, window: hello.window, maxMessage: hello.maxMessage, keepAliveMs: hello.keepAliveMs },
        { onMessage: (bytes) => lie(decodeMessage(bytes)!), onClosed: () => undefined },
      );
      const answer = { version: 1, maxPayload: hello.maxPayload, window: hello.window, maxMessage: hello.maxMessage, caps: [...CAPABILITIES], agent: 'liar', device: identity };
      void endpoint.sendUnsequenced(FrameType.HELLO_REPLY, session, Buffer.from(JSON.stringify(answer)));
    },
  });
  device.onData((b) => endpoint.receive(b));
  t.after(() => endpoint.endSession('the test ended'));

  const connect = async () => {
    const link = await openDeviceLink(await openSerialTransport(pair.a, { baudRate: 115200 }), { requestTimeoutMs: 5000, maxMessage: 64 * 1024, maxPayload: 1024 });
    t.after(() => link.close());
    return link;
  };
  const linkError = (pattern: RegExp) => (err: unknown) => {
    assert.ok(err instanceof DockhandError && err.code === 'LINK', String(err));
    assert.match(err.message, pattern);
    return true;
  };

  const data = randomBytes(10_000);
  const source = path.join(dir, 'f.bin');
  writeFileSync(source, data);
  const link = await connect();
  assert.equal(link.hello.id, 'LIAR-1');
  await assert.rejects(link.queryPutOffset('\\t', 'f.bin', data.length, sha(data)), linkError(/claims to hold 1000000000 bytes of f\.bin, which has only 10000/));
  await assert.rejects(
    link.putFile({ directory: '\\t', fileName: 'f.bin', sourceFile: source, size: data.length, sha256: sha(data), offset: 0 }),
    linkError(/offered to resume f\.bin at byte 4096 when asked for byte 0/),
  );
  await assert.rejects(link.getFile('\\log.txt', 1024 * 1024), linkError(/announced \\log\.txt as 1099511627776 bytes, over the limit of 1048576/));
  assert.equal(link.closed, false, 'answers that are only wrong leave the link up');
  await assert.rejects(link.runCommand('yes', '\\', 10_000), linkError(/sent a message of more than 65536 bytes, over the agreed limit \(link protocol error\)/));
  assert.equal(link.closed, true, 'a device breaking the framing rules is disconnected');

  const again = await connect();
  await assert.rejects(again.machineInventory(), linkError(/sent a frame of 3000 bytes, over the agreed 1024/));
  assert.equal(again.closed, true);
});
