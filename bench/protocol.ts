// Benchmark: the WinCE-DM document builders and parsers at 100,000 items — a PollResponse listing 100,000
// packages (over the 4 MiB poll limit, raised here), a FileReport of 100,000 files, an Inventory of 100,000
// items — against references in the same run:
//   parse: fast-xml-parser's raw parse (a JavaScript XML library's floor: no checks, no reading) and, when
//          Debian's libxml2-utils is installed, `xmllint --noout --timing` (libxml2's own parse time);
//   build: fast-xml-parser's XMLBuilder from the same data.
// Rounds are interleaved (every contender once per round, in turn), and each line prints the median, the
// range and items/s. The sliced (async) variants also print the longest the event loop was held at once —
// what another device waiting on the station would feel.
//
//   node bin/run-ts.mjs bench/protocol.ts [--items 100000] [--rounds 5] [--only 'FileReport, build']
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import {
  buildFileReport, buildFileReportAsync, buildInventory, buildInventoryAsync, buildPollResponse, parseFileReport, parseInventory,
  parsePollResponse, parsePollResponseAsync,
} from '../shared/protocol/index.js';
import type { FileReport, Inventory } from '../shared/protocol/types.js';

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

const pollXml = buildPollResponse({ Settings: {}, ApplicablePackages: ids });
const reportXml = buildFileReport(report);
const inventoryXml = buildInventory(inventory);
const files = { poll: path.join(dir, 'poll.xml'), report: path.join(dir, 'report.xml'), inventory: path.join(dir, 'inventory.xml') };
writeFileSync(files.poll, pollXml);
writeFileSync(files.report, reportXml);
writeFileSync(files.inventory, inventoryXml);

// ---- measuring ----------------------------------------------------------------------------------
interface Contender { label: string; run: () => unknown | Promise<unknown>; ms: number[]; held: number[]; gc: number[] }

// Garbage-collection pauses hold the event loop too, whoever caused them: they are reported beside the holds.
let longestGc = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) longestGc = Math.max(longestGc, entry.duration);
}).observe({ entryTypes: ['gc'] });

/** Runs `fn`, returning its wall time and the longest stretch the event loop was held meanwhile. */
async function timed(fn: () => unknown | Promise<unknown>): Promise<{ ms: number; held: number; gc: number }> {
  let last = performance.now();
  let held = 0;
  let running = true;
  const probe = (): void => {
    const now = performance.now();
    held = Math.max(held, now - last);
    last = now;
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  const start = performance.now();
  last = start;
  longestGc = 0;
  await fn();
  const ms = performance.now() - start;
  held = Math.max(held, performance.now() - last);
  running = false;
  await new Promise((r) => setImmediate(r));
  return { ms, held, gc: longestGc };
}

function xmllint(file: string): () => number {
  return () => {
    const r = spawnSync('xmllint', ['--noout', '--timing', '--huge', file], { encoding: 'utf8' });
    const parsed = /Parsing took (\d+(?:\.\d+)?) ms/.exec(r.stderr);
    if (r.status !== 0 || !parsed) throw new Error(`xmllint failed: ${r.stderr.slice(0, 300)}`);
    return Number(parsed[1]);
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)).padStart(6);

async function bench(title: string, contenders: Array<Omit<Contender, 'ms' | 'held' | 'gc'> & { selfTimed?: boolean }>): Promise<void> {
  if (!title.includes(values.only ?? '')) return;
  const all = contenders.map((c) => ({ ...c, ms: [] as number[], held: [] as number[], gc: [] as number[] }));
  await all[0]!.run(); // warm-up of the code under test
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of all) {
      if (c.selfTimed) {
        c.ms.push(c.run() as number); // xmllint reports its own parse time (no process start-up)
        continue;
      }
      const t = await timed(c.run);
      c.ms.push(t.ms);
      c.held.push(t.held);
      c.gc.push(t.gc);
    }
  }
  console.log(`\n${title}`);
  for (const c of all) {
    const m = median(c.ms);
    const held = c.held.length && c.label.includes('sliced')
      ? `   event loop held: median run ≤ ${median(c.held).toFixed(0)} ms, worst ${Math.max(...c.held).toFixed(0)} ms (longest GC pause ${Math.max(...c.gc).toFixed(0)} ms)`
      : '';
    console.log(`  ${c.label.padEnd(44)} median ${fmt(m)} ms  range ${fmt(Math.min(...c.ms))} – ${fmt(Math.max(...c.ms))} ms  ` +
      `${Math.round(N / (m / 1000)).toLocaleString('en-US').padStart(11)} items/s${held}`);
  }
}

console.log(`WinCE-DM documents with ${N.toLocaleString('en-US')} items, ${ROUNDS} interleaved rounds, Node ${process.version}, ` +
  `${os.cpus().length} CPU(s), load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`sizes: PollResponse ${(pollXml.length / 1e6).toFixed(1)} MB, FileReport ${(reportXml.length / 1e6).toFixed(1)} MB, ` +
  `Inventory ${(inventoryXml.length / 1e6).toFixed(1)} MB${hasXmllint ? '' : '  (xmllint not installed: apt-get install libxml2-utils)'}`);

const parseRefs = (xml: string, file: string) => [
  { label: 'reference: fast-xml-parser parse (no checks)', run: () => fxpParser.parse(xml) },
  ...(hasXmllint ? [{ label: 'reference: xmllint --noout (libxml2, C)', run: xmllint(file), selfTimed: true }] : []),
];

await bench('PollResponse, parse', [
  { label: 'Dockhand parsePollResponse', run: () => parsePollResponse(pollXml, BIG) },
  { label: 'Dockhand parsePollResponseAsync (sliced)', run: () => parsePollResponseAsync(pollXml, BIG) },
  ...parseRefs(pollXml, files.poll),
]);
await bench('FileReport, parse', [
  { label: 'Dockhand parseFileReport', run: () => parseFileReport(reportXml, BIG) },
  ...parseRefs(reportXml, files.report),
]);
await bench('Inventory, parse', [
  { label: 'Dockhand parseInventory', run: () => parseInventory(inventoryXml, BIG) },
  ...parseRefs(inventoryXml, files.inventory),
]);
await bench('PollResponse, build', [
  { label: 'Dockhand buildPollResponse', run: () => buildPollResponse({ Settings: {}, ApplicablePackages: ids }) },
  { label: 'reference: fast-xml-parser XMLBuilder', run: () => fxpBuilder.build(fxpPoll) },
]);
await bench('FileReport, build', [
  { label: 'Dockhand buildFileReport', run: () => buildFileReport(report) },
  { label: 'Dockhand buildFileReportAsync (sliced)', run: () => buildFileReportAsync(report) },
  { label: 'reference: fast-xml-parser XMLBuilder', run: () => fxpBuilder.build(fxpReport) },
]);
await bench('Inventory, build', [
  { label: 'Dockhand buildInventory', run: () => buildInventory(inventory) },
  { label: 'Dockhand buildInventoryAsync (sliced)', run: () => buildInventoryAsync(inventory) },
  { label: 'reference: fast-xml-parser XMLBuilder', run: () => fxpBuilder.build(fxpInventory) },
]);
rmSync(dir, { recursive: true, force: true });
