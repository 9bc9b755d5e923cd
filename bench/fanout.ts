// Benchmark: fan-out. Docked agents (real `dockhand agent` processes on pseudo-terminals) need the same
// package; one `dockhand station --once` downloads it once and pushes it to each. Two parts, each in
// interleaved pairs (one device, then many; the order alternates), median and range printed:
//
//   line-bound  1 device vs --devices (16) on emulated 115 200-baud lines (test/helpers/line-rate-link.ts):
//               the many should take no longer than the one, since each line is its own bottleneck.
//   fast links  1 device vs --fast-devices (8) on bare socat pty pairs (no baud limit): how many MiB/s one
//               station process pushes in all, and the CPU it spends per MiB pushed (the difference between
//               the two runs over the difference in bytes pushed: start-up, poll and download cancel out),
//               separately from the agents' CPU per MiB received.
//
//   npm run bench:fanout -- [--devices 16] [--kib 128] [--baud 115200] [--fast-devices 8] [--fast-mib 16] [--pairs 3]
//
// The push of each device is timed by its agent's own log lines ("receiving …", "saved …"), read as they
// arrive. Every run checks that each device saved the package and that the server sent it once.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLineRateLink, type LineRateLink } from '../test/helpers/line-rate-link.js';
import { startFaultProxy } from '../test/helpers/fault-proxy.js';
import { benchEnv, dockhandCli, dockhandSync, loadAverage, measured, prepareCli, requireTool, span, startServer } from './common.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '16' },
    kib: { type: 'string', default: '128' },
    baud: { type: 'string', default: '115200' },
    'fast-devices': { type: 'string', default: '8' },
    'fast-mib': { type: 'string', default: '16' },
    pairs: { type: 'string', default: '3' },
  },
});
const DEVICES = Math.max(2, Number(values.devices));
const FAST_DEVICES = Math.max(2, Number(values['fast-devices']));
const BAUD = Number(values.baud);
const PAIRS = Math.max(1, Number(values.pairs));
const work = mkdtempSync(path.join(os.tmpdir(), 'dockhand-bench-fanout-'));
const children = new Set<ChildProcess>();

function killTree(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone already
  }
}

interface Agent {
  child: ChildProcess;
  out: () => string;
  /** performance.now() when a line matching the pattern first arrived. */
  when: (pattern: RegExp) => number | undefined;
}

