// One instruction request per needed package (spec §6), and the download event it schedules (§7):
// StartTime made absolute (UTC or the target's local time), recurrence, flags, and whether the package
// is required or waits for a technician's acceptance.
import type { TaskRecord } from '../../shared/model/client.js';
import { buildInstructionsRequest, dmTimeToDate, ProtocolError } from '../../shared/protocol/index.js';
import { NO_WAIT } from '../../shared/model/wait.js';
import { parseOffThread } from '../protocol/parse-off-thread.js';
import type { ClientSession } from './session.js';
import { packageTransition, taskTransition } from './transitions.js';

export async function runInstruction(session: ClientSession, task: TaskRecord): Promise<void> {
  const { store } = session;
  const id = task.packageId;
  const res = await session.post('InstructionRequest', buildInstructionsRequest({ PackageID: id }));
  const instructions = await parseOffThread('Instructions', res.body, { requestedId: id });
  const p = instructions.Packages[0];
  if (!p) throw new ProtocolError('Instructions', '/Instructions', 'no Package element');
  // A4: the codec already trusts the ID that was asked for and says so in `warnings`.
  for (const warning of instructions.warnings ?? []) session.log('warn', warning, id);
  // New instructions supersede an event of this package still under way in the download lane.
  await session.stopTask(id);
  const now = session.now();
  const startAt = p.StartTime ? dmTimeToDate(p.StartTime.time, p.StartTime.UTC).getTime() : now;
  const accepted = store.package(id)?.accepted ?? false;
  store.transaction(() => {
    store.setPackageInstructions(id, {
      name: p.Name, shortDescription: p.ShortDescription ?? null, longDescription: p.LongDescription ?? null,
      required: p.Required, packageSize: p.PackageSize ?? null, flags: p.Flags ?? null, startAt,
      recurrenceMs: p.Recurrence?.Interval ?? null, behavior: p.Recurrence?.Behavior ?? null,
      localDestination: p.LocalDestination, commandLine: p.CommandLine ?? null, sourceFiles: p.SourceFiles,
      sha256: p.SHA256 ?? null,
    });
    packageTransition(store, id, p.Required ? 'required instructions' : accepted ? 'accepted optional instructions' : 'optional instructions',
      now, undefined, { downloaded: false, runs: 0 });
    store.scheduleTask('download', id, startAt, now, startAt > now ? { kind: 'schedule', until: startAt } : NO_WAIT);
    taskTransition(session, task, 'succeed');
  });
  session.log('info', `instructions for ${p.Name} (${id}): ${p.Required ? 'required' : 'optional'}` +
    `${startAt > now ? `, starts ${new Date(startAt).toISOString()}` : ''}` +
    `${p.Recurrence ? `, recurs every ${p.Recurrence.Interval / 1000} s (${p.Recurrence.Behavior})` : ''}`, id);
}
