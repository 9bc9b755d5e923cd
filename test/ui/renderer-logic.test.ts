// The renderer's pure parts, run under Node: reading WebSocket frames against the contract, folding changes
// into the snapshot, the Settings form's validation and commands, the CSV export, the console address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Activity, Snapshot, Transfer } from '../../shared/contract/station-api.js';
import { parseFrame } from '../../renderer/src/client/ws-messages.js';
import { apiUrl } from '../../renderer/src/client/api-url.js';
import { applyChange, mergeActivity } from '../../renderer/src/state/apply-change.js';
import { draftCommands, draftFrom, validateDraft } from '../../renderer/src/state/settings-draft.js';
import { activityCsv } from '../../renderer/src/csv.js';
import { shownState } from '../../renderer/src/state/transfer-state.js';
import { formatBytes, formatDuration } from '../../renderer/src/format.js';

function sampleSnapshot(): Snapshot {
  return {
    station: { id: 'ST-1', version: '0.1.0', demo: false, online: true, dataDir: '/d', root: '/r', contact: { state: 'ok', server: '127.0.0.1:1', problem: '', retryAt: null, waiting: 0 }, storageProblem: '', host: 'bench',
      fieldKit: { asOf: null, defaultProfile: null, profiles: [] } },
    devices: [],
    tasks: [],
    transfers: [],
    packages: [],
    activity: [],
    settings: { server: 'http://127.0.0.1:1/devicemgmt/server.aspx', pollIntervalMs: 60_000, rateLimit: 0, allowCommands: false, serialPorts: ['/dev/ttyS0'], baudRate: 115200, usb: [], concurrency: 8, profiles: [], defaultProfile: '' },
  };
}

const transfer = (over: Partial<Transfer> = {}): Transfer => ({
  id: 'DEV|download|P1', target: 'DEV', package: 'P1', packageName: 'Image', leg: 'download', state: 'active',
  bytesDone: 10, total: 100, resumePoint: 0, bytesPerSecond: 5, etaSeconds: 18, ...over,
});

const entry = (target: string, seq: number, at: string, message = 'm'): Activity => ({ seq, at, level: 'info', target, packageId: '', message, nextStep: '' });

