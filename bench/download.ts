// Benchmark: a whole `dockhand station --once` install of a large package from `dockhand server` on
// loopback, against curl fetching the same URL, in interleaved pairs (the order alternates), each station
// run with a fresh data folder. Then the bytes re-sent after a cut.
//
//   npm run bench:download -- [--sizes 256,1024] [--pairs 5] [--engine]
//
// Per size it prints, as median (range) over the pairs: wall time, CPU time (user + system) and peak RSS of
// each process, and the station's time as a multiple of curl's in the same pair. A second reference,
// `curl` then `sync --data` on its file, is what curl would cost if it kept the bytes as the station must
// (the station reports the package downloaded only once it is on the disk): it shows how much of the gap
// is the disk rather than the station. The station's run is the
// whole event: process start, poll, instructions, status 11030, download into the cache (verified against
// the package's SHA-256 and flushed to disk), install into its folder (a hard link: checked), statuses 11031
// and 11035. curl only fetches into a file. --engine adds the station's downloader alone, in this process.
// docs/performance.md has figures and the profile behind them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { downloadResumable, type TransferCheckpoint } from '../electron/engine/transfer/download.js';
import { startFaultProxy } from '../test/helpers/fault-proxy.js';
import { dockhandCli, dockhandSync, loadAverage, makePackage, measured, prepareCli, requireTool, span, startServer, type ProcessCost } from './common.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '256,1024' }, pairs: { type: 'string', default: '5' }, engine: { type: 'boolean', default: false } } });
const SIZES = values.sizes!.split(',').map(Number);
const PAIRS = Math.max(1, Number(values.pairs));
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-bench-download-'));

interface SizeResult {
  mib: number;
  curl: ProcessCost[];
  /** curl, then `sync --data` on its file: the same durability as the station's. */
  curlSync: number[];
  station: ProcessCost[];
  engine: { ms: number; cpuS: number }[];
  linked: boolean[];
}

/** The installed file and the cache's copy are one file (a hard link), not two. */
function installedByLink(data: string, fileName: string): boolean {
  const installed = statSync(path.join(data, 'root', 'Bench', fileName));
  const cache = path.join(data, 'cache');
  const folder = readdirSync(cache).find((d) => d.startsWith('p-'));
  return folder !== undefined && statSync(path.join(cache, folder, 'file')).ino === installed.ino;
}

async function benchSize(mib: number): Promise<SizeResult> {
  const fileName = `package-${mib}.bin`;
  const file = path.join(dir, fileName);
  process.stdout.write(`\n${mib} MiB: making the package… `);
  const sha = await makePackage(file, mib);
  const size = statSync(file).size;
  const serverData = path.join(dir, `server-${mib}`);
  const id = dockhandSync(['server', 'package', 'add', '--data', serverData, '--file', file, '--name', `Bench ${mib} MiB`, '--dest', '\\Bench']);
  dockhandSync(['server', 'assign', '--data', serverData, '--package', id, '--device', '*']);
  rmSync(file);
  const server = await startServer(serverData);
  const url = `${server.url}/packages/${id}/${fileName}`;
  console.log(`served at ${url}; load average ${loadAverage()}`);
  const r: SizeResult = { mib, curl: [], curlSync: [], station: [], engine: [], linked: [] };
  try {
    // Each run starts on a settled disk: the previous run's file is removed and flushed first (on a disk
    // mounted with `discard`, removing a gigabyte that reached the disk queues a trim that a following
    // fdatasync would wait behind).
    const settle = (): void => void spawnSync('sync');
    const curl = async (): Promise<void> => {
      settle();
      const out = path.join(dir, 'curl.bin');
      const c = await measured('curl', ['-sS', '--fail', '-o', out, url]);
      if (c.code !== 0 || statSync(out).size !== size) throw new Error(`curl did not fetch the package: ${c.out}`);
      rmSync(out);
      r.curl.push(c);
    };
    const curlSync = async (): Promise<void> => {
      settle();
      const out = path.join(dir, 'curl-sync.bin');
      const t0 = performance.now();
      const c = await measured('curl', ['-sS', '--fail', '-o', out, url]);
      const s = spawnSync('sync', ['--data', out]);
      const ms = performance.now() - t0;
      if (c.code !== 0 || s.status !== 0) throw new Error(`curl + sync did not keep the package: ${c.out}${s.stderr}`);
      rmSync(out);
      r.curlSync.push(ms);
    };
    const station = async (i: number): Promise<void> => {
      settle();
      const data = path.join(dir, `station-${mib}-${i}`);
      const s = await measured(process.execPath, [dockhandCli, 'station', '--server', server.url, '--data', data, '--id', `BENCH-${mib}-${i}`, '--once']);
      if (s.code !== 0 || !/sent status 11035/.test(s.out)) throw new Error(`station --once did not install the package (exit ${s.code}):\n${s.out}`);
      r.linked.push(installedByLink(data, fileName));
      rmSync(data, { recursive: true, force: true });
      r.station.push(s);
    };
    for (let i = 0; i < PAIRS; i += 1) {
      if (i % 2 === 0) {
        await curl();
        await station(i);
        await curlSync();
      } else {
        await curlSync();
        await station(i);
        await curl();
      }
      const c = r.curl[i]!;
      const s = r.station[i]!;
      console.log(`  pair ${i + 1}: curl ${(c.wallMs / 1000).toFixed(2)} s, station ${(s.wallMs / 1000).toFixed(2)} s (${(s.wallMs / c.wallMs).toFixed(2)}×), ` +
        `curl + fdatasync ${(r.curlSync[i]! / 1000).toFixed(2)} s; load ${loadAverage()}`);
      if (values.engine) {
        const part = path.join(dir, `engine-${mib}.part`);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const got = await downloadResumable({ url, partPath: part, checkpoint: null, expectedSize: size, sha256: sha, saveCheckpoint: () => undefined });
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        if (got.sha256 !== sha) throw new Error('the engine download did not verify');
        rmSync(part);
        r.engine.push({ ms, cpuS: (cpu.user + cpu.system) / 1e6 });
      }
    }
    if (mib === Math.min(...SIZES)) await cutAndResume(server.url, url, size, sha);
  } finally {
    await server.stop();
  }
  return r;
}

