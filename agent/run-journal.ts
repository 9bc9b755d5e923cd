// The agent's record of command runs by the station's run ID (docs/link-protocol.md §8.2): a run is written
// down before its program starts (with the pid and start time once the OS started it) and updated when it
// ends, so the agent never starts a run ID twice, can tell a re-docked station how a run ended, and at its
// own next start ends a program a crash of the agent left running. Kept in STATE/runs.json (the last 100
// runs), written to a temporary file and renamed, synchronously: the record is on disk before the program
// starts.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Body } from '../shared/link/bodies.js';
import { endRecordedProcess } from '../electron/engine/local/process-identity.js';

export interface AgentRun {
  runId: string;
  commandLine: string;
  directory: string;
  state: 'running' | 'finished' | 'interrupted';
  pid: number | null;
  startTime: string | null;
  at: string;
  result?: Body<'RUN_REPLY'>;
  reason?: string;
}

const MAX_RUNS = 100;

export class RunJournal {
  private runs: AgentRun[] = [];
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(readonly file: string) {}

  load(): void {
    try {
      const value = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      this.runs = Array.isArray(value) ? (value as AgentRun[]).filter((r) => typeof r?.runId === 'string') : [];
    } catch {
      this.runs = []; // first start, or a record nobody can read
    }
  }

  get(runId: string): AgentRun | undefined {
    return this.runs.find((r) => r.runId === runId);
  }

  begin(runId: string, commandLine: string, directory: string): void {
    const run: AgentRun = { runId, commandLine, directory, state: 'running', pid: null, startTime: null, at: new Date().toISOString() };
    this.runs = [...this.runs.filter((r) => r.runId !== runId), run].slice(-MAX_RUNS);
    this.save();
  }

  spawned(runId: string, pid: number, startTime: string | null): void {
    this.update(runId, { pid, startTime });
  }

  finished(runId: string, result: Body<'RUN_REPLY'>): void {
    this.update(runId, { state: 'finished', result: { ...result, output: result.output.slice(-16_000) } });
  }

  interrupted(runId: string, reason: string): void {
    this.update(runId, { state: 'interrupted', reason });
  }

  /** Resolves once the run is no longer running (at once when it is not); rejects when `signal` aborts first. */
  settled(runId: string, signal?: AbortSignal): Promise<void> {
    if (this.get(runId)?.state !== 'running') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        signal?.removeEventListener('abort', stop);
        resolve();
      };
      const stop = (): void => {
        this.waiting.set(runId, (this.waiting.get(runId) ?? []).filter((w) => w !== done));
        reject(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason ?? 'stopped waiting')));
      };
      this.waiting.set(runId, [...(this.waiting.get(runId) ?? []), done]);
      signal?.addEventListener('abort', stop, { once: true });
    });
  }

  /** At start: runs a crash of the agent cut off are ended (if their program is still there) and recorded as interrupted. */
  async endLeftovers(log: (line: string) => void): Promise<void> {
    for (const run of this.runs.filter((r) => r.state === 'running')) {
      if (run.pid === null || run.startTime === null) {
        this.interrupted(run.runId, 'the agent stopped while the command was starting');
        continue;
      }
      const result = await endRecordedProcess(run.pid, run.startTime);
      this.interrupted(run.runId, result === 'ended' ? 'the agent stopped while the command ran; ended when it started again' : 'the agent stopped while the command ran');
      if (result === 'ended') log(`ended '${run.commandLine}' (process group ${run.pid}), left running when the agent stopped; it is not run again`);
    }
  }

  private update(runId: string, fields: Partial<AgentRun>): void {
    const run = this.get(runId);
    if (!run) return;
    Object.assign(run, fields);
    this.save();
    if (run.state !== 'running') {
      for (const wake of this.waiting.get(runId) ?? []) wake();
      this.waiting.delete(runId);
    }
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.runs, null, 2));
    renameSync(tmp, this.file);
  }
}
