// Benchmark: how close any Node download can come to curl on this machine, as a floor for item 1 of issue 11
// (the station's whole install against curl). Against the same `dockhand server` on loopback, in interleaved
// rounds, `sync` before each run: curl fetching into a file; bench/floor/raw-get.mjs (a plain socket read into
// one reused buffer, synchronous writes) with the SHA-256 and the final fdatasync the station needs, and
// without them. No protocol, no database, no checkpoint: what is left is Node, the hash and the disk.
//
//   npm run bench:floor -- [--mib 1024] [--rounds 4]
//
// Prints per variant the median (range) of wall time and CPU time, and the ratio to curl in the same round.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dockhandSync, loadAverage, makePackage, measured, median, prepareCli, repo, requireTool, span, startServer, type ProcessCost } from './common.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' }, rounds: { type: 'string', default: '4' } } });
const MIB = Number(values.mib);
const ROUNDS = Math.max(1, Number(values.rounds));
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-bench-floor-'));
const rawGet = path.join(repo, 'bench', 'floor', 'raw-get.mjs');

const VARIANTS: Array<{ name: string; env: Record<string, string> | null }> = [
  { name: 'curl', env: null },
  { name: 'node socket + SHA-256 + fdatasync', env: {} },
  { name: 'node socket + SHA-256', env: { FLOOR_SYNC: '0' } },
  { name: 'node socket alone', env: { FLOOR_SYNC: '0', FLOOR_HASH: '0' } },
];

async function main(): Promise<void> {
  await prepareCli();
  requireTool('curl', ['--version'], 'curl');
  console.log(`load average at start ${loadAverage()} (${os.cpus().length} CPUs)`);
  const file = path.join(dir, 'package.bin');
  const sha = await makePackage(file, MIB);
  const serverData = path.join(dir, 'server');
  const id = dockhandSync(['server', 'package', 'add', '--data', serverData, '--file', file, '--name', `Floor ${MIB} MiB`]);
  rmSync(file);
  const server = await startServer(serverData);
  const url = `${server.url}/packages/${id}/package.bin`;
  const results = new Map<string, ProcessCost[]>(VARIANTS.map((v) => [v.name, []]));
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      const line: string[] = [];
      for (const v of order) {
        spawnSync('sync');
        const target = path.join(dir, 'got.bin');
        const cost = v.env === null
          ? await measured('curl', ['-sS', '--fail', '-o', target, url])
          : await measured(process.execPath, [rawGet, url, target], { env: { ...process.env, ...v.env } });
        if (cost.code !== 0 || statSync(target).size !== MIB * 1024 * 1024) throw new Error(`${v.name} failed: ${cost.out}`);
        if (v.env !== null && v.env.FLOOR_HASH !== '0' && !cost.out.includes(sha)) throw new Error(`${v.name}: wrong SHA-256: ${cost.out}`);
        rmSync(target);
        results.get(v.name)!.push(cost);
        line.push(`${v.name} ${(cost.wallMs / 1000).toFixed(2)} s`);
      }
      console.log(`  round ${round + 1}: ${line.join(', ')}; load ${loadAverage()}`);
    }
  } finally {
    await server.stop();
  }
  const curl = results.get('curl')!;
  console.log(`\n${MIB} MiB over http://127.0.0.1, ${ROUNDS} interleaved rounds, median (range)`);
  for (const v of VARIANTS) {
    const r = results.get(v.name)!;
    const ratio = v.env === null ? '' : `   ÷ curl ${span(r.map((x, i) => x.wallMs / curl[i]!.wallMs))}×`;
    console.log(`  ${v.name.padEnd(34)} wall ${span(r.map((x) => x.wallMs / 1000))} s   CPU ${span(r.map((x) => x.cpuS))} s${ratio}`);
  }
  // The hash alone, in memory, on one core: no client that checks the SHA-256 of a package as it arrives can
  // take less time than this (SHA-256 is one sequential chain per package), however the rest is arranged.
  const rates = hashRates();
  const hashS = MIB / median(rates);
  const curlS = median(curl.map((x) => x.wallMs / 1000));
  console.log(`  SHA-256 alone, in memory, one core: ${span(rates, 0)} MiB/s: ${MIB} MiB take ${hashS.toFixed(2)} s, ` +
    `${(hashS / curlS).toFixed(2)}× curl's median; a client hashing on the way cannot be faster than that`);
  console.log(`\nload average at end ${loadAverage()}`);
}

/** SHA-256 throughput of this machine in MiB/s, five times over 256 MiB already in memory. */
function hashRates(): number[] {
  const bytes = Buffer.alloc(256 * 1024 * 1024, 0x5a);
  const rates: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const t0 = performance.now();
    createHash('sha256').update(bytes).digest();
    rates.push(256 / ((performance.now() - t0) / 1000));
  }
  return rates;
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
