// The reliable channel over an in-memory line that loses, damages, duplicates and reorders frames. Time is
// a manual clock: retransmission and dead-peer rules run without any wall-clock wait.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChannelParams, ReliableChannel } from '../../shared/link/channel.js';
import { LinkEndpoint } from '../../shared/link/endpoint.js';
import { encodeFrame, FrameType } from '../../shared/link/frame.js';
import { ManualTimers } from '../../shared/link/timers.js';
import { DockhandError } from '../../shared/model/errors.js';

type Dir = 'ab' | 'ba';
/** What the line does to one written frame: pass it, drop it, damage it, hold it back, or duplicate it. */
type Fate = 'pass' | 'drop' | 'damage' | 'hold' | 'twice';

interface Line {
  timers: ManualTimers;
  a: LinkEndpoint;
  b: LinkEndpoint;
  chA: ReliableChannel;
  chB: ReliableChannel;
  gotA: Uint8Array[];
  gotB: Uint8Array[];
  closedA: string[];
  closedB: string[];
  written: Record<Dir, number[]>; // byte counts of every write, per direction
  settle(): Promise<void>;
  inject(dir: Dir, bytes: Uint8Array): void;
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));

interface LineOptions {
  window?: number;
  maxPayload?: number;
  maxMessage?: number;
  fate?: (dir: Dir, n: number, bytes: Uint8Array) => Fate;
  /** Overrides for one side's channel parameters: a peer that disagrees, or other timing. */
  a?: Partial<ChannelParams>;
  b?: Partial<ChannelParams>;
}

function line(opts: LineOptions = {}): Line {
  const timers = new ManualTimers();
  const queues: Record<Dir, Uint8Array[]> = { ab: [], ba: [] };
  const heldBack: Record<Dir, Uint8Array[]> = { ab: [], ba: [] };
  const counts: Record<Dir, number> = { ab: 0, ba: 0 };
  const written: Record<Dir, number[]> = { ab: [], ba: [] };
  const write = (dir: Dir) => async (bytes: Uint8Array) => {
    written[dir].push(bytes.length);
    const fate = opts.fate?.(dir, counts[dir]++, bytes) ?? 'pass';
    const copy = bytes.slice();
    if (fate === 'drop') return;
    if (fate === 'damage') copy[Math.floor(copy.length / 2)]! ^= 0x40;
    if (fate === 'hold') return void heldBack[dir].push(copy);
    queues[dir].push(copy);
    if (fate === 'twice') queues[dir].push(copy);
    // a held frame goes out after the next one: reordering
    queues[dir].push(...heldBack[dir].splice(0));
  };
  const mk = (dir: Dir, peer: string) => new LinkEndpoint({ timers, write: write(dir), peer, onHandshake: () => undefined, resetUnknownSessions: true });
  const a = mk('ab', 'the device');
  const b = mk('ba', 'the station');
  const gotA: Uint8Array[] = [];
  const gotB: Uint8Array[] = [];
  const closedA: string[] = [];
  const closedB: string[] = [];
  const params = { session: 5, window: opts.window ?? 8, maxPayload: opts.maxPayload ?? 64, maxMessage: opts.maxMessage ?? 64 * 1024 };
  const chA = a.startSession({ ...params, ...opts.a }, { onMessage: (m) => gotA.push(m), onClosed: (r) => closedA.push(r) });
  const chB = b.startSession({ ...params, ...opts.b }, { onMessage: (m) => gotB.push(m), onClosed: (r) => closedB.push(r) });
  const settle = async () => {
    for (let i = 0; i < 10_000; i++) {
      await nextTick();
      if (queues.ab.length === 0 && queues.ba.length === 0) return;
      for (const bytes of queues.ab.splice(0)) b.receive(bytes);
      for (const bytes of queues.ba.splice(0)) a.receive(bytes);
    }
    throw new Error('the line never went quiet');
  };
  const inject = (dir: Dir, bytes: Uint8Array) => queues[dir].push(bytes);
  return { timers, a, b, chA, chB, gotA, gotB, closedA, closedB, written, settle, inject };
}

/** Advances the clock in steps, letting the line carry what each step sent. */
async function run(l: Line, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await l.settle();
    l.timers.advance(step);
  }
  await l.settle();
}

const msg = (i: number, n: number) => Uint8Array.from({ length: n }, (_, k) => (i * 31 + k * 7) & 0xff);

