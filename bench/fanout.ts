// Benchmark: fan-out. N docked agents (real processes on socat pseudo-terminals) need the same package;
// the station downloads it once and pushes it to each. Prints the upstream bytes (server → station, counted
// by a proxy in front of the server) and the wall time of `station --once`, for 1 device and for N.
//
//   node bin/run-ts.mjs bench/fanout.ts [--devices 16] [--mib 4]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startFaultProxy } from '../test/helpers/fault-proxy.js';

const { values } = parseArgs({ options: { devices: { type: 'string', default: '16' }, mib: { type: 'string', default: '4' } } });
const N = Math.max(1, Number(values.devices));
const MIB = Math.max(1, Number(values.mib));
const repo = path.resolve(import.meta.dirname, '..');
const dockhand = path.join(repo, 'bin', 'dockhand.mjs');
const env = { ...process.env, PATH: `${path.join(repo, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-fanout-'));
const children: ChildProcess[] = [];

function start(cmd: string, args: string[]): ChildProcess & { out: () => string } {
  const child = spawn(cmd, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { out += c.toString(); });
  children.push(child);
  return Object.assign(child, { out: () => out });
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(args: string[]): string {
  const r = spawnSync(process.execPath, [dockhand, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dockhand ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function round(devices: number, serverPort: number): Promise<{ seconds: number; upstream: number; size: number }> {
  const roundDir = path.join(dir, `round-${devices}`);
  mkdirSync(roundDir, { recursive: true });
  const ports: string[] = [];
  for (let i = 0; i < devices; i += 1) {
    const a = path.join(roundDir, `tty${i}-a`);
    const b = path.join(roundDir, `tty${i}-b`);
    start('timeout', ['900', 'socat', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`]);
    await until(`pty ${i}`, () => existsSync(a) && existsSync(b));
    const agent = start(process.execPath, [dockhand, 'agent', '--port', b, '--root', path.join(roundDir, `dev${i}`), '--id', `FAN-${devices}-${i}`]);
    await until(`agent ${i}`, () => agent.out().includes('listening on'));
    ports.push(a);
  }
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: serverPort });
  const server = start(process.execPath, [dockhand, 'server', '--data', path.join(dir, 'server'), '--host', '127.0.0.1', '--port', String(serverPort), '--public-url', proxy.url]);
  await until('the server', () => /listening on (\S+)/.test(server.out()));
  const url = /listening on (\S+)/.exec(server.out())![1]!;
  const t0 = performance.now();
  // Not spawnSync: the counting proxy lives in this process and must keep forwarding meanwhile.
  const station = start(process.execPath, [dockhand, 'station', '--server', url, '--data', path.join(roundDir, 'station'),
    '--serial', ports.join(','), '--concurrency', '16', '--once']);
  const code = await new Promise<number | null>((r) => station.once('exit', r));
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`station --once failed (${code}): ${station.out()}`);
  const upstream = proxy.stats().totalResponseBodyBytes;
  await proxy.close();
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  return { seconds, upstream, size: MIB * 1024 * 1024 };
}

async function main(): Promise<void> {
  const pkg = path.join(dir, 'fanout.bin');
  writeFileSync(pkg, randomBytes(MIB * 1024 * 1024));
  const id = run(['server', 'package', 'add', '--data', path.join(dir, 'server'), '--file', pkg, '--name', 'Fan-out package', '--flags', '04 00 00 00', '--dest', '\\Fanout']);
  run(['server', 'assign', '--data', path.join(dir, 'server'), '--package', id, '--device', '*']);
  // A port for the server that the proxy targets: taken from a first run of the server on port 0.
  const probe = start(process.execPath, [dockhand, 'server', '--data', path.join(dir, 'server'), '--host', '127.0.0.1', '--port', '0']);
  await until('the server', () => /listening on (\S+)/.test(probe.out()));
  const port = Number(new URL(/listening on (\S+)/.exec(probe.out())![1]!).port);
  probe.kill('SIGTERM');
  await new Promise((r) => probe.once('exit', r));

  const one = await round(1, port);
  const many = await round(N, port);
  const mib = (b: number) => (b / 1024 / 1024).toFixed(2);
  console.log(`\npackage ${MIB} MiB, cradled-only, pushed over pseudo-terminal links`);
  console.log(`1 device:   ${one.seconds.toFixed(1)} s, upstream ${mib(one.upstream)} MiB (${(one.upstream / one.size).toFixed(2)}× the package)`);
  console.log(`${N} devices: ${many.seconds.toFixed(1)} s, upstream ${mib(many.upstream)} MiB (${(many.upstream / many.size).toFixed(2)}× the package); ` +
    `wall time ${(many.seconds / one.seconds).toFixed(2)}× one device`);
}

try {
  await main();
} finally {
  for (const c of children) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
