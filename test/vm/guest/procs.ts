// Processes the guest test runs (the reference server, the station, the gadget agent): started with the
// guest's Node, their output kept in the run folder for the host to show when something fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';

export const RUN_DIR = '/dockhand-run';

export interface GuestProc {
  name: string;
  child: ChildProcess;
  out(): string;
  /** Resolves with the first match of `re` in the output (stdout and stderr). */
  waitFor(re: RegExp, what: string, timeoutMs: number): Promise<RegExpExecArray>;
  /** SIGTERM (or `signal`), then SIGKILL if it has not exited after `graceMs`; `lingered` tells which. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  lingered: boolean;
  exited: Promise<number | null>;
}

/** Starts `args` under the guest's Node, or the program `args[0]` when it is not a script. */
export function startProc(name: string, args: string[]): GuestProc {
  const script = /\.m?js$/.test(args[0] ?? '');
  const child = spawn(script ? process.execPath : args[0]!, script ? args : args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(path.join(RUN_DIR, `${name}.log`));
  let text = '';
  const watchers: Array<() => void> = [];
  const take = (c: Buffer) => {
    log.write(c);
    text += c.toString();
    for (const w of [...watchers]) w();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    log.end();
    resolve(code);
    for (const w of [...watchers]) w();
  }));
  const proc: GuestProc = {
    name,
    child,
    out: () => text,
    exited,
    lingered: false,
    waitFor(re, what, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; ${name} printed: ${text.slice(-1500)}`)), timeoutMs);
        const check = () => {
          const m = re.exec(text);
          if (m) return done(null, m);
          if (child.exitCode !== null || child.signalCode !== null) done(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before ${what}: ${text.slice(-1500)}`));
        };
        const done = (err: Error | null, m?: RegExpExecArray) => {
          clearTimeout(timer);
          watchers.splice(watchers.indexOf(check), 1);
          if (err) reject(err);
          else resolve(m!);
        };
        watchers.push(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => {
        proc.lingered = true;
        child.kill('SIGKILL');
      }, graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return proc;
}

/** Runs a command to its end; rejects with its output when it fails. */
export async function runProc(name: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const p = startProc(name, args);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${name} (${args.slice(1).join(' ')}) exited ${code}: ${p.out().slice(-1500)}`);
  return p.out();
}
