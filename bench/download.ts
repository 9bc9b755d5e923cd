// Benchmark: the station downloading a large package from the reference server, against curl fetching the
// same URL in the same run; then the bytes re-sent after a cut. Loopback only.
//
//   npm run bench -- [--mib 256] [--runs 2]
//
// Prints: curl's time, the engine's transfer time (the station's own resumable downloader, in process),
// the whole `dockhand station --once` run (poll, instructions, location, download, verify, install), the
// ratios against curl, and the bytes the server re-sent when the transfer is cut at 40 %.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { downloadResumable, type TransferCheckpoint } from '../electron/engine/transfer/download.js';
import { startFaultProxy } from '../test/helpers/fault-proxy.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '2' } } });
const MIB = Number(values.mib);
const RUNS = Math.max(1, Number(values.runs));
const repo = path.resolve(import.meta.dirname, '..');
const dockhand = path.join(repo, 'bin', 'dockhand.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-bench-'));
const env = { ...process.env, PATH: `${path.join(repo, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };

function run(args: string[]): string {
  const r = spawnSync(process.execPath, [dockhand, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dockhand ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function makePackage(file: string, mib: number): Promise<string> {
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

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const rate = (bytes: number, ms: number) => `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(0)} MiB/s`;

async function main(): Promise<void> {
  const curlCheck = spawnSync('curl', ['--version']);
  if (curlCheck.status !== 0) throw new Error('curl is needed for this benchmark (apt-get install curl)');
  const file = path.join(dir, 'package.bin');
  process.stdout.write(`making a ${MIB} MiB package… `);
  const sha = await makePackage(file, MIB);
  const size = statSync(file).size;
  console.log('done');

  const serverData = path.join(dir, 'server');
  const id = run(['server', 'package', 'add', '--data', serverData, '--file', file, '--name', 'Bench package', '--dest', '\\Bench']);
  run(['server', 'assign', '--data', serverData, '--package', id, '--device', '*']);
  const server = spawn(process.execPath, [dockhand, 'server', '--data', serverData, '--host', '127.0.0.1', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    server.on('exit', () => reject(new Error('the server exited')));
  });
  const url = `${base}/packages/${id}/package.bin`;
  try {
    const curl: number[] = [];
    const engine: number[] = [];
    const station: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const out = path.join(dir, 'curl.bin');
      let t0 = performance.now();
      const c = spawnSync('curl', ['-sS', '--fail', '-o', out, url]);
      curl.push(performance.now() - t0);
      if (c.status !== 0 || statSync(out).size !== size) throw new Error('curl did not fetch the package');
      rmSync(out);

      const part = path.join(dir, `engine-${i}.part`);
      let cp: TransferCheckpoint | null = null;
      t0 = performance.now();
      const r = await downloadResumable({ url, partPath: part, checkpoint: null, expectedSize: size, sha256: sha, saveCheckpoint: (x) => { cp = x; } });
      engine.push(performance.now() - t0);
      if (r.sha256 !== sha || !cp) throw new Error('the engine download did not verify');
      rmSync(part);

      const data = path.join(dir, `station-${i}`);
      t0 = performance.now();
      run(['station', '--server', base, '--data', data, '--id', `BENCH-${i}`, '--once']);
      station.push(performance.now() - t0);
      rmSync(data, { recursive: true, force: true });
    }
    const best = (xs: number[]) => Math.min(...xs);
    console.log(`\npackage: ${MIB} MiB over http://127.0.0.1 (best of ${RUNS})`);
    console.log(`curl                           ${seconds(best(curl))} s  ${rate(size, best(curl))}`);
    console.log(`station transfer (engine)      ${seconds(best(engine))} s  ${rate(size, best(engine))}  ratio ${(best(engine) / best(curl)).toFixed(2)}× curl (includes SHA-256 verify)`);
    console.log(`station --once (whole event)   ${seconds(best(station))} s  ${rate(size, best(station))}  ratio ${(best(station) / best(curl)).toFixed(2)}× curl (process start, poll, instructions, location, download, verify, install)`);

    // The cut: the transfer drops at 40 %, then resumes; count what the server sent in all.
    const host = new URL(base);
    const proxy = await startFaultProxy({ host: host.hostname, port: Number(host.port) });
    const cutAt = Math.floor(size * 0.4);
    proxy.setPlans([{ cutAfterBodyBytes: cutAt }]);
    const viaProxy = `${proxy.url}/packages/${id}/package.bin`;
    const part = path.join(dir, 'cut.part');
    let cp: TransferCheckpoint | null = null;
    try {
      await downloadResumable({ url: viaProxy, partPath: part, checkpoint: null, expectedSize: size, sha256: sha, saveCheckpoint: (x) => { cp = x; } });
      throw new Error('the cut did not happen');
    } catch (err) {
      if ((err as Error).message === 'the cut did not happen') throw err;
    }
    const resumed = await downloadResumable({ url: viaProxy, partPath: part, checkpoint: cp, expectedSize: size, sha256: sha, saveCheckpoint: (x) => { cp = x; } });
    const sent = proxy.stats().totalResponseBodyBytes;
    await proxy.close();
    console.log(`cut at ${cutAt} bytes: resumed from byte ${resumed.resumedFrom}; server sent ${sent} body bytes for a ${size}-byte package; re-sent ${sent - size} bytes`);
  } finally {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
