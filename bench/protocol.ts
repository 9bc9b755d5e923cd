// Benchmark: the WinCE-DM document builders and parsers at 100,000 items — a PollResponse listing 100,000
// packages (over the 4 MiB poll limit, raised here), a FileReport of 100,000 files, an Inventory of 100,000
// items — and a small PollResponse (50 packages, parsed inline), against references in the same run:
//   parse: fast-xml-parser's raw parse (the library Dockhand parses with, without its validator, Dockhand's
//          checks or the reading into typed documents: the floor of a JavaScript parse) and, when Debian's
//          libxml2-utils is installed, `xmllint --noout --timing` (libxml2's own parse time, in C);
//   build: fast-xml-parser's XMLBuilder from the same data.
// Dockhand parses a small document inline and a large one in its parse worker (parseOffThread): both are
// measured, and the worker's line also prints the longest the event loop was held — the main thread's CPU
// time between two ticks of a 1 ms timer (what another device waiting on the station or server feels), and
// the longest gap between ticks by the wall clock (which a busy machine stretches). Rounds are interleaved (every contender once
// per round, in turn); each line prints the median, the range and items/s.
//
//   npm run bench:protocol -- [--items 100000] [--rounds 5] [--only 'FileReport, parse']
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import {
  buildFileReport, buildFileReportAsync, buildInventory, buildInventoryAsync, buildPollResponse, parseFileReport, parseInventory,
  parsePollResponse,
} from '../shared/protocol/index.js';
import type { FileReport, Inventory } from '../shared/protocol/types.js';
import { closeParseWorker, OFF_THREAD_FROM, parseOffThread, useParseWorker } from '../electron/protocol/parse-off-thread.js';

const { values } = parseArgs({ options: {
  items: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '5' }, only: { type: 'string', default: '' },
} });
const N = Math.max(1, Number(values.items));
const ROUNDS = Math.max(1, Number(values.rounds));
const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-bench-protocol-'));
const BIG = { maxBytes: 256 * 1024 * 1024 };
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

// ---- the documents ------------------------------------------------------------------------------
const when = '2025-01-06 09:00:00';
const ids = Array.from({ length: N }, (_, i) => `9A437CA5-5B17-4486-9E87-${String(i).padStart(12, '0')}`);
const report: FileReport = {
  Directories: [{
    Name: '\\Program Files', Created: when, LastAccessed: when, Attributes: '', Directories: [],
    Files: Array.from({ length: N }, (_, i) => ({ Name: `file-${i}.dll`, Version: '1.0.0', Company: 'Contoso', Description: 'a library',
      Size: 1000 + i, Created: when, LastModified: when, LastAccessed: when, Attributes: 'ARCHIVE' })),
  }],
};
const inventory: Inventory = {
  type: 'machine',
  Items: Array.from({ length: N }, (_, i) => ({ name: 'Device_FileSystem', Properties: [
    { name: 'Name', value: `Volume ${i}` }, { name: 'Size', value: String(9888 + i) }, { name: 'UsedSpace', value: '34' }] })),
};

// The same data as fast-xml-parser objects, for its builder.
const fxpBuilder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });
const fxpParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false });
const fxpPoll = { PollResponse: { '@_xmlns': 'http://www.microsoft.com/DeviceManagement.xsd', ApplicablePackages: { Package: ids.map((id) => ({ '@_ID': id })) } } };
const fxpReport = { FileReport: { Directory: { '@_Name': '\\Program Files', '@_Created': when, '@_LastAccessed': when, '@_Attributes': '',
  File: report.Directories[0]!.Files.map((f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [`@_${k}`, String(v)]))) } } };
const fxpInventory = { Inventory: { '@_type': 'machine', InventoryItem: inventory.Items.map((item) => ({ '@_name': item.name,
  Property: item.Properties.map((p) => ({ '@_name': p.name, '#text': p.value })) })) } };

