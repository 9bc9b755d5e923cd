// Runs a post-install command line (spec §7 CommandLine, §10 phase 4) on the station, never through a shell:
// the line is split the Windows way (split-command-line.ts), the program is resolved inside the station's
// folder or, when allow-listed, on the host PATH (resolve-program.ts), and the OS receives the argument
// vector as is.
//
// Supervision:
// - The program runs in the package's destination folder, in a process group of its own (POSIX), so a
//   timeout or a cancel stops it together with everything it started.
// - stdout and stderr are captured into one record in arrival order, capped at maxOutputBytes (head and
//   tail kept, see output-capture.ts); the pipes keep being drained so a chatty program never blocks.
// - After timeoutMs it gets SIGTERM, and SIGKILL a few seconds later if it is still there.
// - When the program ends, whatever it left running in its group is stopped: nothing a package starts
//   outlives its command unsupervised on the station. (On Windows only the tree of a running program can
//   be stopped, with taskkill /T; leftovers of a program that already exited are not tracked there.)
// - A non-zero exit is a result, not an exception; exceptions are for "could not start" (COMMAND_FAILED,
//   COMMAND_REFUSED, PATH_REFUSED) and for a cancel through the AbortSignal (CANCELLED).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { DockhandError } from '../../../shared/model/errors.js';
import { OutputCapture } from './output-capture.js';
import { checkWorkingFolder, resolveProgram, type HostPrograms } from './resolve-program.js';
import { splitCommandLine } from './split-command-line.js';

export { splitCommandLine } from './split-command-line.js';

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  output: string;
  outputTruncated: boolean;
  durationMs: number;
  /** The host file that was started. */
  program: string;
  args: string[];
  /** True when Dockhand stopped the program because timeoutMs passed (then exitCode is usually null). */
  timedOut: boolean;
}

export interface RunCommandOptions {
  commandLine: string;
  /** The package's destination folder (a host path inside `root`); the program runs there. */
  cwd: string;
  /** The station's folder, which stands for the device's file system. */
  root: string;
  timeoutMs?: number;
  maxOutputBytes?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Programs found on the host PATH by a bare name: the allow-list (default none), or 'any' (the device agent). */
  hostPrograms?: HostPrograms;
  /**
   * Told the program's pid (its process group id too) synchronously, right after the OS started it and
   * before anything else happens: the caller records it, so that after a crash the next start can find and
   * end the program rather than start a second copy.
   */
  onSpawn?: (pid: number) => void;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
const KILL_GRACE_MS = 3_000;
const PIPE_DRAIN_MS = 2_000;
const isWindows = process.platform === 'win32';

function signalTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  if (isWindows) {
    // taskkill walks the process tree; started without a shell like everything else here.
    execFile('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true }, () => undefined);
    return;
  }
  try {
    process.kill(-child.pid, signal); // the whole group: the program and what it started
  } catch {
    // ESRCH: the group is already gone.
  }
}

function closed(stream: Readable | null): Promise<void> {
  if (stream === null || stream.closed || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

function cannotStart(err: unknown, program: string, commandLine: string): DockhandError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'it does not exist (or the interpreter named on its first line does not)'
    : code === 'EACCES' ? 'it is not marked executable, or is not a program this station can run'
    : code === 'ENOEXEC' ? 'it is not a program this station can run'
    : `the system refused (${code ?? String(err)})`;
  return new DockhandError('COMMAND_FAILED', `could not start '${program}' for the command line '${commandLine}': ${why}`, {
    cause: err,
    detail: { program, commandLine, code },
  });
}

/** Runs the command line without a shell and reports how it ended; see the file comment for the rules. */
export async function runCommandLine(opts: RunCommandOptions): Promise<CommandResult> {
  const argv = splitCommandLine(opts.commandLine);
  const [name, ...args] = argv as [string, ...string[]];
  const env = opts.env ?? process.env;
  const cwd = path.resolve(opts.cwd);
  checkWorkingFolder(opts.root, cwd);
  const program = resolveProgram(name, cwd, opts.root, env, opts.hostPrograms ?? []);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const capture = new OutputCapture(Math.max(0, opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES));
  const cancelled = (): DockhandError =>
    new DockhandError('CANCELLED', `the command '${opts.commandLine}' was cancelled`, { detail: { output: capture.text() } });
  if (opts.signal?.aborted) throw cancelled();

  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(program, args, {
      cwd,
      env,
      shell: false,
      detached: !isWindows, // its own process group, so it can be stopped as a whole
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (err) {
    throw cannotStart(err, program, opts.commandLine);
  }
  const running = child;
  if (running.pid !== undefined && opts.onSpawn) {
    try {
      opts.onSpawn(running.pid);
    } catch (err) {
      signalTree(running, 'SIGKILL'); // a program nobody could find again after a crash must not run
      throw new DockhandError('COMMAND_FAILED', `'${opts.commandLine}' was stopped at once: its process could not be recorded (${(err as Error).message})`, { cause: err });
    }
  }
  running.stdout?.on('data', (chunk: Buffer) => capture.push(chunk));
  running.stderr?.on('data', (chunk: Buffer) => capture.push(chunk));

  let timedOut = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    signalTree(running, 'SIGTERM');
    killTimer ??= setTimeout(() => signalTree(running, 'SIGKILL'), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, timeoutMs);
  const onAbort = (): void => {
    aborted = true;
    stop();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const cleanup = (): void => {
    clearTimeout(timer);
    if (killTimer) clearTimeout(killTimer);
    opts.signal?.removeEventListener('abort', onAbort);
  };

  return new Promise<CommandResult>((resolve, reject) => {
    let settled = false;
    running.once('error', (err) => {
      if (settled || running.pid !== undefined) return; // only a failed start is reported this way
      settled = true;
      cleanup();
      running.stdout?.destroy();
      running.stderr?.destroy();
      reject(cannotStart(err, program, opts.commandLine));
    });
    running.once('exit', (exitCode, signal) => {
      if (settled) return;
      settled = true;
      cleanup();
      if (!isWindows) signalTree(running, 'SIGKILL'); // leftovers in the program's group
      // Give the pipes a bounded time to deliver what is still buffered; something that escaped the group
      // could hold them open forever, and that must not hold the result.
      const drained = Promise.all([closed(running.stdout), closed(running.stderr)]);
      let drainTimer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((r) => (drainTimer = setTimeout(r, PIPE_DRAIN_MS)));
      void Promise.race([drained, bound]).then(() => {
        clearTimeout(drainTimer);
        running.stdout?.destroy();
        running.stderr?.destroy();
        if (aborted && !timedOut) {
          reject(cancelled());
          return;
        }
        resolve({
          exitCode,
          signal,
          output: capture.text(),
          outputTruncated: capture.truncated,
          durationMs: Math.round(performance.now() - started),
          program,
          args,
          timedOut,
        });
      });
    });
  });
}
