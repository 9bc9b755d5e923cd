// Linearity, proved by counting work rather than by timing it (timings flake on a shared machine; the speed
// itself is measured by bench/protocol.ts). While a builder or parser runs, every scan a JavaScript program
// can make over a list or a string — Array includes/indexOf/filter/find/some/map/…, String indexOf/slice/
// split/replace/…, RegExp exec/test, typed-array copies — adds the length it may walk to a counter. The
// work for 4n items must stay close to 4× the work for n: a quadratic step (a filter or includes per item, a
// path rebuilt per element, a Buffer.concat per chunk) makes it 16×.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildFileReport, buildInventory, buildPollResponse, parseFileReport, parseInventory, parsePollResponse, parseStatus,
} from '../../shared/protocol/index.js';
import type { FileReport, Inventory } from '../../shared/protocol/types.js';
import { MessageAssembler } from '../../shared/link/reassembly.js';

let work = 0;
let counting = false;

type Method = (this: unknown, ...args: unknown[]) => unknown;
function instrument(proto: object, names: string[], cost: (self: unknown, args: unknown[], result: unknown) => number): void {
  for (const name of names) {
    const original = (proto as Record<string, Method>)[name] as Method;
    Object.defineProperty(proto, name, {
      configurable: true, writable: true,
      value: function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args);
        if (counting) {
          counting = false; // the cost function's own calls are not the code under test
          work += cost(this, args, result);
          counting = true;
        }
        return result;
      },
    });
  }
}

const length = (v: unknown): number => (typeof v === 'string' || Array.isArray(v) || ArrayBuffer.isView(v) ? (v as { length: number }).length : 0);
/** indexOf and includes walk from their start index to what they find (or to the end), not the whole text. */
const searched = (self: unknown, args: unknown[], result: unknown): number => {
  const from = typeof args[1] === 'number' ? Math.max(0, args[1]) : 0;
  return typeof result === 'number' && result >= 0 ? result - from + 1 : Math.max(1, length(self) - from);
};
instrument(Array.prototype, ['indexOf', 'includes'], searched);
instrument(String.prototype, ['indexOf', 'includes'], searched);
instrument(Array.prototype, ['lastIndexOf', 'filter', 'find', 'findIndex', 'some', 'every', 'map', 'forEach',
  'reduce', 'slice', 'splice', 'concat', 'join', 'shift', 'unshift', 'flat', 'flatMap', 'sort', 'reverse', 'fill'], (self) => length(self));
instrument(String.prototype, ['lastIndexOf', 'split', 'replace', 'replaceAll', 'trim', 'trimStart', 'trimEnd',
  'toLowerCase', 'toUpperCase', 'normalize', 'padStart', 'padEnd', 'match', 'matchAll', 'search', 'localeCompare'], (self) => length(self));
instrument(String.prototype, ['slice', 'substring', 'substr', 'repeat', 'concat'], (_self, _args, result) => length(result));
instrument(RegExp.prototype, ['exec', 'test'], (self, args, result) => {
  const re = self as RegExp;
  // A sticky expression reads only its match; any other may scan the rest of its input.
  if (re.sticky) return 1 + (Array.isArray(result) ? length(result[0]) : 0);
  return length(args[0]);
});
instrument(Uint8Array.prototype, ['set'], (_self, args) => length(args[0]));
instrument(Buffer, ['concat'], (_self, args) => (args[0] as Uint8Array[]).reduce((n, b) => n + b.length, 0));

function measure(run: () => unknown): number {
  work = 0;
  counting = true;
  try {
    run();
  } finally {
    counting = false;
  }
  return work;
}

/** Work for 4n against work for n: linear code stays near 4 (sorting adds a log factor), quadratic is 16. */
function assertLinear(what: string, make: (n: number) => () => unknown, n = 2000): void {
  const small = make(n);
  const large = make(4 * n);
  small(); // warm-up: first calls may set up caches
  const ratio = measure(large) / measure(small);
  assert.ok(ratio < 6, `${what}: 4× the input cost ${ratio.toFixed(1)}× the work (a quadratic step costs 16×)`);
  assert.ok(ratio > 2, `${what}: the counter saw too little work (${ratio.toFixed(1)}×) — is it measuring anything?`);
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `9A437CA5-5B17-4486-9E87-${String(i).padStart(12, '0')}`);
const report = (n: number): FileReport => ({
  Directories: [{
    Name: '\\Big', Created: '2025-01-06 09:00:00', Directories: [{ Name: '\\Big\\Sub', Directories: [], Files: [] }],
    Files: Array.from({ length: n }, (_, i) => ({ Name: `file-${i}.dat`, Size: i, Version: '0.0.0', Company: '', Description: '',
      Created: '2025-01-06 09:00:00', LastModified: '2025-01-06 09:00:00', LastAccessed: '2025-01-06 09:00:00', Attributes: 'ARCHIVE' })),
  }],
});
const inventory = (n: number): Inventory => ({
  type: 'machine', Items: Array.from({ length: n }, (_, i) => ({ name: 'Device_FileSystem', Properties: [{ name: 'Name', value: `Volume ${i}` }, { name: 'Size', value: String(i) }] })),
});

test('document builders are linear', () => {
  assertLinear('buildPollResponse', (n) => { const list = ids(n); return () => buildPollResponse({ Settings: {}, ApplicablePackages: list }); });
  assertLinear('buildFileReport', (n) => { const r = report(n); return () => buildFileReport(r); });
  assertLinear('buildInventory', (n) => { const v = inventory(n); return () => buildInventory(v); });
});

test('document parsers are linear', () => {
  assertLinear('parsePollResponse', (n) => { const xml = buildPollResponse({ Settings: {}, ApplicablePackages: ids(n) }); return () => parsePollResponse(xml); });
  assertLinear('parseFileReport', (n) => { const xml = buildFileReport(report(n)); return () => parseFileReport(xml); });
  assertLinear('parseInventory', (n) => { const xml = buildInventory(inventory(n)); return () => parseInventory(xml); });
});

test('a value with a long inner run of spaces is read in one pass', () => {
  // Trimming with /[ \t\r\n]+$/ backtracked over the run from every start: 80,000 spaces took 12 s, so this
  // megabyte would take half an hour and end in the test timeout. The counter above cannot see inside a
  // regular expression, hence this separate case.
  const xml = `<Status><StatusMessage packageID="p" messageID="1"><Parameter name="n">a${' '.repeat(1_000_000)}b</Parameter></StatusMessage></Status>`;
  const value = parseStatus(xml, { maxBytes: 2 * 1024 * 1024 }).StatusMessages[0]?.Parameters[0]?.value ?? '';
  assert.equal(value.length, 1_000_002);
});

test('link answers: reassembly copies each byte once', () => {
  assertLinear('MessageAssembler', (n) => {
    const frames = Array.from({ length: n }, () => new Uint8Array(1024));
    return () => {
      const assembler = new MessageAssembler(64 * 1024 * 1024);
      frames.forEach((f, i) => assembler.push(f, i < frames.length - 1));
    };
  });
});