const SMALL = 50;
const smallXml = buildPollResponse({ Settings: { ClientSettings: { PollInterval: 3_600_000 } }, ApplicablePackages: ids.slice(0, SMALL) });
const pollXml = buildPollResponse({ Settings: {}, ApplicablePackages: ids });
const reportXml = buildFileReport(report);
const inventoryXml = buildInventory(inventory);
const files = { small: path.join(dir, 'small.xml'), poll: path.join(dir, 'poll.xml'), report: path.join(dir, 'report.xml'), inventory: path.join(dir, 'inventory.xml') };
writeFileSync(files.small, smallXml);
writeFileSync(files.poll, pollXml);
writeFileSync(files.report, reportXml);
writeFileSync(files.inventory, inventoryXml);
// What arrives over HTTP: bytes. The worker reads them as UTF-8 itself.
const bytes = { poll: Buffer.from(pollXml), report: Buffer.from(reportXml), inventory: Buffer.from(inventoryXml) };

// ---- measuring ----------------------------------------------------------------------------------
interface Contender {
  label: string;
  run: () => unknown | Promise<unknown>;
  /** Print how long the event loop was held (the worker's and the sliced builders' lines). */
  showHold?: boolean;
  /** The run returns its own time in ms (xmllint reports its parse time, without its process start-up). */
  selfTimed?: boolean;
}
interface Measured extends Contender { ms: number[]; cpu: number[]; wall: number[]; gc: number[] }

// Garbage-collection pauses hold the event loop too, whoever caused them: they are reported beside the holds.
let longestGc = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) longestGc = Math.max(longestGc, entry.duration);
}).observe({ entryTypes: ['gc'] });

/**
 * Runs `fn`: its wall time, and the longest the event loop was held meanwhile — the main thread's CPU time
 * between two turns of the loop, and the longest turn by the wall clock.
 */
async function timed(fn: () => unknown | Promise<unknown>): Promise<{ ms: number; cpu: number; wall: number; gc: number }> {
  let lastWall = performance.now();
  let lastCpu = process.threadCpuUsage();
  let cpu = 0;
  let wall = 0;
  let running = true;
  const probe = (): void => {
    const used = process.threadCpuUsage(lastCpu);
    const now = performance.now();
    cpu = Math.max(cpu, (used.user + used.system) / 1000);
    wall = Math.max(wall, now - lastWall);
    lastWall = now;
    lastCpu = process.threadCpuUsage();
    // A timer, not setImmediate: a probe that spins would take a core from the worker it measures.
    if (running) setTimeout(probe, 1);
  };
  setTimeout(probe, 1);
  const start = performance.now();
  lastWall = start;
  lastCpu = process.threadCpuUsage();
  longestGc = 0;
  await fn();
  const ms = performance.now() - start;
  probe();
  running = false;
  await new Promise((r) => setImmediate(r));
  return { ms, cpu, wall, gc: longestGc };
}

/**
 * xmllint's own parse time. It prints whole milliseconds, so a small document is parsed 100 times over
 * (`--repeat`) and the time divided.
 */
