// The `dockhand` command as it ships: the bundle scripts/build-cli.ts makes, chosen by bin/dockhand.mjs only
// while it is current, loading per command only what that command needs; and the agent-only bundle running
// on its own, as on a device. (How fast it starts is bench/cli-start.ts's business, not a test's.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureCli } from '../../scripts/build-cli.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
const bin = path.join(repo, 'bin', 'dockhand.mjs');

// Prints every module URL the process resolves (ES imports and require() alike) to stderr at exit.
const RECORDER = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
const seen = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(seen) + '\\n'));
`)}`;

function loaded(args: string[], env: NodeJS.ProcessEnv = {}): { urls: string[]; status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', RECORDER, bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  assert.ok(line, `the recorder reported (stderr: ${r.stderr})`);
  return { urls: JSON.parse(line.slice(7)) as string[], status: r.status, stdout: r.stdout };
}

const NATIVE = /\/node_modules\/(better-sqlite3|serialport|@serialport|usb)\//;

test('dockhand --help runs from the bundle and loads no native module, no tsx and no command', async () => {
  await ensureCli(repo);
  const r = loaded(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /usage: dockhand <command>/);
  assert.ok(r.urls.some((u) => u.endsWith('/dist/cli/index.mjs')), 'the bundle ran');
  assert.deepEqual(r.urls.filter((u) => NATIVE.test(u) || /\/node_modules\/tsx\//.test(u) || u.endsWith('.ts')), []);
  const bundleBytes = r.urls.filter((u) => u.includes('/dist/cli/')).reduce((n, u) => n + statSync(new URL(u)).size, 0);
  assert.ok(bundleBytes < 32 * 1024, `a few small files, not the commands' code (${bundleBytes} bytes: ${r.urls.join(' ')})`);
});

test("the bundle's compiled code is kept beside it and taken by the next start, never in the shared temporary folder", async (t) => {
  await ensureCli(repo);
  const tmp = tempDir(t);
  // NODE_DEBUG_NATIVE=COMPILE_CACHE: Node says where it keeps the cache and whether it took an entry
  const run = () => spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
  run();
  const second = run();
  assert.equal(second.status, 0);
  const cacheDir = path.join(repo, 'dist', 'cli', '.compile-cache');
  assert.ok(second.stderr.includes(`resolved path ${cacheDir}`), `the cache is beside the bundle:\n${second.stderr}`);
  assert.match(second.stderr, /cache for file:\S*\/dist\/cli\/index\.mjs was accepted/, 'the second start took the compiled code');
  assert.equal(existsSync(path.join(tmp, 'node-compile-cache')), false, 'nothing in the temporary folder');
});

test('each command loads its own chunks only: `agent --help` loads no native module; `station --help` no USB', async () => {
  await ensureCli(repo);
  const agent = loaded(['agent', '--help']);
  assert.equal(agent.status, 0);
  assert.deepEqual(agent.urls.filter((u) => NATIVE.test(u)), []);
  const station = loaded(['station', '--help']);
  assert.equal(station.status, 0);
  assert.deepEqual(station.urls.filter((u) => /\/node_modules\/(usb|serialport|@serialport)\//.test(u)), [], 'serial and USB load when a port is watched');
});

test('bin/dockhand.mjs runs the bundle only while it is newer than every source it was built from', (t) => {
  // A miniature checkout: the real bin, a stand-in bundle and a stand-in source that say who they are.
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'cli'));
  mkdirSync(path.join(dir, 'dist', 'cli'), { recursive: true });
  copyFileSync(bin, path.join(dir, 'bin', 'dockhand.mjs'));
  copyFileSync(path.join(repo, 'bin', 'bundle-current.mjs'), path.join(dir, 'bin', 'bundle-current.mjs'));
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(path.join(dir, 'cli', 'index.ts'), "export async function main(): Promise<void> { console.log('sources'); }\n");
  writeFileSync(path.join(dir, 'dist', 'cli', 'index.mjs'), "export async function main() { console.log('bundle'); }\n");
  const builtAt = Date.now();
  writeFileSync(path.join(dir, 'dist', 'cli', 'inputs.json'), JSON.stringify({ builtAt, inputs: ['cli/index.ts', 'package.json'] }));
  const past = new Date(builtAt - 60_000);
  utimesSync(path.join(dir, 'cli', 'index.ts'), past, past);
  utimesSync(path.join(dir, 'package.json'), past, past);
  const run = (env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'dockhand.mjs')], { encoding: 'utf8', env: { ...process.env, ...env } });
    return `${r.stdout.trim()}${r.status === 0 ? '' : ` (exit ${r.status}: ${r.stderr})`}`;
  };
  assert.equal(run(), 'bundle', 'current bundle');
  assert.equal(run({ DOCKHAND_FROM_SOURCE: '1' }), 'sources', 'asked for the sources');
  const later = new Date(builtAt + 60_000);
  utimesSync(path.join(dir, 'cli', 'index.ts'), later, later);
  assert.equal(run(), 'sources', 'a source edited after the build');
  utimesSync(path.join(dir, 'cli', 'index.ts'), past, past);
  writeFileSync(path.join(dir, 'dist', 'cli', 'inputs.json'), JSON.stringify({ builtAt, inputs: ['cli/index.ts', 'cli/gone.ts'] }));
  assert.equal(run(), 'sources', 'a source the bundle was built from is gone');
  writeFileSync(path.join(dir, 'dist', 'cli', 'inputs.json'), 'not json');
  assert.equal(run(), 'sources', 'an unreadable manifest (a build cut short)');
});