function startAgent(port: string, root: string, id: string, extra: string[]): Agent {
  const child = spawn(process.execPath, [dockhandCli, 'agent', '--port', port, '--root', root, '--id', id, ...extra], { env: benchEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  const lines: { t: number; line: string }[] = [];
  const take = (c: Buffer): void => {
    const t = performance.now();
    out += c.toString();
    for (const line of c.toString().split('\n')) if (line) lines.push({ t, line });
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  return { child, out: () => out, when: (p) => lines.find((l) => p.test(l.line))?.t };
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU seconds (user + system) a live process has used so far: utime and stime of /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

interface Line {
  stationPath: string;
  devicePath: string;
  close: () => Promise<void>;
}

async function ptyPair(dir: string, i: number): Promise<Line> {
  const a = path.join(dir, `tty${i}-a`);
  const b = path.join(dir, `tty${i}-b`);
  const socat = spawn('timeout', ['900', 'socat', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { detached: true, stdio: 'ignore' });
  children.add(socat);
  await until(`pty pair ${i}`, () => existsSync(a) && existsSync(b));
  return { stationPath: a, devicePath: b, close: async () => killTree(socat) };
}

async function pacedLine(): Promise<Line> {
  const line: LineRateLink = await startLineRateLink({ baud: BAUD });
  return { stationPath: line.stationPath, devicePath: line.devicePath, close: () => line.close() };
}

interface Run {
  wallMs: number;
  stationCpuS: number;
  agentCpuS: number;
  /** From the first device's PUT_BEGIN to the last device's saved file, as the agents logged them. */
  pushMs: number;
  upstream: number;
}

async function round(label: string, devices: number, paced: boolean, serverPort: number): Promise<Run> {
  const dir = path.join(work, label);
  mkdirSync(dir, { recursive: true });
  const lines: Line[] = [];
  const agents: Agent[] = [];
  try {
    for (let i = 0; i < devices; i += 1) {
      const line = paced ? await pacedLine() : await ptyPair(dir, i);
      lines.push(line);
      agents.push(startAgent(line.devicePath, path.join(dir, `dev${i}`), `FAN-${label}-${i}`, paced ? ['--baud', String(BAUD)] : []));
    }
    await until('the agents', () => agents.every((a) => a.out().includes('listening on')));
    const cpu0 = agents.map((a) => cpuSeconds(a.child.pid!));
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: serverPort });
    const server = await startServer(path.join(work, 'server'), ['--public-url', proxy.url], serverPort);
    try {
      const s = await measured(process.execPath, [dockhandCli, 'station', '--server', server.url, '--data', path.join(dir, 'station'),
        '--serial', lines.map((l) => l.stationPath).join(','), ...(paced ? ['--baud', String(BAUD)] : []), '--concurrency', String(devices), '--once']);
      if (s.code !== 0) throw new Error(`station --once failed (${s.code}):\n${s.out}`);
      const begun = agents.map((a) => a.when(/receiving /));
      const saved = agents.map((a) => a.when(/saved .*SHA-256 verified/));
      if (saved.some((x) => x === undefined)) throw new Error(`not every device saved the package:\n${agents.map((a) => a.out()).join('\n')}`);
      const agentCpuS = agents.reduce((sum, a, i) => sum + cpuSeconds(a.child.pid!) - cpu0[i]!, 0);
      return {
        wallMs: s.wallMs,
        stationCpuS: s.cpuS,
        agentCpuS,
        pushMs: Math.max(...(saved as number[])) - Math.min(...(begun as number[])),
        upstream: proxy.stats().totalResponseBodyBytes,
      };
    } finally {
      await server.stop();
      await proxy.close();
    }
  } finally {
    for (const a of agents) killTree(a.child);
    for (const l of lines) await l.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function part(name: string, devices: number, paced: boolean, bytes: number, port: number): Promise<{ one: Run[]; many: Run[] }> {
  const file = path.join(work, `${name}.bin`);
  writeFileSync(file, randomBytes(bytes));
  const serverData = path.join(work, 'server');
  const id = dockhandSync(['server', 'package', 'add', '--data', serverData, '--file', file, '--name', `Fan-out ${name}`, '--flags', '04 00 00 00', '--dest', `\\${name}`]);
  dockhandSync(['server', 'assign', '--data', serverData, '--package', id, '--device', '*']);
  const one: Run[] = [];
  const many: Run[] = [];
  for (let i = 0; i < PAIRS; i += 1) {
    const first = i % 2 === 0;
    if (first) one.push(await round(`${name}-1-${i}`, 1, paced, port));
    many.push(await round(`${name}-${devices}-${i}`, devices, paced, port));
    if (!first) one.push(await round(`${name}-1-${i}`, 1, paced, port));
    for (const r of [one[i]!, many[i]!]) {
      if (r.upstream !== bytes) throw new Error(`the server sent ${r.upstream} bytes for a ${bytes}-byte package: not once`);
    }
    console.log(`  pair ${i + 1}: 1 device ${(one[i]!.wallMs / 1000).toFixed(2)} s, ${devices} devices ${(many[i]!.wallMs / 1000).toFixed(2)} s ` +
      `(${(many[i]!.wallMs / one[i]!.wallMs).toFixed(2)}×); load ${loadAverage()}`);
  }
  // The package is assigned to every device: remove it so the next part's station sees only its own.
  dockhandSync(['server', 'unassign', '--data', serverData, '--package', id, '--device', '*']);
  return { one, many };
}

async function main(): Promise<void> {
  await prepareCli();
  requireTool('socat', ['-V'], 'socat');
  requireTool('/usr/bin/time', ['true'], 'time');
  console.log(`load average at start ${loadAverage()} (${os.cpus().length} CPUs)`);
  // A fixed port for the server behind the counting proxy: taken from a first start on port 0.
  const probe = await startServer(path.join(work, 'server'));
  const port = Number(new URL(probe.url).port);
  await probe.stop();

  const kib = Number(values.kib);
  console.log(`\nline-bound: ${kib} KiB to 1 and to ${DEVICES} devices on ${BAUD}-baud lines (${((kib * 1024) / (BAUD / 10)).toFixed(1)} s each at the line rate)`);
  const slow = await part('line', DEVICES, true, kib * 1024, port);
  const mib = Number(values['fast-mib']);
  console.log(`\nfast links: ${mib} MiB to 1 and to ${FAST_DEVICES} devices on pty pairs without a baud limit`);
  const fast = await part('fast', FAST_DEVICES, false, mib * 1024 * 1024, port);

  const s = (xs: number[], d = 2) => span(xs, d);
  console.log(`\nline-bound, ${PAIRS} interleaved pairs, median (range)`);
  console.log(`  1 device        station --once ${s(slow.one.map((r) => r.wallMs / 1000))} s, push ${s(slow.one.map((r) => r.pushMs / 1000))} s`);
  console.log(`  ${DEVICES} devices      station --once ${s(slow.many.map((r) => r.wallMs / 1000))} s, push ${s(slow.many.map((r) => r.pushMs / 1000))} s`);
  console.log(`  ${DEVICES} ÷ 1          ${s(slow.many.map((r, i) => r.wallMs / slow.one[i]!.wallMs))}× (whole run)`);

  const bytes = mib * 1024 * 1024;
  const pushed = (n: number) => (n * bytes) / 1024 / 1024;
  console.log(`\nfast links, ${PAIRS} interleaved pairs, median (range)`);
  console.log(`  1 device        station --once ${s(fast.one.map((r) => r.wallMs / 1000))} s, push ${s(fast.one.map((r) => r.pushMs / 1000))} s = ${s(fast.one.map((r) => pushed(1) / (r.pushMs / 1000)), 1)} MiB/s, station CPU ${s(fast.one.map((r) => r.stationCpuS))} s`);
  console.log(`  ${FAST_DEVICES} devices       station --once ${s(fast.many.map((r) => r.wallMs / 1000))} s, push ${s(fast.many.map((r) => r.pushMs / 1000))} s = ${s(fast.many.map((r) => pushed(FAST_DEVICES) / (r.pushMs / 1000)), 1)} MiB/s in all, station CPU ${s(fast.many.map((r) => r.stationCpuS))} s`);
  const perMib = fast.many.map((r, i) => ((r.stationCpuS - fast.one[i]!.stationCpuS) / (pushed(FAST_DEVICES) - pushed(1))) * 1000);
  const agentPerMib = fast.many.map((r) => (r.agentCpuS / pushed(FAST_DEVICES)) * 1000);
  console.log(`  station CPU per MiB pushed ${s(perMib, 1)} ms (the ${FAST_DEVICES}-device run's CPU minus the 1-device run's, over the MiB pushed in addition)`);
  console.log(`  agents' CPU per MiB received ${s(agentPerMib, 1)} ms; so one station core would push ${s(perMib.map((x) => 1000 / x), 0)} MiB/s if nothing else ran`);
  console.log(`\nload average at end ${loadAverage()}`);
}

try {
  await main();
} finally {
  for (const c of children) killTree(c);
  rmSync(work, { recursive: true, force: true });
}