test('frames that match the contract pass; others are named problems, never data', () => {
  const ok = parseFrame(JSON.stringify({ op: 'change', change: { kind: 'progress', transfer: transfer() } }));
  assert.equal(ok.ok, true);
  const snap = parseFrame(JSON.stringify({ op: 'snapshot', id: 3, snapshot: sampleSnapshot() }));
  assert.ok(snap.ok && snap.message.op === 'snapshot' && snap.message.id === 3);

  const missing = parseFrame(JSON.stringify({ op: 'change', change: { kind: 'progress', transfer: { ...transfer(), bytesDone: 'ten' } } }));
  assert.equal(missing.ok, false);
  assert.match(!missing.ok ? missing.problem : '', /change that does not match the contract \(transfer\.bytesDone/);
  const unknown = parseFrame(JSON.stringify({ op: 'shout' }));
  assert.match(!unknown.ok ? unknown.problem : '', /unknown kind 'shout'/);
  assert.match((parseFrame('{nope') as { problem: string }).problem, /not JSON/);
  assert.match((parseFrame('[1]') as { problem: string }).problem, /not an object/);
  assert.equal(parseFrame(JSON.stringify({ op: 'result', id: 'x', result: { ok: true, message: '' } })).ok, false, 'a result needs a numeric id');
  const err = parseFrame(JSON.stringify({ op: 'error', id: null, message: 'refused' }));
  assert.ok(err.ok && err.message.op === 'error' && err.message.id === null);
});

test('a progress change replaces its transfer; collections are replaced whole', () => {
  let s = { ...sampleSnapshot(), transfers: [transfer()] };
  s = applyChange(s, { kind: 'progress', transfer: transfer({ id: 'other-id-same-leg', bytesDone: 60, resumePoint: 40 }) });
  assert.equal(s.transfers.length, 1, 'same target, leg and package is the same transfer');
  assert.equal(s.transfers[0]!.bytesDone, 60);
  s = applyChange(s, { kind: 'progress', transfer: transfer({ id: 'DEV|push|P1', leg: 'push', bytesDone: 1 }) });
  assert.equal(s.transfers.length, 2);
  s = applyChange(s, { kind: 'transfers', transfers: [] });
  assert.deepEqual(s.transfers, []);
  const before = s;
  s = applyChange(s, { kind: 'station', station: { ...s.station, online: false } });
  assert.equal(s.station.online, false);
  assert.equal(before.station.online, true, 'the previous snapshot is not mutated');
});

test('a transfer with every byte in is shown as done, whatever its last event said', () => {
  assert.equal(shownState(transfer({ bytesDone: 100, total: 100 })), 'done');
  assert.equal(shownState(transfer({ bytesDone: 99, total: 100 })), 'active');
  assert.equal(shownState(transfer({ bytesDone: 100, total: null })), 'active', 'an unknown size is never assumed complete');
  assert.equal(shownState(transfer({ state: 'paused', bytesDone: 100, total: 100 })), 'paused');
});

test('activity entries merge by target and sequence number, in time order, capped', () => {
  const a = [entry('ST', 1, '2026-01-01T00:00:01Z'), entry('DEV', 1, '2026-01-01T00:00:02Z')];
  const merged = mergeActivity(a, [entry('ST', 1, '2026-01-01T00:00:01Z'), entry('DEV', 2, '2026-01-01T00:00:00Z')]);
  assert.deepEqual(merged.map((e) => `${e.target}${e.seq}`), ['DEV2', 'ST1', 'DEV1']);
  assert.equal(mergeActivity(merged, [merged[0]!]), merged, 'nothing new keeps the same array');
  const many = Array.from({ length: 1200 }, (_, i) => entry('ST', i + 10, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()));
  const capped = mergeActivity([], many);
  assert.equal(capped.length, 1000);
  assert.equal(capped.at(-1)!.seq, 1209, 'the newest are kept');
});

test('the Settings form refuses bad values with words, and sends only what changed', () => {
  const s = sampleSnapshot().settings;
  const d = draftFrom(s);
  assert.deepEqual(draftCommands(s, d), [], 'an untouched form sends nothing');
  const bad = validateDraft({ ...d, server: 'ftp://x', rateLimitKiB: '-1', baudRate: '9600.5', concurrency: '65', usb: ['12345:1'] });
  assert.match(bad.server!, /http:\/\/ or https:\/\//);
  assert.match(bad.rateLimitKiB!, /0 for no limit/);
  assert.match(bad.baudRate!, /positive whole number/);
  assert.match(bad.concurrency!, /1 to 64/);
  assert.match(bad.usb!, /VID:PID/);
  const edited = { ...d, rateLimitKiB: '256', allowCommands: true, serialPorts: ['/dev/ttyUSB1'], usb: ['0x1209:0xD0C4'] };
  assert.deepEqual(validateDraft(edited), {});
  assert.deepEqual(draftCommands(s, edited), [
    { type: 'updateSettings', settings: { rateLimit: 262144, allowCommands: true, usb: ['1209:d0c4'] } },
    { type: 'addSerialPort', path: '/dev/ttyUSB1' },
    { type: 'forgetSerialPort', path: '/dev/ttyS0' },
  ]);
});

test('the CSV export quotes what needs quoting and defuses spreadsheet formulas', () => {
  const csv = activityCsv([
    { ...entry('DEV', 1, '2026-01-01T00:00:00Z', 'said "hi", then\nleft'), level: 'error', nextStep: 'Dock it again' },
    entry('ST', 2, '2026-01-01T00:00:01Z', '=HYPERLINK("x")'),
  ], (id) => (id === 'DEV' ? 'scanner-7' : 'this station'));
  assert.ok(csv.startsWith('\ufefftime,level,target,package,message,next step\r\n'));
  const rows = csv.slice(1).split('\r\n');
  assert.equal(rows[1], '2026-01-01T00:00:00Z,error,scanner-7,,"said ""hi"", then\nleft",Dock it again');
  assert.equal(rows[2], `2026-01-01T00:00:01Z,info,this station,,"'=HYPERLINK(""x"")",`);
  assert.equal(rows[3], '', 'the file ends with a line break');
});

test('the console API sits at /api on the page origin and carries the page token', () => {
  assert.equal(apiUrl('http://127.0.0.1:4000/'), 'ws://127.0.0.1:4000/api');
  assert.equal(apiUrl('http://10.0.0.5:4000/index.html?token=abc_-1#queue'), 'ws://10.0.0.5:4000/api?token=abc_-1');
  assert.equal(apiUrl('https://bench.example.test/x/'), 'wss://bench.example.test/api');
  assert.equal(apiUrl('file:///opt/dockhand/renderer/dist/index.html'), null);
});

test('sizes and durations read as a technician expects', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(3.2 * 1024 * 1024), '3.2 MiB');
  assert.equal(formatBytes(600 * 1024), '600 KiB');
  assert.equal(formatDuration(null), '—');
  assert.equal(formatDuration(45), '45 s');
  assert.equal(formatDuration(200), '3 min 20 s');
  assert.equal(formatDuration(3900), '1 h 5 min');
});
