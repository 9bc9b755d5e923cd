// Benchmark: poll throughput and latency of `dockhand server` (a separate process on loopback) under a fleet
// of distinct devices, against two references in the same run: a bare `node:http` server answering the same
// poll response from memory (what Node itself can do on this machine, the ceiling), and, where installed,
// `wrk` driving both with a Lua script that varies X-Device-UUID (a load generator that costs less CPU).
//
//   npm run bench:server -- [--devices 5000] [--clients 16] [--seconds 5] [--runs 3] [--no-wrk] [--profile DIR]
//
// `--profile DIR` runs the server under `node --cpu-prof` and leaves its profile in DIR (open it in Chrome's
// DevTools, Performance tab).
// Every poll is a real document built with shared/protocol for its own device ID, with the real X-Device-*
// headers, over keep-alive connections; `--clients` of them are in flight at once. Runs are interleaved
// (server, bare, server, bare…) and each prints polls/s, latency p50/p99/max and the server's CPU time per
// poll; the summary gives the median and the range over the runs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDeviceHeaders, buildPollRequest, parsePollResponse } from '../shared/protocol/index.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '5000' }, clients: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '5' }, runs: { type: 'string', default: '3' }, 'no-wrk': { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const DEVICES = Number(values.devices);
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const RUNS = Math.max(1, Number(values.runs));
const WARMUP_MS = 1000;
const repo = path.resolve(import.meta.dirname, '..');
const dockhand = path.join(repo, 'bin', 'dockhand.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-server-load-'));
const env = { ...process.env, PATH: `${path.join(repo, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
const ENDPOINT = '/devicemgmt/server.aspx';

interface Request { headers: Record<string, string>; body: Buffer }
interface Result { polls: number; seconds: number; latencies: number[]; errors: number; cpuMsPerPoll: number | null }

const deviceId = (i: number) => `BENCH-${String(i).padStart(6, '0')}-0000-4000-8000-000000000000`;

/** A stock client's poll for device `i`: its own ID in the body and in X-Device-UUID. */
function pollRequest(i: number): Request {
  const id = deviceId(i);
  const body = Buffer.from(buildPollRequest({
    ManagementSystem: { Name: 'SMS Device Management', Version: '2.5.0.0' },
    Identification: {
      ID: id, DeviceName: `TILL-${i}`, UserName: 'shop\\till', Platform: 'LightPOS', Processor: '2336',
      NetworkAdapter: { IPAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, IPSubnet: '255.255.0.0' },
      CodePage: 1252, SystemDefaultLCID: 1033,
    },
    Connection: { AuthorizationToken: '0', Timestamp: '0' },
  }));
  const headers = buildDeviceHeaders({ uuid: id, auth: '0', timestamp: '', clientVersion: '1.0', action: 'Poll' });
  return { headers: { ...headers, 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': String(body.length) }, body };
}

function dockhandCli(args: string[]): string {
  const r = spawnSync(process.execPath, [dockhand, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dockhand ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Starts a child that prints `listening on URL`; its stderr (the request log) goes to a file, as a service's would. */
async function startListening(args: string[], name: string): Promise<{ child: ChildProcess; url: string }> {
  const log = openSync(path.join(dir, `${name}.log`), 'w');
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', log] });
  closeSync(log);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening`)));
  });
  return { child, url };
}

