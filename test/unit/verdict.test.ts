// The one verdict per device (shared/model/verdict.ts): each of done, failed, working, waiting and undocked
// from the facts alone, the precedence between them, and the rule that a failure stays until that same
// package succeeds — a later success of another package does not hide it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deviceVerdict, packageResults, taskOutcome, VERDICT_ORDER, type PackageEvent, type VerdictInput, type VerdictPackage, type VerdictTask,
} from '../../shared/model/verdict.js';
import { verdictWords } from '../../shared/model/verdict-words.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

const pkg = (id: string, o: Partial<VerdictPackage> = {}): VerdictPackage => ({
  id, name: `Package ${id}`, state: 'scheduled', required: true, accepted: false, createdAt: Number(id.replace(/\D/g, '') || 0), ...o,
});
const task = (packageId: string, o: Partial<VerdictTask> = {}): VerdictTask => ({
  kind: 'download', packageId, state: 'queued', phase: '', wait: { kind: 'none' }, lastError: '', ...o,
});
const event = (packageId: string, at: number, o: Partial<PackageEvent> = {}): PackageEvent => ({
  packageId, name: `Package ${packageId}`, sha256: 'ab'.repeat(32), startedAt: at - 1000, endedAt: at, outcome: 'success',
  failedPhase: null, exitCode: 0, reason: '', ...o,
});
const input = (o: Partial<VerdictInput> = {}): VerdictInput => ({
  now: NOW, docked: true, packages: [], tasks: [task('', { kind: 'poll', wait: { kind: 'schedule', until: NOW + 60_000 } })], history: [], transfers: [], ...o,
});

test('every applicable package installed with its command succeeded: done, with the count in words', () => {
  const v = deviceVerdict(input({
    packages: [pkg('P1', { state: 'installed' }), pkg('P2', { state: 'installed' })],
    tasks: [task('P1', { state: 'done' }), task('P2', { state: 'done' })],
    history: [event('P1', NOW - 5000), event('P2', NOW - 4000)],
  }));
  assert.deepEqual(v, { kind: 'done', installed: 2 });
  assert.equal(verdictWords(v, NOW), 'Done: 2 packages installed');
});

test('a command that exited with code 3 is a failure: package, phase, reason, exit code and the next step', () => {
  const v = deviceVerdict(input({
    packages: [pkg('P1', { state: 'installed', name: 'Scanner firmware' })],
    tasks: [task('P1', { state: 'done', lastError: 'command exited with code 3' })],
    history: [event('P1', NOW - 1000, { name: 'Scanner firmware', outcome: 'failed', failedPhase: 'command', exitCode: 3, reason: 'the command exited with code 3' })],
  }));
  assert.equal(v.kind, 'failed');
  assert.ok(v.kind === 'failed');
  assert.equal(v.packageName, 'Scanner firmware', 'the package is named by the name the station knows');
  assert.equal(v.phase, 'command');
  assert.equal(v.exitCode, 3);
  assert.match(v.nextStep, /command line|program/);
  assert.equal(verdictWords(v, NOW), 'Failed: Scanner firmware, command: the command exited with code 3');
});

test('a later success of another package does not hide a failure; only that package succeeding clears it', () => {
  const failedFirst = event('P1', NOW - 10_000, { outcome: 'failed', failedPhase: 'command', exitCode: 3, reason: 'the command exited with code 3' });
  const base = {
    packages: [pkg('P1', { state: 'installed' }), pkg('P2', { state: 'installed' })],
    tasks: [task('P1', { state: 'done' }), task('P2', { state: 'done' })],
  };
  const afterOther = deviceVerdict(input({ ...base, history: [failedFirst, event('P2', NOW - 1000)] }));
  assert.equal(afterOther.kind, 'failed');
  assert.equal(afterOther.kind === 'failed' && afterOther.packageId, 'P1');
  const afterSame = deviceVerdict(input({ ...base, history: [failedFirst, event('P2', NOW - 1000), event('P1', NOW - 500)] }));
  assert.deepEqual(afterSame, { kind: 'done', installed: 2 });
});

test('an interruption (undock, stop) is not a failure', () => {
  const v = deviceVerdict(input({
    packages: [pkg('P1', { state: 'installed' })],
    tasks: [task('P1', { state: 'done' })],
    history: [event('P1', NOW - 5000, { outcome: 'interrupted', exitCode: null, reason: 'undocked' }), event('P1', NOW - 1000)],
  }));
  assert.equal(v.kind, 'done');
});

test('working: package k of n, the phase and the percent of the push in flight', () => {
  const v = deviceVerdict(input({
    packages: [pkg('P1', { state: 'installed' }), pkg('P2'), pkg('P3')],
    tasks: [task('P1', { state: 'done' }), task('P2', { state: 'running', phase: 'started' }), task('P3')],
    history: [event('P1', NOW - 5000), event('P2', NOW, { endedAt: null, outcome: null, exitCode: null })],
    transfers: [{ packageId: 'P2', leg: 'push', bytesDone: 570, total: 1000, active: true }],
  }));
  assert.deepEqual(v, { kind: 'working', packageId: 'P2', packageName: 'Package P2', index: 2, of: 3, phase: 'push', percent: 57 });
  assert.equal(verdictWords(v, NOW), 'Working: package 2 of 3, pushing Package P2, 57 %');
});

