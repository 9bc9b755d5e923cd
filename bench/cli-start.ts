// Benchmark: how long `dockhand` takes to start, against `node -e 0` (the floor: starting Node itself),
// measured in interleaved runs so both see the same machine load. The bundle is built first.
//
//   npm run bench:cli -- [--runs 30]
//
// Prints, per command, the median and range of the wall time and the ratio of medians to `node -e 0`:
// `dockhand --help` (the goal: ≤ 2× node -e 0), `dockhand agent --help`, and `dockhand --help` from the
// TypeScript sources through tsx (what every command cost before the bundle).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildCli } from '../scripts/build-cli.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const RUNS = Math.max(3, Number(values.runs));
const repo = path.resolve(import.meta.dirname, '..');
const dockhand = path.join(repo, 'bin', 'dockhand.mjs');

interface Subject {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

const subjects: Subject[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'dockhand --help', args: [dockhand, '--help'] },
  { name: 'dockhand agent --help', args: [dockhand, 'agent', '--help'] },
  { name: 'dockhand --help (sources, tsx)', args: [dockhand, '--help'], env: { DOCKHAND_FROM_SOURCE: '1' } },
];

function once(s: Subject): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, s.args, { env: { ...process.env, ...s.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${s.name} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const built = await buildCli({ root: repo });
  console.log(`bundle built (agent-only bundle ${(built.agentBytes / 1024).toFixed(0)} KiB); ${RUNS} interleaved rounds`);
  for (const s of subjects) once(s); // warm the file cache
  const times = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  for (let round = 0; round < RUNS; round += 1) {
    // Rotate the order each round so no subject always runs right after another.
    for (let i = 0; i < subjects.length; i += 1) {
      const s = subjects[(round + i) % subjects.length]!;
      times.get(s.name)!.push(once(s));
    }
  }
  const floor = median(times.get('node -e 0')!);
  for (const s of subjects) {
    const xs = times.get(s.name)!;
    const m = median(xs);
    console.log(`${s.name.padEnd(32)} median ${m.toFixed(1).padStart(6)} ms  range ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} ms  ` +
      `${(m / floor).toFixed(2)}× node -e 0`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