/** User + system CPU of a process so far, in ms (from /proc; null where there is none). */
function cpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** `CLIENTS` loops, each posting the next device's poll as soon as its last answer is read. */
async function loadWithNode(url: string, requests: Request[], pid: number | undefined): Promise<Result> {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const latencies: number[] = [];
  let errors = 0;
  let next = Math.floor(Math.random() * requests.length);
  const started = performance.now();
  const measureFrom = started + WARMUP_MS;
  const end = measureFrom + SECONDS * 1000;
  let cpuAtStart: number | null = null;
  setTimeout(() => { cpuAtStart = cpuMs(pid); }, WARMUP_MS);
  const post = (r: Request) => new Promise<number>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: ENDPOINT, method: 'POST', headers: r.headers, agent }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let t0 = performance.now(); t0 < end; t0 = performance.now()) {
      const status = await post(requests[next++ % requests.length]!);
      const t1 = performance.now();
      if (t0 >= measureFrom && t1 <= end) {
        if (status === 200) latencies.push(t1 - t0);
        else errors += 1;
      }
    }
  }));
  const cpuAtEnd = cpuMs(pid);
  agent.destroy();
  const cpu = cpuAtStart !== null && cpuAtEnd !== null ? (cpuAtEnd - cpuAtStart) / Math.max(1, latencies.length) : null;
  return { polls: latencies.length, seconds: SECONDS, latencies, errors, cpuMsPerPoll: cpu };
}

