// Real `dockhand` processes for tests: spawned with the project's Node 22, output collected, killed (with
// their process group) when the test ends so nothing is left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from './tmp.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
export const DOCKHAND = path.join(repo, 'bin', 'dockhand.mjs');
const env = () => ({ ...process.env, PATH: `${path.join(repo, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` });

export interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export function startDockhand(t: { after(fn: () => unknown): void }, args: string[]): Proc {
  const child = spawn(process.execPath, [DOCKHAND, ...args], { cwd: repo, env: env(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      kill('SIGKILL');
      await exited;
    }
  });
  return { child, out: () => out, err: () => err, exited, kill };
}

/** Runs `dockhand …` to completion. */
export async function dockhand(t: { after(fn: () => unknown): void }, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = startDockhand(t, args);
  const code = await p.exited;
  return { code, out: p.out(), err: p.err() };
}

/** Starts `dockhand server` on a free loopback port and returns its base URL. */
export async function startServerProcess(t: { after(fn: () => unknown): void }, dataDir: string, extra: string[] = []): Promise<{ proc: Proc; url: string }> {
  const proc = startDockhand(t, ['server', '--data', dataDir, '--host', '127.0.0.1', '--port', '0', ...extra]);
  const line = await waitFor('the server to print its address', () => /listening on (http:\/\/\S+)/.exec(proc.out()), 30_000);
  return { proc, url: line[1]! };
}

/** Is `pid` a running process? A zombie (ended, waiting to be reaped by a parent that may never do it) is not. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}
