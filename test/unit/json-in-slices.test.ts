// The server stores a maximum-size software inventory as 32 MB of JSON (server/json-in-slices.ts): the text
// is exactly JSON.stringify's, and making it never holds the event loop for long, where JSON.stringify
// holds it for over a hundred milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonInSlices } from '../../server/json-in-slices.js';
import { buildFileReport, MAX_REPORT_BYTES, parseFileReport } from '../../shared/protocol/index.js';
import type { FileReport, InventoryFile } from '../../shared/protocol/types.js';
import { holds } from '../helpers/event-loop.js';

const when = '2025-01-06 09:00:00';
const file = (i: number): InventoryFile => ({
  Name: `file-${String(i).padStart(6, '0')}.dll`, Version: '1.0.0.0', Company: 'Contoso "Ltd." \u00e9\u{1F600}',
  Description: 'a library\nof the line-of-business application', Size: 1_000_000 + i,
  Created: when, LastModified: when, LastAccessed: when, Attributes: 'ARCHIVE',
});

test('the same text as JSON.stringify: nested large arrays, small subtrees, what JSON leaves out, odd strings', async () => {
  const values: unknown[] = [
    { kind: 'softwareInventory', report: { Directories: [
      { Name: '\\A', Created: when, Directories: Array.from({ length: 300 }, (_, d) => ({ Name: `\\A\\${d}`, Directories: [], Files: Array.from({ length: 20 }, (__, i) => file(d * 20 + i)) })), Files: [] },
      { Name: '\\B', Created: undefined, Directories: [], Files: Array.from({ length: 5000 }, (_, i) => file(i)) },
    ] } },
    Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? undefined : i % 3 === 1 ? { a: i, skip: undefined, f: () => 1 } : [i, null, 'x'])),
    { empty: [], nothing: {}, n: null, t: true, neg: -0.5, date: new Date(Date.UTC(2026, 0, 1)) },
    'a string', 42, null,
  ];
  for (const v of values) assert.equal(await jsonInSlices(v), JSON.stringify(v));
});

test('a maximum-size inventory is written without holding the event loop, where JSON.stringify holds it', async (t) => {
  const files = Math.floor(MAX_REPORT_BYTES / 300);
  const report: FileReport = { Directories: [{ Name: '\\Program Files', Created: when, Directories: [], Files: Array.from({ length: files }, (_, i) => file(i)) }] };
  const item = { kind: 'softwareInventory', report: parseFileReport(buildFileReport(report)) };
  const inOneGo = await holds(async () => JSON.stringify(item));
  const sliced = await holds(() => jsonInSlices(item));
  assert.equal(sliced.result, inOneGo.result);
  assert.ok(sliced.result.length > 25_000_000, `${sliced.result.length} characters`);
  t.diagnostic(`longest main-thread work between two ticks: sliced ${sliced.longestCpuMs.toFixed(0)} ms, JSON.stringify ${inOneGo.longestCpuMs.toFixed(0)} ms`);
  // Slices are 15 ms; what is left in one go is the final join of the pieces (a copy of the text).
  assert.ok(sliced.longestCpuMs < inOneGo.longestCpuMs / 2, `sliced: the main thread worked at most ${sliced.longestCpuMs.toFixed(0)} ms ` +
    `between two ticks (${sliced.ticks} ticks); JSON.stringify: ${inOneGo.longestCpuMs.toFixed(0)} ms`);
});
