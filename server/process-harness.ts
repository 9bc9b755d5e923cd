// Drives the real `dockhand server` process from tests, benchmarks and scripts: spawn it on a free
// 127.0.0.1 port and wait for its `listening on` line, run admin subcommands, and speak raw HTTP with
// exact header names and a chosen Host header (which fetch does not allow).
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'dockhand.mjs');

/** The environment a child needs: Node 22 from node_modules/.bin first on PATH (see the toolchain notes). */
function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` };
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far (its request log). */
  stderr(): string;
  /** Signal the process (SIGTERM by default) and wait for it to exit; SIGKILL if it lingers. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnServerProcess(dataDir: string, extraArgs: string[] = [], timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'server', '--data', dataDir, '--host', '127.0.0.1', '--port', '0', ...extraArgs], {
    cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not print 'listening on' within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /^listening on (http:\/\/\S+)\n/m.exec(stdout);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening; stderr: ${stderr}`));
    });
  });
  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  return {
    url,
    port: Number(new URL(url).port),
    child,
    stderr: () => stderr,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const result = await exited;
        clearTimeout(timer);
        return result;
      })();
      return stopping;
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `dockhand …` to completion (killed after `timeoutMs`). */
export function runDockhand(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RawRequest {
  method?: string;
  /** Header names are sent exactly as written; a `Host` here replaces the automatic one. */
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One HTTP/1.1 request without connection reuse, so each test request stands alone. */
export function httpRequest(url: string, req: RawRequest = {}): Promise<RawResponse> {
  const u = new URL(url);
  const headers = { ...req.headers };
  const hasHost = Object.keys(headers).some((k) => k.toLowerCase() === 'host');
  return new Promise((resolve, reject) => {
    const r = http.request({
      host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: req.method ?? 'GET',
      headers: { Connection: 'close', ...(hasHost ? {} : { Host: u.host }), ...headers },
      setHost: false, agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    // a string body would make Node send the header block in the body's encoding (UTF-8) rather than
    // latin1, mangling header values that carry UTF-8 bytes: always hand it bytes
    r.end(typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body);
  });
}
