// Benchmark: pushing a file over an emulated 115200-baud serial line (socat pty pairs joined by a relay that
// paces each direction at baud/10 bytes per second, test/helpers/line-rate-link.ts), with Dockhand's link
// protocol (openSerialTransport + openDeviceLink + putFile to a `dockhand agent`) and with ZMODEM
// (lrzsz's `sz` → `rz`) over the same kind of line in the same run. Each tool gets a fresh line, so neither
// inherits the other's leftover bytes.
//
//   node bin/run-ts.mjs bench/serial.ts [--size 1MiB] [--baud 115200] [--only zmodem|dockhand]
//
// Prints each tool's wall time and payload throughput as a fraction of the line rate
// (file bytes / wall seconds / (baud / 10)). 1 MiB at 11,520 bytes/s is about 91 s per tool; --size 64KiB
// makes a quick check.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLineRateLink, type LineRateLink } from '../test/helpers/line-rate-link.js';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '1MiB' }, baud: { type: 'string', default: '115200' }, only: { type: 'string' } },
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
const LINE_RATE = BAUD / 10;
if (values.only !== undefined && values.only !== 'zmodem' && values.only !== 'dockhand') throw new Error(`--only ${values.only}: zmodem or dockhand`);
const repo = path.resolve(import.meta.dirname, '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'dockhand-bench-serial-'));
const children = new Set<ChildProcess>();

/** Kills a child and everything it started. */
function killTree(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone already
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string; stdio: Array<number | 'pipe' | 'ignore'> }): { child: ChildProcess; done: Promise<number | null>; err: () => string } {
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: opts.stdio as never, detached: true });
  children.add(child);
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
    if (err.length > 64 * 1024) err = err.slice(-32 * 1024);
  });
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  return { child, done, err: () => err };
}

/** Rejects after `ms`, so a wedged transfer ends the benchmark instead of hanging it. */
function deadline<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const budgetMs = () => (SIZE / LINE_RATE) * 3000 + 60_000;

interface Result {
  tool: string;
  seconds: number;
  lineBytes: { toDevice: number; toStation: number };
}

async function zmodem(file: string, sha: string): Promise<Result> {
  for (const tool of ['sz', 'rz']) {
    if (spawnSync(tool, ['--help']).error) throw new Error(`${tool} is missing: install Debian's lrzsz (apt-get install -y lrzsz)`);
  }
  const line = await startLineRateLink({ baud: BAUD });
  const into = path.join(work, 'rz');
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
    // (TCIOFLUSH) before socat has read the final "OO", so rz often waits out 3 × 10 s for it. A real
    // UART drains first; the pty does not.
    const szCode = await deadline('ZMODEM', sz.done, budgetMs());
    const seconds = (performance.now() - t0) / 1000;
    if (szCode !== 0) throw new Error(`ZMODEM failed: sz exit ${szCode}\nsz: ${sz.err().slice(-500)}\nrz: ${rz.err().slice(-500)}`);
    let rzGone = false;
    await deadline('rz', rz.done, 2000).then(() => (rzGone = true), () => killTree(rz.child));
    await rz.done;
    if (!rzGone) process.stdout.write('  (rz was still waiting for the final "OO" and was stopped)\n');
    const got = createHash('sha256').update(readFileSync(path.join(into, path.basename(file)))).digest('hex');
    if (got !== sha) throw new Error('ZMODEM delivered different bytes');
    return { tool: 'ZMODEM (lrzsz sz → rz)', seconds, lineBytes: { ...line.released } };
  } finally {
    closeSync(deviceFd);
    closeSync(stationFd);
    await line.close();
  }
}

async function dockhand(file: string, sha: string): Promise<Result> {
  // Loaded here so a ZMODEM-only run works before the link modules exist on a branch.
  const { openSerialTransport } = await import('../electron/link/serial.js');
  const { openDeviceLink } = await import('../electron/link/link-client.js');
  const line: LineRateLink = await startLineRateLink({ baud: BAUD });
  const root = path.join(work, 'agent-root');
  mkdirSync(root);
  const agent = run(process.execPath, [path.join(repo, 'bin', 'dockhand.mjs'), 'agent', '--port', line.devicePath, '--baud', String(BAUD), '--root', root, '--id', 'bench-device', '--name', 'Bench device'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const transport = await openSerialTransport(line.stationPath, { baudRate: BAUD, dataBits: 8, parity: 'none', stopBits: 1 });
    const link = await deadline('the hello', openDeviceLink(transport), 60_000);
    try {
      const before = { ...line.released };
      const t0 = performance.now();
      const saved = await deadline('putFile', link.putFile({ directory: '\\Bench', fileName: path.basename(file), sourceFile: file, size: SIZE, sha256: sha, offset: 0 }), budgetMs());
      const seconds = (performance.now() - t0) / 1000;
      process.stdout.write(`  (agent saved it as ${saved})\n`);
      // Only the put's own bytes: the hello before it is not part of the transfer.
      const lineBytes = { toDevice: line.released.toDevice - before.toDevice, toStation: line.released.toStation - before.toStation };
      return { tool: 'Dockhand link (putFile)', seconds, lineBytes };
    } finally {
      await link.close('benchmark done').catch(() => undefined);
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\nagent stderr: ${agent.err().slice(-1000)}`, { cause: err });
  } finally {
    killTree(agent.child);
    await agent.done.catch(() => undefined);
    await line.close();
  }
}

function report(r: Result): void {
  const throughput = SIZE / r.seconds;
  const overhead = r.lineBytes.toDevice / SIZE - 1;
  console.log(
    `${r.tool.padEnd(26)} ${r.seconds.toFixed(1).padStart(7)} s  ${Math.round(throughput).toString().padStart(6)} B/s  ` +
      `${((throughput / LINE_RATE) * 100).toFixed(1).padStart(5)} % of line rate  ` +
      `(on the line: ${r.lineBytes.toDevice} B out = +${(overhead * 100).toFixed(1)} %, ${r.lineBytes.toStation} B back)`,
  );
}

async function main(): Promise<void> {
  const file = path.join(work, 'payload.bin');
  const data = randomBytes(SIZE);
  writeFileSync(file, data);
  const sha = createHash('sha256').update(data).digest('hex');
  console.log(`payload ${SIZE} bytes (random), line ${BAUD} baud 8N1 = ${LINE_RATE} bytes/s each way; estimate ${(SIZE / LINE_RATE).toFixed(0)} s per tool at 100 %`);
  const results: Result[] = [];
  if (values.only !== 'dockhand') {
    console.log('ZMODEM…');
    results.push(await zmodem(file, sha));
    report(results[results.length - 1]!);
  }
  if (values.only !== 'zmodem') {
    console.log('Dockhand…');
    results.push(await dockhand(file, sha));
    report(results[results.length - 1]!);
  }
  console.log('\nsummary');
  results.forEach(report);
}

try {
  await main();
} finally {
  for (const c of children) killTree(c);
  rmSync(work, { recursive: true, force: true });
}
