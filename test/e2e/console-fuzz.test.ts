// Fuzzing the web console of a real `dockhand station --ui` process: thousands of generated messages
// (random bytes, random JSON, mutated valid requests, deep nesting, huge numbers, `__proto__` keys,
// binary and oversize frames, broken frames written on a raw socket, refused handshakes that reset).
// The station carries every docked device's session, so the contract is: each text frame gets exactly
// one answer or its connection is closed, and afterwards the same process still answers a valid request.
// A crash (an uncaught exception or unhandled rejection in the child) ends the process, which fails the
// test with its stderr. The seed is fixed so a failure can be replayed; DOCKHAND_FUZZ_SEED picks another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { SnapshotSchema, type WsMessage } from '../../shared/contract/station-api.js';
import { startDockhand, type Proc } from '../helpers/processes.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { rawExchange } from '../helpers/raw-http.js';

const SEED = Number(process.env.DOCKHAND_FUZZ_SEED ?? 20261202);
const MAX_MESSAGE = 64 * 1024; // the console's default frame limit

/** mulberry32: small, seedable, good enough to pick mutations. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}
type Rng = ReturnType<typeof rng>;

const KEYS = ['op', 'id', 'command', 'type', 'target', 'packageId', 'taskId', 'settings', 'path', 'rateLimit', 'allowCommands',
  'concurrency', 'serialPorts', 'usb', 'baudRate', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const NUMBERS = ['0', '-0', '1', '-1', '1e308', '-1e308', '1e400', '-1e400', '1e-400', '9007199254740993', '0.5', '4294967296', '1E2', '-2147483649'];

function randomString(r: Rng): string {
  const alphabets = ['abc/._-:|', '\u0000\u0001\u001f\u007f', 'é\u202e\u{1F600}\uFFFF', '\\"\'<>&%'];
  const len = r.pick([0, 1, 5, 40, 300, 5000]);
  let s = '';
  for (let i = 0; i < len; i++) s += r.pick([...r.pick(alphabets)]);
  return s;
}

/** Random JSON text: values of every type, nested, with keys that matter to the schemas and to prototypes. */
function randomJson(r: Rng, depth = 0): string {
  const k = r.int(depth > 4 ? 5 : 8);
  switch (k) {
    case 0: return 'null';
    case 1: return r.pick(['true', 'false']);
    case 2: return r.pick(NUMBERS);
    case 3: return String((r.next() - 0.5) * 10 ** r.int(20));
    case 4: return JSON.stringify(randomString(r));
    case 5: return `[${Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1)).join(',')}]`;
    default: return `{${Array.from({ length: r.int(6) }, () => `${JSON.stringify(r.next() < 0.8 ? r.pick(KEYS) : randomString(r))}:${randomJson(r, depth + 1)}`).join(',')}}`;
  }
}

/** Valid requests of every kind, aimed at the station's own target so they reach its sessions. */
function validRequests(station: string): Record<string, unknown>[] {
  const cmd = (command: Record<string, unknown>) => ({ op: 'execute', id: 1, command });
  return [
    { op: 'getSnapshot', id: 1 },
    cmd({ type: 'acceptPackage', target: station, packageId: 'F00D' }),
    cmd({ type: 'retryNow', target: station, taskId: `${station}|poll|` }),
    cmd({ type: 'cancelTask', target: station, taskId: `${station}|download|F00D` }),
    cmd({ type: 'pauseTransfer', target: station, packageId: 'F00D' }),
    cmd({ type: 'resumeTransfer', target: station, packageId: 'F00D' }),
    cmd({ type: 'updateSettings', settings: { rateLimit: 1024, allowCommands: false, concurrency: 2, pollIntervalMs: 60_000 } }),
    cmd({ type: 'updateSettings', settings: { baudRate: 9600, usb: [] } }),
    cmd({ type: 'addSerialPort', path: '/nonexistent/dockhand-fuzz-tty' }),
    cmd({ type: 'forgetSerialPort', path: '/nonexistent/dockhand-fuzz-tty' }),
    cmd({ type: 'forgetDevice', id: 'FUZZ-DEVICE' }),
  ];
}

/** One to three mutations of a valid request: values replaced, keys dropped or added, text cut or spliced. */
function mutate(r: Rng, base: Record<string, unknown>): string {
  const value = structuredClone(base) as Record<string, unknown>;
  for (let n = 1 + r.int(3); n > 0; n--) {
    let holder: Record<string, unknown> = value;
    while (r.next() < 0.6) {
      const inner = Object.values(holder).filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null);
      if (inner.length === 0) break;
      holder = r.pick(inner);
    }
    const keys = Object.keys(holder);
    const key = keys.length && r.next() < 0.7 ? r.pick(keys) : r.pick(KEYS);
    if (r.next() < 0.2) delete holder[key];
    else holder[key] = JSON.parse(randomJson(r)) as unknown;
  }
  let text = JSON.stringify(value);
  switch (r.int(8)) {
    case 0: return text.slice(0, r.int(text.length)); // cut short
    case 1: return `{"__proto__":{"allowCommands":true,"ok":false},${text.slice(1)}`;
    case 2: return text.replace('{', '{"constructor":{"prototype":{"op":"execute"}},');
    case 3: return text.replace(/\d+/, r.pick(NUMBERS));
    case 4: { // a random splice of the text
      const at = r.int(text.length);
      text = `${text.slice(0, at)}${r.pick([',', ':', '"', '}', ']', '\\', '{', randomJson(r)])}${text.slice(at)}`;
      return text;
    }
    default: return text;
  }
}

