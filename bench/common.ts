// What the benchmarks share: medians and ranges, whole-process measurements (wall time, CPU time and peak
// memory through GNU time), the load average to print beside every figure, and starting `dockhand` commands.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureCli } from '../scripts/build-cli.js';

export const repo = path.resolve(import.meta.dirname, '..');
export const dockhandCli = path.join(repo, 'bin', 'dockhand.mjs');
export const benchEnv = { ...process.env, PATH: `${path.join(repo, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };

/**
 * Makes sure `dockhand` runs from the bundle (built now if a source is newer), as an installed station
 * would: whole-process figures measured through tsx would mostly measure tsx compiling the sources.
 */
export async function prepareCli(): Promise<void> {
  await ensureCli(repo);
}

/** Writes `mib` MiB of random bytes to `file`; resolves with their SHA-256 (hex). */
export async function makePackage(file: string, mib: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let i = 0; i < mib; i += 1) {
    const chunk = randomBytes(1024 * 1024);
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
  return hash.digest('hex');
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `1.23 (1.10–1.40)`: the median and the range. */
export function span(xs: readonly number[], digits = 2): string {
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}

export function loadAverage(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(' ');
}

export interface ProcessCost {
  wallMs: number;
  /** CPU seconds of the process and its children. */
  cpuS: number;
  userS: number;
  sysS: number;
  peakRssMb: number;
  code: number | null;
  out: string;
}

/** Runs a command to its end under GNU time (Debian's `time` package) and reports what it cost. */
export async function measured(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ProcessCost> {
  const report = path.join(os.tmpdir(), `dockhand-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', report, cmd, ...args], { cwd: opts.cwd, env: opts.env ?? benchEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  const wallMs = performance.now() - t0;
  const [user, sys, rssKb] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  rmSync(report, { force: true });
  return { wallMs, cpuS: user + sys, userS: user, sysS: sys, peakRssMb: rssKb / 1024, code, out };
}

export function requireTool(tool: string, args: string[], debianPackage: string): void {
  if (spawnSync(tool, args).error) throw new Error(`${tool} is needed for this benchmark (apt-get install -y ${debianPackage})`);
}

export function dockhandSync(args: string[]): string {
  const r = spawnSync(process.execPath, [dockhandCli, ...args], { env: benchEnv, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dockhand ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Starts `dockhand server` on loopback (a free port unless told); resolves with its base URL once it listens. */
export async function startServer(data: string, extra: string[] = [], port = 0): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [dockhandCli, 'server', '--data', data, '--host', '127.0.0.1', '--port', String(port), ...extra], { env: benchEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', () => reject(new Error(`the server exited: ${out}`)));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  };
  return { url, child, stop };
}
