// Benchmark: a package over an emulated serial cable at a real line rate (socat pty pairs joined by a relay
// that paces each direction at baud/10 bytes per second, test/helpers/line-rate-link.ts), in interleaved
// pairs with a fresh line each:
//   ZMODEM    lrzsz's `sz` → `rz` (rz already waiting on the device side), timed from sz's start to its exit
//   Dockhand  the whole `dockhand station --once --serial` run (a `dockhand agent` already listening on the
//             device side, `dockhand server` holding the package for docked devices), start to exit
//
//   npm run bench:serial -- [--size 256KiB] [--baud 115200] [--pairs 3]
//
// Where the station's seconds go is read off the line itself: the relay's tap decodes every frame, and each
// message is placed at the moment the paced line released its bytes; the server's log adds the poll and the
// status messages. Printed per phase, median (range) over the pairs, with the push's share of the line rate.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLineRateLink, type Direction } from '../test/helpers/line-rate-link.js';
import { LineTap, releasedAt, type Seen } from './line-tap.js';
import { benchEnv, dockhandCli, dockhandSync, loadAverage, median, prepareCli, requireTool, span, startServer } from './common.js';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '256KiB' }, baud: { type: 'string', default: '115200' }, pairs: { type: 'string', default: '3' } },
});

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|k|K|M)?$/.exec(text.trim());
  if (!m) throw new Error(`--size ${text}: write a byte count such as 1048576, 64KiB or 1MiB`);
  const unit = { B: 1, KiB: 1024, k: 1024, K: 1024, MiB: 1024 * 1024, M: 1024 * 1024 }[m[2] ?? 'B']!;
  return Math.round(Number(m[1]) * unit);
}

const SIZE = parseSize(values.size!);
const BAUD = Number(values.baud);
if (!Number.isInteger(BAUD) || BAUD <= 0) throw new Error(`--baud ${values.baud}: a positive whole number, e.g. 115200`);
const PAIRS = Math.max(1, Number(values.pairs));
const LINE_RATE = BAUD / 10;
const work = mkdtempSync(path.join(os.tmpdir(), 'dockhand-bench-serial-'));
const children = new Set<ChildProcess>();
const budgetMs = () => (SIZE / LINE_RATE) * 3000 + 60_000;

function killTree(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone already
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string; stdio: Array<number | 'pipe' | 'ignore'> }): { child: ChildProcess; done: Promise<number | null>; out: () => string } {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: benchEnv, stdio: opts.stdio as never, detached: true });
  children.add(child);
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > 64 * 1024) out = out.slice(-32 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  return { child, done, out: () => out };
}

function deadline<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function zmodem(file: string, sha: string, i: number): Promise<number> {
  const line = await startLineRateLink({ baud: BAUD });
  const into = path.join(work, `rz-${i}`);
  mkdirSync(into);
  // Blocking descriptors on the two ends, as a terminal program expects its stdin/stdout to be.
  const deviceFd = openSync(line.devicePath, 'r+');
  const stationFd = openSync(line.stationPath, 'r+');
  try {
    const rz = run('rz', ['--binary', '--overwrite'], { cwd: into, stdio: [deviceFd, deviceFd, 'pipe'] });
    const t0 = performance.now();
    const sz = run('sz', ['--zmodem', '--binary', file], { stdio: [stationFd, stationFd, 'pipe'] });
    // The clock stops when sz exits: it has then heard rz acknowledge the whole file (ZRINIT after ZEOF) and
    // the closing ZFIN. rz's own exit is not waited for: on a pseudo-terminal sz's exit flushes its tty
    // (TCIOFLUSH) before socat has read the final "OO", so rz often waits out 3 × 10 s for it.
    const code = await deadline('ZMODEM', sz.done, budgetMs());
    const ms = performance.now() - t0;
    if (code !== 0) throw new Error(`ZMODEM failed: sz exit ${code}\nsz: ${sz.out().slice(-500)}\nrz: ${rz.out().slice(-500)}`);
    await deadline('rz', rz.done, 2000).catch(() => killTree(rz.child));
    const got = createHash('sha256').update(readFileSync(path.join(into, path.basename(file)))).digest('hex');
    if (got !== sha) throw new Error('ZMODEM delivered different bytes');
    return ms;
  } finally {
    closeSync(deviceFd);
    closeSync(stationFd);
    await line.close();
  }
}