/** Nesting as deep as fits in one frame (JSON.parse and the schemas must not recurse into a stack overflow). */
function deeplyNested(r: Rng): string {
  const [open, close] = r.pick([['[', ']'], ['{"a":', '}']]);
  const depth = 1000 + r.int(Math.floor((MAX_MESSAGE - 200) / (open.length + close.length)) - 1000);
  const inner = open.repeat(depth) + '1' + close.repeat(depth);
  return r.next() < 0.5 ? inner : `{"op":"execute","id":7,"command":{"type":"updateSettings","settings":${inner}}}`;
}

/** A console client that counts answers (anything but the change stream). */
class Client {
  answers = 0;
  closed: Promise<number>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      if ((JSON.parse(d.toString('utf8')) as WsMessage).op !== 'change') this.answers += 1;
    });
    ws.on('error', () => undefined); // the console closing a connection on purpose is expected here
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }
  static async open(api: string, proc: Proc): Promise<Client> {
    const ws = new WebSocket(api);
    const died = proc.exited.then((code) => { throw new Error(`the station died (exit ${code}):\n${proc.err().slice(-3000)}`); });
    const opened = new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', (err) => reject(new Error(`the console no longer accepts connections (${err.message}); the station's stderr ends:\n${proc.err().slice(-3000)}`)));
    });
    await Promise.race([opened, died]);
    return new Client(ws);
  }
  /** Sends text frames and waits for one answer each. */
  async exchange(proc: Proc, frames: (string | Buffer)[], binary = false): Promise<void> {
    const want = this.answers + frames.length;
    for (const f of frames) this.ws.send(f, { binary });
    const shut = this.closed.then((code) => { throw new Error(`the console closed the connection (${code}) on one of: ${frames.map((f) => String(f).slice(0, 80)).join(' | ')}`); });
    await Promise.race([waitForOrDeath(proc, `${frames.length} answers`, () => this.answers >= want), shut]);
  }
}

async function waitForOrDeath(proc: Proc, what: string, check: () => boolean): Promise<void> {
  const died = proc.exited.then((code) => { throw new Error(`the station died (exit ${code}) while waiting for ${what}:\n${proc.err().slice(-3000)}`); });
  await Promise.race([waitFor(what, check, 30_000, 2), died]);
}

/** A client frame (masked) with chosen opcode and flags, for violations the ws client will not send. */
function frame(opcode: number, payload: Buffer, { fin = true, rsv = 0, mask = true } = {}): Buffer {
  const len = payload.length;
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else head.push(m | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff);
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([Buffer.from(head), key, Buffer.from(payload.map((b, i) => b ^ (key[i % 4] as number)))]);
}

/** A raw handshake, then `bytes`, then our end of the connection closed; resolves when the socket closes. */
function rawSocket(port: number, bytes: Buffer, reset: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET /api HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    let upgraded = false;
    socket.on('data', (d: Buffer) => {
      if (upgraded) return;
      upgraded = true;
      assert.match(d.toString('latin1'), /^HTTP\/1\.1 101 /);
      socket.write(bytes);
      if (reset) socket.resetAndDestroy();
      else socket.end();
    });
    socket.on('error', (err) => { if (!upgraded) reject(new Error(`no handshake with the console: ${err.message}`)); });
    socket.on('close', () => resolve());
  });
}

/** A handshake the console refuses (foreign Host), answered by a reset the moment the refusal arrives. */
function refusedThenReset(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET /api HTTP/1.1\r\nHost: ${host}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'));
    let answered = false;
    socket.once('data', () => { answered = true; socket.resetAndDestroy(); });
    socket.on('error', (err) => { if (!answered) reject(new Error(`the console did not answer a handshake: ${err.message}`)); });
    socket.on('close', () => resolve());
  });
}

test(`the console survives thousands of hostile messages and still answers (seed ${SEED})`, async (t) => {
  const dir = tempDir(t);
  const proc = startDockhand(t, ['station', '--data', path.join(dir, 'station'), '--server', 'http://127.0.0.1:9/devicemgmt/server.aspx', '--ui']);
  const url = await waitFor('the web console URL', () => /web console: (http:\/\/\S+)/.exec(proc.out())?.[1], 60_000);
  const port = Number(new URL(url).port);
  const api = `ws://127.0.0.1:${port}/api`;
  const r = rng(SEED);
  const counts: Record<string, number> = {};
  const count = (kind: string, n = 1) => { counts[kind] = (counts[kind] ?? 0) + n; };

  const client = await Client.open(api, proc);
  t.after(() => client.ws.terminate());
  const first = new Promise<WsMessage>((resolve) => client.ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString('utf8')) as WsMessage)));
  client.ws.send(JSON.stringify({ op: 'getSnapshot', id: 1 }));
  const snap = await first;
  assert.equal(snap.op, 'snapshot');
  const templates = validRequests(snap.op === 'snapshot' ? snap.snapshot.station.id : '');

  // 1. well-formed UTF-8 text of every shape, in batches of eight, one answer each
  const batch: string[] = [];
  const flush = async () => {
    await client.exchange(proc, batch.splice(0));
  };
  const kinds: [string, () => string][] = [
    ['mutated request', () => mutate(r, r.pick(templates))],
    ['random JSON', () => randomJson(r)],
    ['random text', () => r.bytes(1 + r.int(200)).toString('latin1')],
    ['deep nesting', () => deeplyNested(r)],
    ['valid request', () => JSON.stringify(r.pick(templates))],
  ];
  for (let i = 0; i < 4000; i++) {
    const [kind, make] = r.pick([0, 0, 0, 0, 0, 1, 1, 2, 3, 4].map((k) => kinds[k]!));
    let text = make();
    while (Buffer.byteLength(text) > MAX_MESSAGE) text = make(); // oversize frames have their own part below
    batch.push(text);
    count(kind);
    if (batch.length === 8) await flush();
  }
  await flush();
  // binary frames are answered, not read as text
  await client.exchange(proc, Array.from({ length: 200 }, () => r.bytes(r.int(300))), true);
  count('binary frame', 200);

  // 2. frames that must close their connection: bad UTF-8, oversize (whole or in fragments)
  for (let i = 0; i < 150; i++) {
    const c = await Client.open(api, proc);
    const kind = i % 3;
    if (kind === 0) c.ws.send(Buffer.concat([Buffer.from('{"op":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), r.bytes(r.int(50))]), { binary: false });
    else if (kind === 1) c.ws.send('x'.repeat(MAX_MESSAGE + 1 + r.int(10_000)));
    else {
      for (let n = 0; n < 5; n++) c.ws.send('y'.repeat(MAX_MESSAGE / 4), { fin: false });
      c.ws.send('}', { fin: true });
    }
    count(['bad UTF-8', 'oversize frame', 'oversize fragments'][kind] as string);
    const code = await c.closed;
    assert.ok([1007, 1009].includes(code), `the console closed a connection with ${code}`);
  }

  // 3. broken frames on a raw socket: random bytes, reserved bits, unknown opcodes, unmasked frames,
  //    oversize control frames, bad close codes; half of them followed by a reset
  const violations = (): Buffer => {
    switch (r.int(7)) {
      case 0: return r.bytes(1 + r.int(400));
      case 1: return frame(1, Buffer.from('{"op":"getSnapshot","id":1}'), { rsv: 1 + r.int(7) });
      case 2: return frame(r.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), r.bytes(r.int(20)));
      case 3: return frame(1, Buffer.from('{"op":"getSnapshot","id":1}'), { mask: false });
      case 4: return frame(9, r.bytes(126 + r.int(100)));
      case 5: return frame(8, Buffer.from([r.int(256), r.int(256), ...r.bytes(r.int(10))]));
      default: return Buffer.concat([frame(1, Buffer.from('{"op":'), { fin: false }), frame(1, Buffer.from('1}'), { fin: false }), frame(2, r.bytes(5))]);
    }
  };
  for (let i = 0; i < 300; i++) {
    await rawSocket(port, violations(), i % 2 === 0);
    count('broken frame on a raw socket');
  }
  for (let i = 0; i < 50; i++) {
    await refusedThenReset(port, r.pick(['evil.example', `127.0.0.1:${port + 1}`, '']));
    count('refused handshake, then reset');
  }
  // 4. page requests the old console choked on
  for (const target of ['//', '//x', '/%', '/%zz', '*', 'http://x/', `/${'a/'.repeat(2000)}`]) {
    const reply = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    assert.match(reply, /^HTTP\/1\.1 4\d\d /, `GET ${target}`);
    count('odd page request');
  }

  assert.equal(proc.child.exitCode, null, `the station exited:\n${proc.err().slice(-3000)}`);
  assert.equal(proc.child.signalCode, null);
  const after = await Client.open(api, proc);
  t.after(() => after.ws.terminate());
  const answer = new Promise<WsMessage>((resolve) => after.ws.on('message', (d: Buffer) => {
    const m = JSON.parse(d.toString('utf8')) as WsMessage;
    if (m.op !== 'change') resolve(m);
  }));
  after.ws.send(JSON.stringify({ op: 'getSnapshot', id: 99 }));
  const last = await answer;
  assert.ok(last.op === 'snapshot' && last.id === 99, 'the station still answers a valid request');
  SnapshotSchema.parse(last.snapshot);
  assert.doesNotMatch(proc.err(), /Unhandled|uncaught|TypeError|RangeError/i);
  t.diagnostic(`seed ${SEED}: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`);
});
