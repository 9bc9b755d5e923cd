// Phase 4's command, at most once (issue 7). A run is recorded before it starts (command-journal.ts); when an
// event comes back to its command phase after a crash, a pause or an undock, the recorded run is resumed —
// its outcome read from the journal or asked of the device — and the command is never started a second time.
import type { PackageRecord } from '../../shared/model/client.js';
import { DockhandError } from '../../shared/model/errors.js';
import type { ClientSession } from './session.js';
import type { CommandOutcome } from './target.js';
import { CommandJournal, INTERRUPTED, type CommandRunRecord } from './command-journal.js';
import { processStartTime } from './local/process-identity.js';

export type CommandResult =
  | { run: CommandRunRecord; outcome: CommandOutcome }
  | { run: CommandRunRecord; interrupted: string };

export async function runCommandOnce(session: ClientSession, pkg: PackageRecord, commandLine: string): Promise<CommandResult> {
  const journal = new CommandJournal(session.store);
  const signal = session.signalFor(pkg.id);
  const directory = pkg.localDestination ?? '\\';
  let run = journal.pending(pkg.id);
  if (run) {
    const known = await session.target.runOutcome(run, signal);
    if (known.state === 'finished') {
      journal.finished(run.runId, known.outcome);
      return { run, outcome: known.outcome };
    }
    if (known.state === 'interrupted') {
      journal.interrupted(run.runId, known.reason);
      return { run, interrupted: known.reason };
    }
    session.log('info', `'${commandLine}' of ${pkg.name ?? pkg.id} never reached the device; it runs now`, pkg.id);
  } else {
    run = journal.begin(pkg.id, commandLine, directory, session.now());
  }
  const { runId } = run;
  try {
    const outcome = await session.target.runCommand(commandLine, directory, signal, {
      runId, spawned: (pid) => journal.spawned(runId, pid, processStartTime(pid)),
    });
    journal.finished(runId, outcome);
    return { run, outcome };
  } catch (err) {
    // A stop or a pause ended the program: recorded, so resuming reports it instead of running it again.
    // A link lost mid-command leaves the run open: the device says how it ended when it docks again.
    if (err instanceof DockhandError && err.code === 'CANCELLED') {
      journal.interrupted(runId, session.signal.aborted ? INTERRUPTED.stationStopped : INTERRUPTED.paused);
    }
    throw err;
  }
}