test('the agent-only bundle runs alone, as on a device: help, and a clear word when serial support is missing', async (t) => {
  const built = await ensureCli(repo);
  const dir = tempDir(t);
  const agent = path.join(dir, 'dockhand-agent.mjs');
  copyFileSync(built.agentFile, agent);
  const help = spawnSync(process.execPath, [agent, '--help'], { encoding: 'utf8', cwd: dir });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /--usb-gadget/);
  const serial = spawnSync(process.execPath, [agent, '--port', '/dev/ttyGS0', '--root', path.join(dir, 'root')], { encoding: 'utf8', cwd: dir });
  assert.equal(serial.status, 1);
  assert.match(serial.stderr, /serial links need the `serialport` package .*; a USB gadget \(--usb-gadget\) does not/);
  const gadget = spawnSync(process.execPath, [agent, '--usb-gadget', '--ffs', path.join(dir, 'no-ffs'), '--root', path.join(dir, 'root')], { encoding: 'utf8', cwd: dir });
  assert.equal(gadget.status, 1);
  assert.match(gadget.stderr, /no-ffs is not a FunctionFS mount \(no ep0 there\); run `dockhand agent gadget setup` first/);
});

// Prints, at exit, the Node internals a process loaded that a WinCE-DM client or server never needs: undici
// (fetch, WebSocket) and http2. An ES `import` of node:http loads both (its WebSocket getters), a tenth of a
// second of every start; the station and the server load node:http through electron/engine/node-http.ts.
// Also TLS and HTTPS, which a station talking plain HTTP without the web console (--ui) does not need.
const INTERNALS = `data:text/javascript,${encodeURIComponent(`
process.on('exit', () => process.stderr.write('INTERNALS ' + JSON.stringify(process.moduleLoadList.filter((m) => /undici|http2|NativeModule (_?tls|https)/.test(m))) + '\\n'));
`)}`;

const internalsOf = (stderr: string): string[] => {
  const line = stderr.split('\n').find((l) => l.startsWith('INTERNALS '));
  assert.ok(line, `the process reported its internals (stderr: ${stderr})`);
  return JSON.parse(line.slice(10)) as string[];
};

test('a whole server and station run load neither undici nor http2; the station on plain HTTP no TLS either', async (t) => {
  await ensureCli(repo);
  const dir = tempDir(t);
  const server = spawn(process.execPath, ['--import', INTERNALS, bin, 'server', '--data', path.join(dir, 'server'), '--host', '127.0.0.1', '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => server.kill('SIGKILL'));
  let out = '';
  let err = '';
  server.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  server.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<void>((resolve) => server.on('exit', () => resolve()));
  const url = (await waitFor('the server to listen', () => /listening on (http:\/\/\S+)/.exec(out), 30_000))[1]!;
  const station = spawnSync(process.execPath, ['--import', INTERNALS, bin, 'station', '--server', url, '--data', path.join(dir, 'station'), '--once'],
    { encoding: 'utf8' });
  assert.equal(station.status, 0, station.stdout + station.stderr);
  assert.match(station.stdout, /polled http:\/\/127\.0\.0\.1:\d+\/devicemgmt\/server\.aspx/, 'the station polled the server');
  assert.deepEqual(internalsOf(station.stderr), [], 'the station');
  server.kill('SIGTERM');
  await exited;
  assert.deepEqual(internalsOf(err).filter((m) => /undici|http2/.test(m)), [], 'the server, after answering the station');
});
