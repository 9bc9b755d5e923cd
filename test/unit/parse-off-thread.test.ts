// Large documents are parsed in the parse worker (electron/protocol/parse-off-thread.ts), so the event loop
// that serves every other device is never held for long. Held is measured structurally, not by the wall
// clock (several test processes share this machine, and a waiting thread is not a working one): a probe
// ticks on a 1 ms timer and records the CPU time the main thread spent between two ticks
// (process.threadCpuUsage). The worker's own CPU time is not the main thread's, so a parse held on the event
// loop shows as one long gap, and one read in slices as many short ones. (A timer, not setImmediate: a probe
// that spins would take a core from the worker.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { holds } from '../helpers/event-loop.js';
import {
  buildFileReport, buildPollResponse, MAX_POLL_RESPONSE_BYTES, MAX_REPORT_BYTES, parseFileReport, parsePollResponse, ProtocolError,
} from '../../shared/protocol/index.js';
import type { FileReport, InventoryFile } from '../../shared/protocol/types.js';
import {
  closeParseWorker, OFF_THREAD_FROM, parseOffThread, parseWorkerState, setParseDeadline, useParseWorker,
} from '../../electron/protocol/parse-off-thread.js';

const when = '2025-01-06 09:00:00';
// Every file's element is as long as every other's (fixed-width numbers), so the size of a report is exact.
const file = (i: number): InventoryFile => ({
  Name: `file-${String(i).padStart(6, '0')}.dll`, Version: '1.0.0.0', Company: 'Contoso Ltd.',
  Description: 'a library of the line-of-business application', Size: 1_000_000 + i,
  Created: when, LastModified: when, LastAccessed: when, Attributes: 'ARCHIVE',
});
const report = (files: number): FileReport => ({
  Directories: [{ Name: '\\Program Files', Created: when, Directories: [{ Name: '\\Program Files\\Empty', Directories: [], Files: [] }],
    Files: Array.from({ length: files }, (_, i) => file(i)) }],
});

/** The largest FileReport of this shape that MAX_REPORT_BYTES allows. */
function maximumReport(): { value: FileReport; bytes: Buffer } {
  const base = Buffer.byteLength(buildFileReport(report(0)));
  const perFile = Buffer.byteLength(buildFileReport(report(1))) - base;
  const value = report(Math.floor((MAX_REPORT_BYTES - base) / perFile));
  const bytes = Buffer.from(buildFileReport(value));
  assert.ok(bytes.length <= MAX_REPORT_BYTES && bytes.length > MAX_REPORT_BYTES - perFile, `${bytes.length} bytes`);
  return { value, bytes };
}

// The bound: slices are 15 ms and an inline parse of a maximum-size document takes seconds. 250 ms leaves room
// for what no slice controls on a busy machine — handing the 32 MiB document to the worker (a copy) and a
// garbage collection — while a parse held on the loop still fails it tenfold (109 ms was seen at load 6).
const HELD_MS = 250;

test('a maximum-size software inventory is parsed in the worker; the event loop is never held for long', async (t) => {
  t.after(useParseWorker());
  const { value, bytes } = maximumReport();
  const before = parseWorkerState();
  const { result, ticks, longestCpuMs, longestWallMs } = await holds(() => parseOffThread('FileReport', bytes));
  const after = parseWorkerState();
  assert.ok(longestCpuMs < HELD_MS, `the main thread worked ${longestCpuMs.toFixed(0)} ms between two ticks of the event loop ` +
    `(${ticks} ticks; longest gap by the wall clock ${longestWallMs.toFixed(0)} ms)`);
  assert.equal(after.parsedOffThread, before.parsedOffThread + 1, 'parsed in the worker');
  assert.notEqual(after.threadId, threadId);
  assert.deepEqual(result, value);
});

test('a maximum-size poll response is parsed in the worker, as inline, without holding the loop', async (t) => {
  t.after(useParseWorker());
  const id = (i: number) => `9A437CA5-5B17-4486-9E87-${String(i).padStart(12, '0')}`;
  const poll = (n: number) => buildPollResponse({ Settings: { ClientSettings: { PollInterval: 3_600_000 } },
    ApplicablePackages: Array.from({ length: n }, (_, i) => id(i)) });
  const perId = Buffer.byteLength(poll(2)) - Buffer.byteLength(poll(1));
  const base = Buffer.byteLength(poll(1)) - perId;
  const ids = Array.from({ length: Math.floor((MAX_POLL_RESPONSE_BYTES - base) / perId) }, (_, i) => id(i));
  const xml = poll(ids.length);
  assert.ok(Buffer.byteLength(xml) <= MAX_POLL_RESPONSE_BYTES && Buffer.byteLength(xml) > MAX_POLL_RESPONSE_BYTES - perId, `${Buffer.byteLength(xml)} bytes`);
  const before = parseWorkerState().parsedOffThread;
  const { result, longestCpuMs, longestWallMs } = await holds(() => parseOffThread('PollResponse', Buffer.from(xml)));
  assert.equal(parseWorkerState().parsedOffThread, before + 1);
  assert.ok(longestCpuMs < HELD_MS, `${longestCpuMs.toFixed(0)} ms between two ticks (wall ${longestWallMs.toFixed(0)} ms)`);
  assert.deepEqual(result, parsePollResponse(xml));
  assert.equal(result.ApplicablePackages.length, ids.length);
});

