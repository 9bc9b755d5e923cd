// Real pseudo-terminal pairs for link tests: `socat` joins two ptys and exposes them under fixed link names,
// so a test can open one end as the station and give the other to an agent as its serial port. socat runs
// under `timeout` in its own process group, and the test's teardown kills that group, so nothing is left
// running even when a test fails. `unplug()` stops socat (both ends see the port vanish, like a pulled
// USB cable) and removes the links; `plug()` starts a new socat under the same names.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from './tmp.js';

export interface PtyPair {
  /** The station's end. */
  a: string;
  /** The device's end. */
  b: string;
  plug(): Promise<void>;
  unplug(): Promise<void>;
}

let checked = false;
function requireSocat(): void {
  if (checked) return;
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('socat is not installed; these tests need it (Debian: apt-get install socat)');
  }
  checked = true;
}

/** A pty pair with links `<dir>/<name>-a` and `<dir>/<name>-b`, plugged in; unplugged when the test ends. */
export async function ptyPair(t: { after(fn: () => unknown): void }, dir: string, name = 'tty'): Promise<PtyPair> {
  requireSocat();
  const a = path.join(dir, `${name}-a`);
  const b = path.join(dir, `${name}-b`);
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const unplug = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running && running.exitCode === null && running.signalCode === null) {
      // SIGTERM to `timeout`, which passes it to socat and reaps it (no zombie is left for a pid 1 that may
      // never reap orphans); SIGKILL to the whole group if that takes more than a second.
      try {
        process.kill(running.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      const late = setTimeout(() => {
        try {
          process.kill(-running.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 1000);
      await exited;
      clearTimeout(late);
    }
    rmSync(a, { force: true });
    rmSync(b, { force: true });
  };

  const plug = async (): Promise<void> => {
    if (child) throw new Error(`the pty pair ${name} is already plugged in`);
    rmSync(a, { force: true });
    rmSync(b, { force: true });
    let log = '';
    const started = spawn('timeout', ['600', 'socat', '-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = started;
    started.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    await waitFor(`socat to join ${a} and ${b} (${log.trim().split('\n').at(-1) ?? ''})`, () => {
      if (started.exitCode !== null) throw new Error(`socat exited (${started.exitCode}): ${log}`);
      return /starting data transfer loop/.test(log) && existsSync(a) && existsSync(b);
    }, 10_000, 10);
  };

  t.after(unplug);
  await plug();
  return { a, b, plug, unplug };
}
