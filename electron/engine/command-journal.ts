// At most one copy of a command, ever (issue 7). Every run of a post-install command line is written into the
// target's client database before it starts, and it stays there until its status message is queued (in the
// same transaction, see download-event.ts):
//
//   running     — begun; for the local target also the program's pid and start time once the OS started it
//   finished    — ended with an outcome that is not reported yet (a crash came between the two)
//   interrupted — ended by a stop, a pause, a crash or an undock before it could finish; never run again
//
// So after any crash the download event resumes into the recorded outcome instead of a second run. At start
// the station ends what its own earlier run left behind (endLeftoverCommands) before any session runs; a
// docked device's agent is asked about its runs by run ID when the device docks again (tethered-target.ts).
import { randomUUID } from 'node:crypto';
import type { ClientStore } from '../store/client-store.js';
import type { CommandOutcome } from './target.js';
import { endRecordedProcess } from './local/process-identity.js';

export interface CommandRunRecord {
  runId: string;
  packageId: string;
  commandLine: string;
  directory: string;
  state: 'running' | 'finished' | 'interrupted';
  /** Local target: the program's pid (= its process group) and start time as the OS reported it. */
  pid: number | null;
  startTime: string | null;
  startedAt: number;
  outcome?: CommandOutcome;
  /** Why it was interrupted, in words for the 20035 Reason. */
  reason?: string;
}

const KEY = 'command_runs';

/** Outcome words shared by every target, so the server reads the same Reason whichever way a run was cut. */
export const INTERRUPTED = {
  stationStopped: 'the station stopped while the command ran; it was ended then, not run again',
  paused: 'a technician paused the package while the command ran; it was ended, not run again',
  endedAtRestart: 'the station stopped while the command ran; ended at restart, not run again',
  goneAtRestart: 'the station stopped while the command ran; it had already ended by the restart (how is unknown); not run again',
  starting: 'the station stopped while the command was starting; not run again',
} as const;

export class CommandJournal {
  constructor(private readonly store: ClientStore) {}

  private all(): CommandRunRecord[] {
    return this.store.getJson<CommandRunRecord[]>(KEY) ?? [];
  }

  private change(runId: string, update: (r: CommandRunRecord) => void): void {
    const runs = this.all();
    const run = runs.find((r) => r.runId === runId);
    if (!run) return;
    update(run);
    this.store.setJson(KEY, runs);
  }

  runs(): CommandRunRecord[] {
    return this.all();
  }

  /** The run of this package not reported yet, if any: the next attempt resumes it, never starts another. */
  pending(packageId: string): CommandRunRecord | undefined {
    return this.all().find((r) => r.packageId === packageId);
  }

  begin(packageId: string, commandLine: string, directory: string, now: number): CommandRunRecord {
    const run: CommandRunRecord = { runId: randomUUID(), packageId, commandLine, directory, state: 'running', pid: null, startTime: null, startedAt: now };
    this.store.setJson(KEY, [...this.all().filter((r) => r.packageId !== packageId), run]);
    return run;
  }

  spawned(runId: string, pid: number, startTime: string | null): void {
    this.change(runId, (r) => Object.assign(r, { pid, startTime }));
  }

  finished(runId: string, outcome: CommandOutcome): void {
    // The output is bounded already (64 KiB); the status message keeps its last 2000 characters.
    this.change(runId, (r) => Object.assign(r, { state: 'finished', outcome: { ...outcome, output: outcome.output.slice(-4000) } }));
  }

  interrupted(runId: string, reason: string): void {
    this.change(runId, (r) => Object.assign(r, { state: 'interrupted', reason }));
  }

  /** The outcome is in the outbox: the run is done with. Called inside the status message's transaction. */
  settle(runId: string): void {
    this.store.setJson(KEY, this.all().filter((r) => r.runId !== runId));
  }

  /** The package is gone (no longer listed): so are its runs. */
  forget(packageId: string): void {
    const runs = this.all();
    if (runs.some((r) => r.packageId === packageId)) this.store.setJson(KEY, runs.filter((r) => r.packageId !== packageId));
  }
}

/**
 * At station start, before any session runs: every local run still marked running was cut off by a crash.
 * Its process group is ended if it is still there (matching pid and start time), and the run is recorded
 * as interrupted; the download event then reports that instead of running the command a second time.
 */
export async function endLeftoverCommands(journal: CommandJournal, log: (message: string) => void): Promise<void> {
  for (const run of journal.runs()) {
    if (run.state !== 'running') continue;
    if (run.pid === null || run.startTime === null) {
      journal.interrupted(run.runId, INTERRUPTED.starting);
      log(`'${run.commandLine}' of package ${run.packageId} was starting when the station stopped; it is not run again`);
      continue;
    }
    const result = await endRecordedProcess(run.pid, run.startTime);
    journal.interrupted(run.runId, result === 'ended' ? INTERRUPTED.endedAtRestart : INTERRUPTED.goneAtRestart);
    log(result === 'ended'
      ? `ended '${run.commandLine}' (process group ${run.pid}) of package ${run.packageId}, left running when the station stopped; it is not run again`
      : `'${run.commandLine}' of package ${run.packageId} was running when the station stopped and is gone now; it is not run again`);
  }
}