test('messages of any size arrive whole and in order over a clean line', async () => {
  const l = line();
  const sizes = [0, 1, 63, 64, 65, 200, 5000];
  const sent = sizes.map((n, i) => l.chA.send(msg(i, n)));
  await run(l, 200);
  await Promise.all(sent);
  assert.deepEqual(l.gotB, sizes.map((n, i) => msg(i, n)));
  assert.equal(l.chA.stats.framesResent, 0);
});

test('never more frames in flight than the window, and the window is used in full', async () => {
  let most = 0;
  let l: Line | undefined = undefined;
  l = line({ window: 4, fate: () => ((most = Math.max(most, l?.chA.unacknowledged ?? 0)), 'pass') });
  const done = l.chA.send(msg(1, 64 * 40));
  await run(l, 200);
  await done;
  assert.deepEqual(l.gotB, [msg(1, 64 * 40)]);
  assert.equal(most, 4);
});

test('lost frames are recovered: a gap is NAKed and resent at once, a lost tail after the timeout', async () => {
  const lost = new Set([2, 3, 9, 39]); // the last DATA frame (#39) has no successor to reveal its loss
  const l = line({ fate: (dir, n) => (dir === 'ab' && lost.has(n) ? 'drop' : 'pass') });
  const done = l.chA.send(msg(1, 64 * 40));
  await run(l, 3000);
  await done;
  assert.deepEqual(l.gotB, [msg(1, 64 * 40)]);
  assert.ok(l.chB.stats.naksSent >= 2, 'gaps were NAKed');
  assert.ok(l.chA.stats.framesResent >= lost.size && l.chA.stats.framesResent <= lost.size + 4, `resent ${l.chA.stats.framesResent}`);
});

test('damaged, duplicated and reordered frames change nothing for the receiver', async () => {
  const fates: Fate[] = ['damage', 'twice', 'hold', 'pass', 'pass'];
  const l = line({ fate: (_dir, n) => fates[n % fates.length]! });
  const sent = [0, 1, 2, 3].map((i) => l.chA.send(msg(i, 700 + i)));
  const back = [0, 1].map((i) => l.chB.send(msg(10 + i, 300)));
  await run(l, 5000);
  await Promise.all([...sent, ...back]);
  assert.deepEqual(l.gotB, [0, 1, 2, 3].map((i) => msg(i, 700 + i)));
  assert.deepEqual(l.gotA, [0, 1].map((i) => msg(10 + i, 300)));
  assert.ok(l.chB.stats.duplicates > 0, 'duplicates were seen and dropped');
  assert.ok(l.b.readerStats.damaged > 0, 'damaged frames were dropped by the CRC check');
});

test('a random 10 % loss in both directions still delivers everything, in order', async () => {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const l = line({ window: 8, fate: () => (rand() < 0.1 ? 'drop' : rand() < 0.05 ? 'damage' : 'pass') });
  const sizes = Array.from({ length: 30 }, (_, i) => (i * 97) % 900);
  const sent = sizes.map((n, i) => l.chA.send(msg(i, n)));
  await run(l, 60_000, 100);
  await Promise.all(sent);
  assert.deepEqual(l.gotB, sizes.map((n, i) => msg(i, n)));
  assert.deepEqual(l.closedA, []);
});

test('garbage injected between frames is skipped', async () => {
  const l = line();
  l.inject('ab', Uint8Array.from({ length: 500 }, (_, i) => (i * 13 + 1) & 0xff));
  const done = l.chA.send(msg(3, 1000));
  l.inject('ab', Uint8Array.of(0, 0x55, 0x66, 0x77, 0));
  await run(l, 500);
  await done;
  assert.deepEqual(l.gotB, [msg(3, 1000)]);
});

test('an idle link sends keep-alives and stays up; a silent peer is declared gone after four periods', async () => {
  const l = line();
  await run(l, 20_000, 250);
  assert.deepEqual(l.closedA, []);
  assert.ok(l.chA.stats.framesSent >= 5, 'keep-alives went out');
  // now the peer goes silent: nothing from B reaches A any more
  const silent = line({ fate: (dir) => (dir === 'ba' ? 'drop' : 'pass') });
  await run(silent, 7000, 250);
  assert.deepEqual(silent.closedA, [], 'not yet: 8 s is the limit');
  await run(silent, 2000, 250);
  assert.equal(silent.closedA.length, 1);
  assert.match(silent.closedA[0]!, /nothing heard from the device for 8(\.\d)? s: it was unplugged, powered off or stopped/);
});

