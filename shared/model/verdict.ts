// One verdict per device — the answer to the bench technician's one question ("done, failed, or still
// working?") — computed here and nowhere else, from the facts the station keeps about the device: its
// packages, their download-event history, its tasks with what each waits for, its transfers and whether
// it is docked. The UI, the CLI and the provisioning record all show this verdict; none of them decides.
//
// Precedence, first that holds wins:
//   failed     a package's latest download event failed, and it has not succeeded since. A later success
//              of another package does not hide it; only that package's own success does.
//   undocked   the device left while a package was on its way (a push checkpoint, or a download event
//              between its start and its end): which package, and the byte the push resumes from.
//   working    docked, and a package's download event runs (package k of n, the phase, the percent),
//              or the station is asking the server what the device needs (not a done device's routine poll).
//   waiting    a package is not installed yet and its task waits — for the dock, its schedule, a
//              technician's acceptance, the server, a technician's resume, a retry — or the device is
//              undocked with nothing installed yet.
//   done       every applicable package is installed and its command succeeded.
import type { PackageState, TaskKind, TaskState, DownloadPhase } from './client.js';
import type { TaskWait, TaskWaitKind } from './wait.js';
import { nextStepForFailure } from './next-steps.js';

/** Where a download event failed (the phases of spec §10.1, with the push and the verification apart). */
export type FailedPhase = 'location' | 'download' | 'verify' | 'install' | 'push' | 'command';

/** One download event of one package on one target: what the provisioning record lists. */
export interface PackageEvent {
  packageId: string;
  name: string | null;
  sha256: string | null;
  startedAt: number;
  /** null while the event runs. */
  endedAt: number | null;
  /** null while the event runs; `interrupted` = undocked or stopped, not a failure. */
  outcome: 'success' | 'failed' | 'interrupted' | null;
  failedPhase: FailedPhase | null;
  exitCode: number | null;
  reason: string;
}

export interface VerdictPackage {
  id: string;
  name: string | null;
  state: PackageState;
  /** Required = No and not accepted: the package waits for a technician and is not yet applicable. */
  required: boolean | null;
  accepted: boolean;
  createdAt: number;
}

export interface VerdictTask {
  kind: TaskKind;
  packageId: string;
  state: TaskState;
  phase: DownloadPhase | '';
  wait: TaskWait;
  lastError: string;
}

export interface VerdictTransfer {
  packageId: string;
  leg: 'download' | 'push';
  bytesDone: number;
  total: number | null;
  /** true while bytes flow; false for a kept checkpoint. */
  active: boolean;
}

export interface VerdictInput {
  now: number;
  docked: boolean;
  packages: VerdictPackage[];
  tasks: VerdictTask[];
  /** Every download event, oldest first. */
  history: PackageEvent[];
  transfers: VerdictTransfer[];
}

export type WorkPhase = 'checking' | 'location' | 'download' | 'push' | 'command';
export type WaitFor = Exclude<TaskWaitKind, 'none'>;

export type Verdict =
  | { kind: 'done'; installed: number }
  | {
    kind: 'failed'; packageId: string; packageName: string; phase: FailedPhase; reason: string; exitCode: number | null;
    nextStep: string; failures: number; retrying: boolean;
  }
  | { kind: 'working'; packageId: string; packageName: string; index: number; of: number; phase: WorkPhase; percent: number | null }
  | { kind: 'waiting'; for: WaitFor; packageName: string | null; until: number | null }
  | { kind: 'undocked'; packageId: string; packageName: string; resumeAt: number; total: number | null };

export type VerdictKind = Verdict['kind'];

/** The board's order: what needs a technician first. */
export const VERDICT_ORDER: Record<VerdictKind, number> = { failed: 0, undocked: 1, waiting: 2, working: 3, done: 4 };

/** What became of one package on one device: the detail view and the record show this per package. */
export type PackageResultKind = 'installed' | 'failed' | 'working' | 'waiting' | 'pending';

export interface PackageResult {
  id: string;
  name: string;
  result: PackageResultKind;
  /** For `failed`: where; for `working`: the phase. */
  phase: FailedPhase | WorkPhase | null;
  reason: string;
  exitCode: number | null;
  sha256: string | null;
  startedAt: number | null;
  endedAt: number | null;
  /** For `waiting`: what it waits for. */
  waitFor: WaitFor | null;
}

const displayName = (p: { id: string; name: string | null }) => p.name ?? p.id;