test('undocked mid-transfer: the package and the byte its push resumes from; not a calm grey "undocked"', () => {
  const v = deviceVerdict(input({
    docked: false,
    packages: [pkg('P1', { state: 'installed' }), pkg('P2')],
    tasks: [task('P1', { state: 'done' }), task('P2', { phase: 'started', wait: { kind: 'dock' }, lastError: 'device is not docked' })],
    history: [event('P1', NOW - 5000)],
    transfers: [{ packageId: 'P2', leg: 'push', bytesDone: 1536 * 1024, total: 4 * 1024 * 1024, active: false }],
  }));
  assert.deepEqual(v, { kind: 'undocked', packageId: 'P2', packageName: 'Package P2', resumeAt: 1536 * 1024, total: 4 * 1024 * 1024 });
  assert.equal(verdictWords(v, NOW), 'Undocked mid-transfer: Package P2, resumes at 1.5 MiB of 4.0 MiB; dock it again');
});

test('waiting says for what: acceptance, dock, the server (with the retry), a technician', () => {
  const acceptance = deviceVerdict(input({
    packages: [pkg('P1', { state: 'installed' }), pkg('P2', { state: 'awaiting-acceptance', required: false, name: 'Extras' })],
    tasks: [task('P1', { state: 'done' }), task('P2', { wait: { kind: 'acceptance' } })],
    history: [event('P1', NOW - 5000)],
  }));
  assert.deepEqual(acceptance, { kind: 'waiting', for: 'acceptance', packageName: 'Extras', until: null });
  assert.equal(verdictWords(acceptance, NOW), 'Waiting for acceptance of Extras');

  const server = deviceVerdict(input({
    packages: [pkg('P1')],
    tasks: [task('P1', { wait: { kind: 'server', until: NOW + 100_000 } })],
  }));
  assert.deepEqual(server, { kind: 'waiting', for: 'server', packageName: 'Package P1', until: NOW + 100_000 });
  assert.equal(verdictWords(server, NOW), 'Waiting for the server, retrying in 2 min (Package P1)');

  const paused = deviceVerdict(input({ packages: [pkg('P1')], tasks: [task('P1', { wait: { kind: 'technician', reason: 'paused' } })] }));
  assert.equal(paused.kind === 'waiting' && paused.for, 'technician');

  const neverPolled = deviceVerdict(input({ docked: false, tasks: [task('', { kind: 'poll', wait: { kind: 'dock' } })] }));
  assert.deepEqual(neverPolled, { kind: 'waiting', for: 'dock', packageName: null, until: null });
});

test('a just-docked device that the station is asking the server about is working, not done', () => {
  const v = deviceVerdict(input({ tasks: [task('', { kind: 'poll', state: 'running' })] }));
  assert.equal(v.kind, 'working');
  assert.equal(verdictWords(v, NOW), 'Working: asking the server what it needs');
});

test('a done device\'s routine poll leaves it done; a package the poll lists makes it working', () => {
  const installed = [pkg('P1', { state: 'installed' }), pkg('P2', { state: 'installed' })];
  const history = [event('P1', NOW - 5000), event('P2', NOW - 4000)];
  const finished = [task('P1', { state: 'done' }), task('P2', { state: 'done' })];
  const polling = deviceVerdict(input({ packages: installed, history, tasks: [...finished, task('', { kind: 'poll', state: 'running' })] }));
  assert.deepEqual(polling, { kind: 'done', installed: 2 }, 'the board does not flicker to working at every poll');
  const listed = deviceVerdict(input({
    packages: [...installed, pkg('P3', { state: 'needs-instructions' })], history,
    tasks: [...finished, task('', { kind: 'poll', state: 'running' }), task('P3', { kind: 'instruction' })],
  }));
  assert.equal(verdictWords(listed, NOW), 'Working: asking the server what it needs');
});

test('failed wins over working and undocked; the board sorts failures first', () => {
  const v = deviceVerdict(input({
    docked: false,
    packages: [pkg('P1', { state: 'failed' }), pkg('P2')],
    tasks: [task('P1', { state: 'failed' }), task('P2', { phase: 'started', wait: { kind: 'dock' } })],
    history: [event('P1', NOW - 5000, { outcome: 'failed', failedPhase: 'verify', exitCode: null, reason: 'the SHA-256 does not match' })],
    transfers: [{ packageId: 'P2', leg: 'push', bytesDone: 10, total: 100, active: false }],
  }));
  assert.equal(v.kind, 'failed');
  const sorted = (['done', 'working', 'waiting', 'undocked', 'failed'] as const).slice().sort((a, b) => VERDICT_ORDER[a] - VERDICT_ORDER[b]);
  assert.deepEqual(sorted, ['failed', 'undocked', 'waiting', 'working', 'done']);
});

test('per-package results: installed, failed with its exit code, waiting for what, not started', () => {
  const results = packageResults(input({
    packages: [pkg('P1', { state: 'installed' }), pkg('P2', { state: 'installed' }), pkg('P3', { state: 'awaiting-acceptance', required: false }), pkg('P4', { state: 'needs-instructions' })],
    tasks: [task('P1', { state: 'done' }), task('P2', { state: 'done' }), task('P3', { wait: { kind: 'acceptance' } })],
    history: [event('P1', NOW - 9000), event('P2', NOW - 8000, { outcome: 'failed', failedPhase: 'command', exitCode: 3, reason: 'the command exited with code 3' })],
  }));
  assert.deepEqual(results.map((r) => [r.id, r.result, r.exitCode, r.waitFor]), [
    ['P1', 'installed', 0, null], ['P2', 'failed', 3, null], ['P3', 'waiting', null, 'acceptance'], ['P4', 'pending', null, null],
  ]);
});

test('the Queue shows a download whose command failed as failed, never as done', () => {
  assert.equal(taskOutcome({ kind: 'download', state: 'done', lastError: 'command exited with code 3' }), 'failed');
  assert.equal(taskOutcome({ kind: 'download', state: 'done', lastError: '' }), 'done');
  assert.equal(taskOutcome({ kind: 'poll', state: 'queued', lastError: 'refused' }), 'queued');
});