function xmllint(file: string, repeat = false): () => number {
  return () => {
    const r = spawnSync('xmllint', ['--noout', '--timing', '--huge', ...(repeat ? ['--repeat'] : []), file], { encoding: 'utf8' });
    const parsed = repeat ? /(\d+) iterations took (\d+(?:\.\d+)?) ms/.exec(r.stderr) : /Parsing took (\d+(?:\.\d+)?) ms/.exec(r.stderr);
    if (r.status !== 0 || !parsed) throw new Error(`xmllint failed: ${r.stderr.slice(0, 300)}`);
    return repeat ? Number(parsed[2]) / Number(parsed[1]) : Number(parsed[1]);
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms.toFixed(3)).padStart(7);

async function bench(title: string, items: number, contenders: Contender[], rounds = ROUNDS): Promise<void> {
  if (!title.includes(values.only ?? '')) return;
  const all: Measured[] = contenders.map((c) => ({ ...c, ms: [], cpu: [], wall: [], gc: [] }));
  for (const c of all) if (!c.selfTimed) await c.run(); // warm-up: first calls compile, the worker starts
  for (let round = 0; round < rounds; round++) {
    for (const c of all) {
      if (c.selfTimed) {
        c.ms.push(c.run() as number);
        continue;
      }
      const t = await timed(c.run);
      c.ms.push(t.ms);
      c.cpu.push(t.cpu);
      c.wall.push(t.wall);
      c.gc.push(t.gc);
    }
  }
  console.log(`\n${title} (${items.toLocaleString('en-US')} items)`);
  for (const c of all) {
    const m = median(c.ms);
    const held = c.showHold
      ? `   event loop held: main-thread CPU median ${median(c.cpu).toFixed(0)}, worst ${Math.max(...c.cpu).toFixed(0)} ms; ` +
        `longest turn (wall) median ${median(c.wall).toFixed(0)}, worst ${Math.max(...c.wall).toFixed(0)} ms; longest GC pause ${Math.max(...c.gc).toFixed(0)} ms`
      : '';
    console.log(`  ${c.label.padEnd(48)} median ${fmt(m)} ms  range ${fmt(Math.min(...c.ms))} – ${fmt(Math.max(...c.ms))} ms  ` +
      `${Math.round(items / (m / 1000)).toLocaleString('en-US').padStart(11)} items/s${held}`);
  }
}

console.log(`WinCE-DM documents, ${ROUNDS} interleaved rounds (small document: ${ROUNDS * 20}), Node ${process.version}, ` +
  `${os.cpus().length} CPU(s), load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`sizes: small PollResponse ${(smallXml.length / 1e3).toFixed(1)} kB, PollResponse ${(pollXml.length / 1e6).toFixed(1)} MB, ` +
  `FileReport ${(reportXml.length / 1e6).toFixed(1)} MB, Inventory ${(inventoryXml.length / 1e6).toFixed(1)} MB; ` +
  `Dockhand parses from ${OFF_THREAD_FROM / 1024} KiB on in its worker` +
  `${hasXmllint ? '' : '  (xmllint not installed: apt-get install libxml2-utils)'}`);

const parseRefs = (xml: string, file: string, small = false): Contender[] => [
  { label: 'reference: fast-xml-parser parse (no checks)', run: () => fxpParser.parse(xml) },
  ...(hasXmllint ? [{ label: `reference: xmllint --noout${small ? ' --repeat' : ''} (libxml2, C)`, run: xmllint(file, small), selfTimed: true }] : []),
];
const offThread = (label: string, run: () => Promise<unknown>): Contender => ({ label, run, showHold: true });

const release = useParseWorker();
await bench('small PollResponse, parse', SMALL, [
  { label: 'Dockhand parseOffThread (inline: under the threshold)', run: () => parseOffThread('PollResponse', smallXml) },
  ...parseRefs(smallXml, files.small, true),
], ROUNDS * 20);
await bench('PollResponse, parse', N, [
  { label: 'Dockhand parsePollResponse (on the calling thread)', run: () => parsePollResponse(pollXml, BIG) },
  offThread('Dockhand parseOffThread (worker)', () => parseOffThread('PollResponse', bytes.poll, BIG)),
  ...parseRefs(pollXml, files.poll),
]);
await bench('FileReport, parse', N, [
  { label: 'Dockhand parseFileReport (on the calling thread)', run: () => parseFileReport(reportXml, BIG) },
  offThread('Dockhand parseOffThread (worker)', () => parseOffThread('FileReport', bytes.report, BIG)),
  ...parseRefs(reportXml, files.report),
]);
await bench('Inventory, parse', N, [
  { label: 'Dockhand parseInventory (on the calling thread)', run: () => parseInventory(inventoryXml, BIG) },
  offThread('Dockhand parseOffThread (worker)', () => parseOffThread('Inventory', bytes.inventory, BIG)),
  ...parseRefs(inventoryXml, files.inventory),
]);
release();
await closeParseWorker();
await bench('PollResponse, build', N, [
  { label: 'Dockhand buildPollResponse', run: () => buildPollResponse({ Settings: {}, ApplicablePackages: ids }) },
  { label: 'reference: fast-xml-parser XMLBuilder', run: () => fxpBuilder.build(fxpPoll) },
]);
await bench('FileReport, build', N, [
  { label: 'Dockhand buildFileReport', run: () => buildFileReport(report) },
  { label: 'Dockhand buildFileReportAsync (sliced)', run: () => buildFileReportAsync(report), showHold: true },
  { label: 'reference: fast-xml-parser XMLBuilder', run: () => fxpBuilder.build(fxpReport) },
]);
await bench('Inventory, build', N, [
  { label: 'Dockhand buildInventory', run: () => buildInventory(inventory) },
  { label: 'Dockhand buildInventoryAsync (sliced)', run: () => buildInventoryAsync(inventory), showHold: true },
  { label: 'reference: fast-xml-parser XMLBuilder', run: () => fxpBuilder.build(fxpInventory) },
]);
rmSync(dir, { recursive: true, force: true });