/** Latest finished (success or failure) event per package; interruptions are not results. */
function latestResults(history: PackageEvent[]): Map<string, PackageEvent> {
  const latest = new Map<string, PackageEvent>();
  for (const e of history) {
    if (e.outcome !== 'success' && e.outcome !== 'failed') continue;
    const prev = latest.get(e.packageId);
    if (!prev || (e.endedAt ?? e.startedAt) >= (prev.endedAt ?? prev.startedAt)) latest.set(e.packageId, e);
  }
  return latest;
}

/** A package counts toward "done" unless it waits for an acceptance the technician has not given. */
const applicable = (p: VerdictPackage) => p.required !== false || p.accepted || p.state !== 'awaiting-acceptance';

function runningPhase(task: VerdictTask, transfers: VerdictTransfer[]): { phase: WorkPhase; percent: number | null } {
  const mine = transfers.filter((t) => t.packageId === task.packageId && t.active);
  const push = mine.find((t) => t.leg === 'push');
  const download = mine.find((t) => t.leg === 'download');
  const live = push ?? download;
  if (live) {
    const percent = live.total ? Math.min(100, Math.floor((live.bytesDone * 100) / live.total)) : null;
    return { phase: live.leg, percent };
  }
  if (task.phase === '') return { phase: 'location', percent: null };
  if (task.phase === 'downloaded') return { phase: 'command', percent: null };
  return { phase: 'download', percent: null };
}

/** Every package's result on this device, in the order the server listed them. */
export function packageResults(input: VerdictInput): PackageResult[] {
  const latest = latestResults(input.history);
  const started = new Map<string, PackageEvent>();
  for (const e of input.history) started.set(e.packageId, e);
  const packages = [...input.packages].sort((a, b) => a.createdAt - b.createdAt);
  return packages.map((p) => {
    const last = latest.get(p.id);
    const event = started.get(p.id);
    const task = input.tasks.find((t) => t.kind === 'download' && t.packageId === p.id) ??
      input.tasks.find((t) => t.kind === 'instruction' && t.packageId === p.id);
    const base = {
      id: p.id, name: displayName(p), sha256: event?.sha256 ?? null, startedAt: event?.startedAt ?? null,
      endedAt: event?.endedAt ?? null, exitCode: last?.exitCode ?? null, reason: '', phase: null, waitFor: null,
    } satisfies Omit<PackageResult, 'result'>;
    if (last?.outcome === 'failed') {
      return { ...base, result: 'failed', phase: last.failedPhase, reason: last.reason, exitCode: last.exitCode };
    }
    if (task?.state === 'running') {
      return { ...base, result: 'working', phase: task.kind === 'instruction' ? 'checking' : runningPhase(task, input.transfers).phase };
    }
    // A package installed before its events were recorded (an older data folder) is installed all the same.
    if ((last?.outcome === 'success' && (p.state === 'installed' || p.state === 'scheduled')) || (!last && p.state === 'installed')) {
      return { ...base, result: 'installed' };
    }
    if (task?.state === 'queued' && task.wait.kind !== 'none') return { ...base, result: 'waiting', waitFor: task.wait.kind };
    if (p.state === 'awaiting-acceptance') return { ...base, result: 'waiting', waitFor: 'acceptance' };
    return { ...base, result: 'pending' };
  });
}

function failedVerdict(input: VerdictInput, results: PackageResult[]): Verdict | null {
  const failures = results.filter((r) => r.result === 'failed');
  const first = failures[0];
  if (!first) return null;
  const task = input.tasks.find((t) => t.kind === 'download' && t.packageId === first.id);
  const phase = (first.phase ?? 'download') as FailedPhase;
  return {
    kind: 'failed', packageId: first.id, packageName: first.name, phase, reason: first.reason, exitCode: first.exitCode,
    nextStep: nextStepForFailure(phase, first.reason), failures: failures.length,
    retrying: task?.state === 'running' || (task?.state === 'queued' && task.wait.kind === 'retry'),
  };
}

function undockedVerdict(input: VerdictInput, results: PackageResult[]): Verdict | null {
  if (input.docked) return null;
  const unfinished = new Set(results.filter((r) => r.result !== 'installed').map((r) => r.id));
  const checkpoint = input.transfers.find((t) => t.leg === 'push' && unfinished.has(t.packageId));
  const midEvent = input.tasks.find((t) => t.kind === 'download' && unfinished.has(t.packageId) && t.phase === 'started');
  const packageId = checkpoint?.packageId ?? midEvent?.packageId;
  if (!packageId) return null;
  const name = results.find((r) => r.id === packageId)?.name ?? packageId;
  return { kind: 'undocked', packageId, packageName: name, resumeAt: checkpoint?.bytesDone ?? 0, total: checkpoint?.total ?? null };
}