// The cut: the transfer drops at 40 %, then resumes; count what the server sent in all.
async function cutAndResume(base: string, url: string, size: number, sha: string): Promise<void> {
  const host = new URL(base);
  const proxy = await startFaultProxy({ host: host.hostname, port: Number(host.port) });
  const cutAt = Math.floor(size * 0.4);
  proxy.setPlans([{ cutAfterBodyBytes: cutAt }]);
  const viaProxy = url.replace(base, proxy.url);
  const part = path.join(dir, 'cut.part');
  let cp: TransferCheckpoint | null = null;
  const saveCheckpoint = (x: TransferCheckpoint): void => void (cp = x);
  await downloadResumable({ url: viaProxy, partPath: part, checkpoint: null, expectedSize: size, sha256: sha, saveCheckpoint }).then(
    () => Promise.reject(new Error('the cut did not happen')),
    () => undefined,
  );
  const resumed = await downloadResumable({ url: viaProxy, partPath: part, checkpoint: cp, expectedSize: size, sha256: sha, saveCheckpoint });
  const sent = proxy.stats().totalResponseBodyBytes;
  await proxy.close();
  rmSync(part);
  console.log(`  cut at ${cutAt} bytes: resumed from byte ${resumed.resumedFrom}; the server sent ${sent} body bytes for a ${size}-byte package (${sent - size} re-sent)`);
}

function report(r: SizeResult): void {
  const s = (xs: ProcessCost[], f: (x: ProcessCost) => number, d = 2) => span(xs.map(f), d);
  const ratios = r.station.map((x, i) => x.wallMs / r.curl[i]!.wallMs);
  console.log(`\n${r.mib} MiB over http://127.0.0.1, ${r.curl.length} interleaved pairs, median (range)`);
  console.log(`  curl            wall ${s(r.curl, (x) => x.wallMs / 1000)} s   CPU ${s(r.curl, (x) => x.cpuS)} s   peak RSS ${s(r.curl, (x) => x.peakRssMb, 0)} MB`);
  console.log(`  station --once  wall ${s(r.station, (x) => x.wallMs / 1000)} s   CPU ${s(r.station, (x) => x.cpuS)} s (user ${s(r.station, (x) => x.userS)}, system ${s(r.station, (x) => x.sysS)})   peak RSS ${s(r.station, (x) => x.peakRssMb, 0)} MB`);
  console.log(`  curl + fdatasync wall ${span(r.curlSync.map((x) => x / 1000))} s (curl, then sync --data on its file)`);
  console.log(`  station ÷ curl  ${span(ratios)}×   installed by hard link: ${r.linked.every(Boolean) ? 'yes' : `no (${r.linked.filter((x) => !x).length} of ${r.linked.length})`}`);
  console.log(`  station ÷ (curl + fdatasync)  ${span(r.station.map((x, i) => x.wallMs / r.curlSync[i]!))}×`);
  if (r.engine.length > 0) {
    const ratiosEngine = r.engine.map((x, i) => x.ms / r.curl[i]!.wallMs);
    console.log(`  engine alone    wall ${span(r.engine.map((x) => x.ms / 1000))} s   CPU ${span(r.engine.map((x) => x.cpuS))} s   ÷ curl ${span(ratiosEngine)}× (downloader in this process, no start-up)`);
  }
}

async function main(): Promise<void> {
  await prepareCli();
  requireTool('curl', ['--version'], 'curl');
  requireTool('/usr/bin/time', ['true'], 'time');
  console.log(`load average at start ${loadAverage()} (${os.cpus().length} CPUs)`);
  const results: SizeResult[] = [];
  for (const mib of SIZES) results.push(await benchSize(mib));
  results.forEach(report);
  console.log(`\nload average at end ${loadAverage()}`);
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