/** The error a parse rejects with, as document, path and problem. */
async function failure(parse: () => unknown): Promise<ProtocolError> {
  try {
    await parse();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${err instanceof Error ? err.stack : String(err)}`);
    return err;
  }
  assert.fail('the parse did not fail');
}

test('a malformed large document gives the same ProtocolError through the worker as inline', async (t) => {
  t.after(useParseWorker());
  const good = buildFileReport(report(2000));
  assert.ok(good.length > OFF_THREAD_FROM);
  const cases = [
    // not well-formed, found by the library's validator: line and column
    good.replace('<File Name="file-001500.dll"', '<File Name="file-001500.dll" Name="again"'),
    good.replace(/<\/Directory>\s*<\/FileReport>/, '</FileReport>'),
    // well-formed, refused by the reader: the element path
    good.replace(' Size="1001777"', ''),
    // refused before parsing: a character XML forbids, with line and column; a DTD
    good.replace('file-001999.dll', 'file-\u0001001999.dll'),
    `<!DOCTYPE FileReport [<!ENTITY x "y">]>${good}`,
    // the size limit
    good.replace('</FileReport>', `${' '.repeat(MAX_REPORT_BYTES)}</FileReport>`),
  ];
  for (const xml of cases) {
    const inline = await failure(() => parseFileReport(xml));
    const before = parseWorkerState().parsedOffThread;
    const off = await failure(() => parseOffThread('FileReport', Buffer.from(xml)));
    assert.equal(parseWorkerState().parsedOffThread, before + 1, 'parsed in the worker');
    assert.deepEqual([off.document, off.path, off.problem], [inline.document, inline.path, inline.problem]);
    assert.equal(off.message, inline.message);
  }
  const repeated = cases[0]!;
  const line = repeated.slice(0, repeated.indexOf('Name="again"')).split('\n').length;
  assert.match((await failure(() => parseOffThread('FileReport', repeated))).problem,
    new RegExp(`^not well-formed XML at line ${line}, column \\d+: Attribute 'Name' is repeated`));
  assert.equal((await failure(() => parseOffThread('FileReport', cases[2]!))).path, '/FileReport/Directory[1]/File[1778]');
});

test('small documents are parsed inline, without the worker', async () => {
  const before = parseWorkerState();
  const xml = buildFileReport(report(3));
  assert.deepEqual(await parseOffThread('FileReport', xml), parseFileReport(xml));
  await failure(() => parseOffThread('FileReport', '<FileReport><Directory/></FileReport>'));
  const after = parseWorkerState();
  assert.equal(after.parsedInline, before.parsedInline + 2);
  assert.equal(after.parsedOffThread, before.parsedOffThread);
  assert.equal(after.started, before.started);
});

test('a worker closed in the middle of a parse fails that parse in words; the next parse starts another', async () => {
  const xml = Buffer.from(buildFileReport(report(20_000)));
  const cut = assert.rejects(parseOffThread('FileReport', xml), /the XML parse worker was closed before it answered/);
  const started = parseWorkerState().started;
  await closeParseWorker();
  await cut;
  assert.equal(parseWorkerState().running, false);
  assert.equal((await parseOffThread('FileReport', xml)).Directories[0]?.Files.length, 20_000);
  assert.equal(parseWorkerState().started, started + 1);
  await closeParseWorker();
});

test('the worker ends when the last holder lets go, once its queue is done', async () => {
  const xml = buildFileReport(report(1000));
  const station = useParseWorker();
  const server = useParseWorker();
  await parseOffThread('FileReport', xml);
  assert.equal(parseWorkerState().running, true);
  station();
  station(); // letting go twice counts once
  assert.equal(parseWorkerState().running, true, 'the server still holds it');
  const last = parseOffThread('FileReport', xml);
  server();
  assert.equal(parseWorkerState().running, true, 'a parse is still queued');
  assert.equal((await last).Directories[0]?.Files.length, 1000);
  assert.equal(parseWorkerState().running, false);
});

test('a document that overruns its deadline is set aside in words; the documents queued behind it are read by a new worker', { timeout: 60_000 }, async (t) => {
  t.after(useParseWorker());
  // The deadline for large documents is cut to 50 ms (a maximum-size report takes seconds), and stays at a
  // minute for the rest, so only the large one overruns.
  t.after(setParseDeadline((bytes) => (bytes > 8 * 1024 * 1024 ? 50 : 60_000)));
  const { bytes: huge } = maximumReport();
  const small = buildFileReport(report(2000));
  const poll = buildPollResponse({ Settings: { ClientSettings: { PollInterval: 3_600_000 } }, ApplicablePackages: ['9A437CA5-5B17-4486-9E87-000000000001'] });
  const before = parseWorkerState();
  const slow = parseOffThread('FileReport', huge);
  const behindReport = parseOffThread('FileReport', small);
  const behindPoll = parseOffThread('PollResponse', Buffer.from(poll.padEnd(OFF_THREAD_FROM + 10, ' ')));
  const err = await failure(() => slow);
  assert.equal(err.document, 'FileReport');
  assert.match(err.problem, /^reading this 32\.0 MiB document took longer than 50 ms, so it was set aside; the other documents waiting to be read were not affected$/);
  const [report2000, polled] = await Promise.all([behindReport, behindPoll]);
  assert.deepEqual(report2000, parseFileReport(small), 'the report queued behind it, read in full');
  assert.deepEqual(polled.ApplicablePackages, ['9A437CA5-5B17-4486-9E87-000000000001']);
  const after = parseWorkerState();
  assert.equal(after.overran, before.overran + 1);
  assert.equal(after.started, before.started + (before.running ? 1 : 2), 'the overrunning worker was ended and another started');
  assert.equal(after.running, true);
});