test('a frame never acknowledged fails the channel and rejects the send with LINK', async () => {
  // B never hears A (so never acknowledges) but keeps sending keep-alives, so A cannot call it silent.
  const l = line({ fate: (dir) => (dir === 'ab' ? 'drop' : 'pass'), a: { maxSends: 4 }, b: { deadPeerMs: 600_000 } });
  const done = l.chA.send(msg(1, 10)).then(() => 'delivered', (err: unknown) => err);
  await run(l, 30_000, 100);
  const err = await done;
  assert.ok(err instanceof DockhandError && err.code === 'LINK', String(err));
  assert.match(err.message, /the device stopped acknowledging frames \(4 attempts\); check the cable and that the other end is running/);
  assert.equal(l.chA.stats.framesResent, 3);
  assert.equal(l.closedA.length, 1);
});

test('a peer breaking the agreed limits fails the channel with a protocol error', async () => {
  const cases: [LineOptions, number, RegExp][] = [
    [{ maxPayload: 64, b: { maxPayload: 128 } }, 128, /the device sent a frame of 128 bytes, over the agreed 64 \(link protocol error\)/],
    // frame 0 is lost, so frames 1 and 2 must wait at A; 2 is outside A's window of 2
    [{ window: 2, b: { window: 8 }, fate: (dir, n) => (dir === 'ba' && n === 0 ? 'drop' : 'pass') }, 64 * 6, /the device sent frame 2, beyond the agreed window of 2/],
    [{ maxMessage: 1000, b: { maxMessage: 10_000 } }, 5000, /the device sent a message of more than 1000 bytes, over the agreed limit/],
  ];
  for (const [opts, size, expected] of cases) {
    const l = line(opts);
    const sent = l.chB.send(msg(1, size)).then(() => 'delivered', (err: unknown) => err);
    await run(l, 3000);
    assert.match(l.closedA[0] ?? '', expected);
    const err = await sent;
    assert.ok(err instanceof DockhandError && err.code === 'LINK', `the offending side learns it too (RESET): ${String(err)}`);
    assert.deepEqual(l.gotA, []);
  }
});

test('an ack for a frame that was never sent is a protocol error', async () => {
  const l = line();
  l.inject('ba', encodeFrame({ type: FrameType.ACK, flags: 0, session: 5, seq: 0, ack: 3, payload: new Uint8Array(0) }));
  await run(l, 50);
  assert.match(l.closedA[0] ?? '', /acknowledged frame 3, which was never sent/);
});

test('frames of another session are answered with RESET, which ends that session at its owner', async () => {
  const l = line();
  const stale = encodeFrame({ type: FrameType.KEEPALIVE, flags: 0, session: 9, seq: 0, ack: 0, payload: new Uint8Array(0) });
  l.inject('ab', stale);
  await run(l, 50);
  assert.deepEqual(l.closedA, []);
  assert.deepEqual(l.closedB, [], 'session 5 is untouched by talk about session 9');
  l.inject('ab', encodeFrame({ type: FrameType.RESET, flags: 0, session: 5, seq: 0, ack: 0, payload: new Uint8Array(0) }));
  await run(l, 50);
  assert.match(l.closedB[0] ?? '', /the station ended the session \(it restarted, or gave up on this one after a silence\); connect again/);
});

test('throughput: at 1 KiB frames more than 95 % of the line carries message bytes', async () => {
  const l = line({ maxPayload: 1024, window: 8, maxMessage: 1024 * 1024 });
  const payload = 200 * 1024;
  const done = l.chA.send(msg(1, payload));
  await run(l, 200);
  await done;
  const lineBytes = l.written.ab.reduce((a, b) => a + b, 0);
  assert.ok(payload / lineBytes > 0.95, `efficiency ${(payload / lineBytes).toFixed(4)}`);
});

/**
 * A serial cable on the manual clock: each direction carries `rate` bytes per second, one write after the
 * other, and a write is accepted at once (as a UART driver or a pty relay takes a window of frames into
 * its buffer). Frames reach the peer when the line has carried them.
 */