interface StationRun {
  ms: number;
  /** Milliseconds from the station's start. */
  at: Record<string, number>;
  dataBytes: number;
  resent: number;
}

async function station(serverUrl: string, serverData: string, i: number): Promise<StationRun> {
  const tap = new LineTap();
  const line = await startLineRateLink({ baud: BAUD, transform: (dir: Direction, chunk, offset) => (tap.take(dir, chunk, offset), chunk) });
  const root = path.join(work, `agent-${i}`);
  const id = `BENCH-SERIAL-${i}`;
  const agent = run(process.execPath, [dockhandCli, 'agent', '--port', line.devicePath, '--baud', String(BAUD), '--root', root, '--id', id, '--name', 'Bench device'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await deadline('the agent', new Promise<void>((resolve) => {
      const check = setInterval(() => agent.out().includes('listening on') && (clearInterval(check), resolve()), 20);
    }), 60_000);
    const data = path.join(work, `station-${i}`);
    const startedAt = Date.now();
    const t0 = performance.now();
    const s = run(process.execPath, [dockhandCli, 'station', '--server', serverUrl, '--data', data, '--id', `BENCH-STATION-${i}`, '--serial', line.stationPath, '--baud', String(BAUD), '--once'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const code = await deadline('station --once', s.done, budgetMs());
    const ms = performance.now() - t0;
    if (code !== 0) throw new Error(`station --once failed (${code}):\n${s.out()}\nagent: ${agent.out().slice(-1000)}`);
    const log = JSON.parse(dockhandSync(['server', 'log', '--data', serverData, '--device', id, '--json'])) as { kind: string; messageID?: number; receivedAt: string }[];
    const statuses = log.filter((e) => e.kind === 'status').map((e) => e.messageID);
    if (statuses.join() !== '11030,11031,11035') throw new Error(`the device's statuses were ${statuses.join(', ')}:\n${s.out()}`);
    const at: Record<string, number> = {};
    const serverAt = (kind: string, messageID?: number) => {
      const e = log.find((x) => x.kind === kind && (messageID === undefined || x.messageID === messageID));
      return e ? Date.parse(e.receivedAt) - startedAt : NaN;
    };
    at.poll = serverAt('poll');
    at.status11030 = serverAt('status', 11030);
    at.status11035 = serverAt('status', 11035);
    // Line events: performance.now() of the relay, from the station's start.
    const when = (seen: Seen | undefined, edge: 'first' | 'last') => (seen ? releasedAt(line.releases(seen.dir), edge === 'first' ? seen.start : seen.end) - t0 : NaN);
    at.hello = when(tap.first('HELLO'), 'first');
    at.helloReply = when(tap.last('HELLO_REPLY'), 'last');
    at.putBegin = when(tap.first('PUT_BEGIN'), 'first');
    at.firstData = when(tap.first('PUT_DATA'), 'first');
    at.lastData = when(tap.last('PUT_DATA'), 'last');
    at.putEnd = when(tap.first('PUT_END'), 'first');
    at.putEndReply = when(tap.last('PUT_END_REPLY'), 'last');
    at.exit = ms;
    rmSync(data, { recursive: true, force: true });
    return { ms, at, dataBytes: tap.bytes('PUT_DATA'), resent: tap.resent };
  } finally {
    killTree(agent.child);
    await agent.done.catch(() => undefined);
    await line.close();
  }
}

const PHASES: [string, string, string][] = [
  ['start-up until HELLO is on the line (process, modules, databases, ports)', 'start', 'hello'],
  ['HELLO and its reply', 'hello', 'helloReply'],
  ['reply until PUT_BEGIN (poll, instructions, 11030, location, download into the cache)', 'helloReply', 'putBegin'],
  ['PUT_BEGIN until the first file byte (PUT_QUERY/PUT_BEGIN round trips)', 'putBegin', 'firstData'],
  ['the file bytes (PUT_DATA)', 'firstData', 'lastData'],
  ['PUT_END until its reply (device: flush, SHA-256, rename)', 'lastData', 'putEndReply'],
  ['reply until exit (11031, 11035, BYE, close)', 'putEndReply', 'exit'],
];

async function main(): Promise<void> {
  await prepareCli();
  requireTool('sz', ['--help'], 'lrzsz');
  requireTool('socat', ['-V'], 'socat');
  const file = path.join(work, 'payload.bin');
  const data = randomBytes(SIZE);
  writeFileSync(file, data);
  const sha = createHash('sha256').update(data).digest('hex');
  const serverData = path.join(work, 'server');
  const id = dockhandSync(['server', 'package', 'add', '--data', serverData, '--file', file, '--name', 'Serial bench', '--flags', '04 00 00 00', '--dest', '\\Bench']);
  dockhandSync(['server', 'assign', '--data', serverData, '--package', id, '--device', '*']);
  const server = await startServer(serverData);
  console.log(`payload ${SIZE} bytes (random, cradled-only), line ${BAUD} baud 8N1 = ${LINE_RATE} bytes/s each way: ${(SIZE / LINE_RATE).toFixed(1)} s at 100 %; load average ${loadAverage()}`);
  const zm: number[] = [];
  const st: StationRun[] = [];
  try {
    for (let i = 0; i < PAIRS; i += 1) {
      if (i % 2 === 0) {
        zm.push(await zmodem(file, sha, i));
        st.push(await station(server.url, serverData, i));
      } else {
        st.push(await station(server.url, serverData, i));
        zm.push(await zmodem(file, sha, i));
      }
      console.log(`  pair ${i + 1}: ZMODEM ${(zm[i]! / 1000).toFixed(2)} s, station --once --serial ${(st[i]!.ms / 1000).toFixed(2)} s (${(st[i]!.ms / zm[i]!).toFixed(3)}×); load ${loadAverage()}`);
    }
  } finally {
    await server.stop();
  }
  const pct = (ms: number) => ((SIZE / (ms / 1000) / LINE_RATE) * 100);
  console.log(`\n${PAIRS} interleaved pairs, median (range)`);
  console.log(`  ZMODEM (sz → rz)             ${span(zm.map((x) => x / 1000))} s   ${span(zm.map(pct), 1)} % of the line rate`);
  console.log(`  station --once --serial      ${span(st.map((x) => x.ms / 1000))} s   ${span(st.map((x) => pct(x.ms)), 1)} % of the line rate`);
  console.log(`  station ÷ ZMODEM             ${span(st.map((x, i) => x.ms / zm[i]!), 3)}×`);
  console.log('\n  where the station\'s time goes (s)');
  for (const [label, from, to] of PHASES) {
    const d = st.map((x) => ((to === 'exit' ? x.ms : x.at[to]!) - (from === 'start' ? 0 : x.at[from]!)) / 1000);
    console.log(`    ${span(d, 2).padEnd(22)} ${label}`);
  }
  const push = st.map((x) => ((SIZE / ((x.at.lastData! - x.at.firstData!) / 1000)) / LINE_RATE) * 100);
  console.log(`  the file bytes: ${span(push, 1)} % of the line rate; ${median(st.map((x) => x.dataBytes))} PUT_DATA bytes on the line for ${SIZE} file bytes; ${median(st.map((x) => x.resent))} frames resent`);
  console.log(`  server saw the poll at ${span(st.map((x) => x.at.poll! / 1000))} s, 11030 at ${span(st.map((x) => x.at.status11030! / 1000))} s, 11035 at ${span(st.map((x) => x.at.status11035! / 1000))} s`);
  console.log(`\nload average at end ${loadAverage()}`);
}

try {
  await main();
} finally {
  for (const c of children) killTree(c);
  rmSync(work, { recursive: true, force: true });
}