/** wrk with a Lua script that gives every request the next device's ID (header and body). */
function loadWithWrk(url: string, template: string, pid: number | undefined): Result {
  const script = path.join(dir, 'polls.lua');
  const [before, after] = template.split('@ID@');
  writeFileSync(script, `
local n = math.random(0, ${DEVICES - 1})
local before = ${JSON.stringify(before)}
local after = ${JSON.stringify(after)}
request = function()
  n = (n + 1) % ${DEVICES}
  local id = string.format("BENCH-%06d-0000-4000-8000-000000000000", n)
  local body = before .. id .. after
  return wrk.format("POST", "${ENDPOINT}", {
    ["X-Device-UUID"] = id, ["X-Device-Auth"] = "0", ["X-Device-Timestamp"] = "", ["X-Device-client-version"] = "1.0",
    ["X-Device-Action"] = "Poll", ["Content-Type"] = "text/xml; charset=utf-8" }, body)
end`);
  const before0 = cpuMs(pid);
  const r = spawnSync('wrk', ['-t1', `-c${CLIENTS}`, `-d${SECONDS}s`, '--latency', '-s', script, url], { encoding: 'utf8' });
  const cpu = cpuMs(pid);
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const ms = (label: string) => {
    const m = new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)\\b`).exec(r.stdout);
    if (!m) return NaN;
    return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2]!]!;
  };
  const polls = Number(/(\d+) requests in/.exec(r.stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? 0);
  // wrk reports percentiles, not samples: keep the three that are printed
  return {
    polls, seconds: SECONDS, latencies: [ms(' 50%'), ms(' 99%'), ms('Latency(?:\\s+[\\d.]+\\w+){2}')], errors: non2xx,
    cpuMsPerPoll: before0 !== null && cpu !== null ? (cpu - before0) / Math.max(1, polls) : null,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Summary { rate: number; p50: number; p99: number; max: number; cpu: number | null; errors: number }

function summarise(r: Result, fromWrk: boolean): Summary {
  const base = { rate: r.polls / r.seconds, cpu: r.cpuMsPerPoll, errors: r.errors };
  if (fromWrk) return { ...base, p50: r.latencies[0]!, p99: r.latencies[1]!, max: r.latencies[2]! };
  const sorted = [...r.latencies].sort((a, b) => a - b);
  return { ...base, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
}

const f1 = (n: number) => n.toFixed(1);
const line = (label: string, s: Summary) => console.log(`  ${label.padEnd(26)} ${s.rate.toFixed(0).padStart(6)} polls/s   p50 ${f1(s.p50).padStart(5)} ms   ` +
  `p99 ${f1(s.p99).padStart(5)} ms   max ${f1(s.max).padStart(6)} ms   server CPU ${s.cpu === null ? '?' : `${(s.cpu * 1000).toFixed(0)} µs`}/poll` +
  `${s.errors ? `   ${s.errors} errors` : ''}`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
const span = (xs: number[], digits: number) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

async function main(): Promise<void> {
  console.log(`server load: ${DEVICES} devices, ${CLIENTS} clients in flight, ${SECONDS} s per run after ${WARMUP_MS / 1000} s warm-up, ${RUNS} runs; ${os.cpus().length} CPUs`);
  const data = path.join(dir, 'server');
  const pkgFile = path.join(dir, 'tool.cab');
  const packages: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    writeFileSync(pkgFile, `package ${i}`);
    packages.push(dockhandCli(['server', 'package', 'add', '--data', data, '--file', pkgFile, '--name', `Package ${i}`]));
  }
  for (const id of packages.slice(0, 3)) dockhandCli(['server', 'assign', '--data', data, '--package', id, '--device', '*']);
  // some devices have packages of their own, and settings of their own
  for (let i = 0; i < 20; i += 1) dockhandCli(['server', 'assign', '--data', data, '--package', packages[3]!, '--device', deviceId(i * 50)]);
  dockhandCli(['server', 'settings', '--data', data, '--poll-interval', '0000-00-00 01:00:00', '--software-inventory', 'on',
    '--filter', '*.exe', '--path', '\\Windows']);
  dockhandCli(['server', 'settings', '--data', data, '--device', deviceId(0), '--machine-inventory', 'on']);

  const requests = Array.from({ length: DEVICES }, (_, i) => pollRequest(i));
  const profile = values.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', path.resolve(values.profile)];
  const server = await startListening([...profile, dockhand, 'server', '--data', data, '--host', '127.0.0.1', '--port', '0'], 'dockhand-server');
  const canned = await fetch(`${server.url}${ENDPOINT}`, { method: 'POST', headers: requests[1]!.headers, body: requests[1]!.body });
  const cannedBody = await canned.text();
  if (canned.status !== 200) throw new Error(`the server refused the bench poll: ${canned.status} ${cannedBody}`);
  if (parsePollResponse(cannedBody).ApplicablePackages.length !== 3) throw new Error('the bench poll did not list the three packages for everyone');
  // the ceiling: the same answer from memory, after reading the whole body, as a bare node:http server
  const bare = await startListening(['--input-type=module', '-e', `
    import http from 'node:http';
    const body = Buffer.from(${JSON.stringify(cannedBody)});
    const s = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
      req.on('data', () => {});
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': body.length, 'X-Device-Timestamp': new Date().toISOString() });
        res.end(body);
      });
    });
    s.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + s.address().port));`], 'bare-node');
  const template = requests[7]!.body.toString('utf8').replaceAll(deviceId(7), '@ID@');
  const useWrk = !values['no-wrk'] && spawnSync('wrk', ['--version']).error === undefined;
  if (!useWrk) console.log('  (wrk not installed or --no-wrk: apt-get install wrk for the second reference)');

  const results: Record<string, Summary[]> = {};
  const record = (label: string, s: Summary) => { (results[label] ??= []).push(s); line(label, s); };
  try {
    for (let run = 1; run <= RUNS; run += 1) {
      console.log(`run ${run}`);
      const order = run % 2 ? [server, bare] : [bare, server];
      for (const target of order) {
        const label = target === server ? 'dockhand server (node)' : 'bare node:http (node)';
        record(label, summarise(await loadWithNode(target.url, requests, target.child.pid), false));
      }
      if (useWrk) {
        for (const target of order) {
          const label = target === server ? 'dockhand server (wrk)' : 'bare node:http (wrk)';
          record(label, summarise(loadWithWrk(target.url, template, target.child.pid), true));
        }
      }
    }
  } finally {
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
    await exited; // the profile is written as the server exits
  }
  console.log(`\nmedian (range) over ${RUNS} runs`);
  for (const [label, rs] of Object.entries(results)) {
    const cpus = rs.map((r) => r.cpu).filter((c): c is number => c !== null).map((c) => c * 1000);
    console.log(`  ${label.padEnd(26)} ${span(rs.map((r) => r.rate), 0)} polls/s   p50 ${span(rs.map((r) => r.p50), 1)} ms   ` +
      `p99 ${span(rs.map((r) => r.p99), 1)} ms   max ${span(rs.map((r) => r.max), 1)} ms` +
      `${cpus.length ? `   server CPU ${span(cpus, 0)} µs/poll` : ''}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
}).finally(() => rmSync(dir, { recursive: true, force: true }));