function workingVerdict(input: VerdictInput, results: PackageResult[]): Verdict | null {
  if (!input.docked) return null;
  const running = input.tasks.find((t) => t.state === 'running' && t.kind === 'download');
  const considered = results.filter((r) => input.packages.some((p) => p.id === r.id && applicable(p)));
  if (running) {
    const index = considered.findIndex((r) => r.id === running.packageId);
    const done = considered.filter((r) => r.result === 'installed').length;
    const name = results.find((r) => r.id === running.packageId)?.name ?? running.packageId;
    const { phase, percent } = runningPhase(running, input.transfers);
    return {
      kind: 'working', packageId: running.packageId, packageName: name, index: Math.min(done + 1, considered.length || 1),
      of: Math.max(considered.length, index + 1, 1), phase, percent,
    };
  }
  // Asking the server what the device needs: an instruction request in progress or due now, or a poll of a
  // device that is not done yet. A done device's routine poll leaves it done: at every poll interval a
  // finished board would otherwise flicker to "working" and back, and a technician counting done devices
  // would count wrong. If that poll lists something new, its instruction request makes the device working.
  const allInstalled = considered.length > 0 && considered.every((r) => r.result === 'installed');
  const asking = input.tasks.find((t) => (t.kind === 'instruction' || (t.kind === 'poll' && !allInstalled)) &&
    (t.state === 'running' || (t.state === 'queued' && t.wait.kind === 'none' && (t.kind === 'instruction' || input.packages.length === 0))));
  if (asking) {
    const done = considered.filter((r) => r.result === 'installed').length;
    return { kind: 'working', packageId: '', packageName: '', index: done, of: considered.length, phase: 'checking', percent: null };
  }
  return null;
}

const untilOf = (w: TaskWait): number | null => ('until' in w ? w.until : null);

function waitingVerdict(input: VerdictInput, results: PackageResult[]): Verdict | null {
  const open = results.filter((r) => r.result === 'waiting' || r.result === 'pending');
  // A package whose instructions have not arrived has no name yet: the wait is told without it.
  const named = (r: PackageResult) => (input.packages.find((p) => p.id === r.id)?.name ? r.name : null);
  for (const r of open) {
    const task = input.tasks.find((t) => t.kind === 'download' && t.packageId === r.id && t.state === 'queued') ??
      input.tasks.find((t) => t.kind === 'instruction' && t.packageId === r.id && t.state === 'queued');
    if (r.waitFor === 'acceptance') return { kind: 'waiting', for: 'acceptance', packageName: named(r), until: null };
    if (task && task.wait.kind !== 'none') return { kind: 'waiting', for: task.wait.kind, packageName: named(r), until: untilOf(task.wait) };
    if (!input.docked) return { kind: 'waiting', for: 'dock', packageName: named(r), until: null };
  }
  if (!input.docked && results.every((r) => r.result !== 'installed')) return { kind: 'waiting', for: 'dock', packageName: null, until: null };
  // Nothing listed yet, and the poll cannot run: it waits for the server (or its schedule).
  if (input.packages.length === 0) {
    const poll = input.tasks.find((t) => t.kind === 'poll');
    if (poll && poll.wait.kind !== 'none') return { kind: 'waiting', for: poll.wait.kind, packageName: null, until: untilOf(poll.wait) };
    return { kind: 'waiting', for: input.docked ? 'server' : 'dock', packageName: null, until: poll?.wait ? untilOf(poll.wait) : null };
  }
  if (open.length > 0) return { kind: 'waiting', for: input.docked ? 'schedule' : 'dock', packageName: named(open[0]!), until: null };
  return null;
}

/** The device's verdict (see the precedence at the top of this file). */
export function deviceVerdict(input: VerdictInput): Verdict {
  const results = packageResults(input);
  return failedVerdict(input, results) ?? undockedVerdict(input, results) ?? workingVerdict(input, results) ??
    waitingVerdict(input, results) ?? { kind: 'done', installed: results.filter((r) => r.result === 'installed').length };
}

/** A task as the Queue shows it: a download whose command failed is a failure, whatever its row says. */
export function taskOutcome(t: { state: TaskState; lastError: string; kind: TaskKind }): TaskState {
  return t.state === 'done' && t.lastError ? 'failed' : t.state;
}