function pacedLine(rate: number, params: { window: number; maxPayload: number; lineRate?: number }) {
  const timers = new ManualTimers();
  const freeAt: Record<Dir, number> = { ab: 0, ba: 0 };
  const sizes: Record<Dir, number[]> = { ab: [], ba: [] };
  const ends: Record<string, LinkEndpoint> = {};
  const write = (dir: Dir) => async (bytes: Uint8Array) => {
    sizes[dir].push(bytes.length);
    const copy = bytes.slice();
    freeAt[dir] = Math.max(timers.now(), freeAt[dir]) + (bytes.length * 1000) / rate;
    timers.setTimeout(() => ends[dir === 'ab' ? 'b' : 'a']!.receive(copy), freeAt[dir] - timers.now());
  };
  const mk = (dir: Dir, peer: string) => new LinkEndpoint({ timers, write: write(dir), peer, onHandshake: () => undefined, resetUnknownSessions: true });
  ends.a = mk('ab', 'the device');
  ends.b = mk('ba', 'the station');
  const got: Uint8Array[] = [];
  const base = { session: 5, maxMessage: 1024 * 1024, ...params };
  const chA = ends.a.startSession(base, { onMessage: () => undefined, onClosed: () => undefined });
  ends.b.startSession(base, { onMessage: (m) => got.push(m), onClosed: () => undefined });
  return { timers, chA, got, sizes };
}

async function carry(l: ReturnType<typeof pacedLine>, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await nextTick();
    l.timers.advance(step);
  }
}

test('on a slow line, frames queued behind each other are not resent, even after quick request-reply round trips', async () => {
  const rate = 11_520; // 115200 baud 8N1
  const l = pacedLine(rate, { window: 8, maxPayload: 4096, lineRate: rate });
  // Small requests first (as PUT_QUERY and PUT_BEGIN precede a file): round trips of a few milliseconds.
  for (let i = 0; i < 5; i++) {
    let answered = false;
    void l.chA.send(msg(i, 40)).then(() => void (answered = true));
    while (!answered) await carry(l, 10, 10);
  }
  // Then a file's worth: a window of frames waits its turn in the UART's buffer, far longer than those round trips.
  const data = msg(9, 128 * 1024);
  let doneAt = 0;
  void l.chA.send(data).then(() => void (doneAt = l.timers.now()));
  await carry(l, 30_000, 50);
  assert.ok(doneAt > 0, 'delivered within 30 s');
  assert.deepEqual(l.got[l.got.length - 1], data);
  assert.equal(l.chA.stats.framesResent, 0, 'a frame waiting its turn on the cable is not taken for lost');
  const lineBytes = l.sizes.ab.reduce((a, b) => a + b, 0);
  assert.ok(data.length / lineBytes > 0.97, `${data.length} message bytes in ${lineBytes} line bytes`);
});

test('frames start at 1 KiB and grow to the agreed payload on a clean line, and shrink where long frames get damaged', async () => {
  const clean = line({ maxPayload: 4096, window: 8, maxMessage: 1024 * 1024 });
  const done = clean.chA.send(msg(4, 200 * 1024));
  await run(clean, 500);
  await done;
  const sizes = clean.written.ab.filter((n) => n > 100);
  assert.ok(sizes[0]! < 1100, `the first frame carries 1 KiB (${sizes[0]} bytes on the line)`);
  assert.ok(sizes.slice(-10, -1).every((n) => n > 4096), `the last frames carry the agreed 4 KiB: ${sizes.join(' ')}`);
  assert.equal(clean.chA.stats.framesResent, 0);

  // A line that damages one byte in 2000 (seeded): a 4 KiB frame is almost never whole, 256 bytes mostly are.
  let seed = 42;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const noisy = line({ maxPayload: 4096, window: 8, maxMessage: 1024 * 1024, fate: (dir, _n, bytes) => (dir === 'ab' && random() > (1 - 1 / 2000) ** bytes.length ? 'damage' : 'pass') });
  const sent = noisy.chA.send(msg(5, 40 * 1024));
  await run(noisy, 120_000);
  await sent;
  assert.deepEqual(noisy.gotB, [msg(5, 40 * 1024)], 'delivered whole');
  const later = noisy.written.ab.filter((n) => n > 100).slice(20);
  const short = later.filter((n) => n < 1000).length;
  assert.ok(short > later.length / 2, `most frames got shorter than the 1 KiB start: ${later.join(' ')}`);
});
