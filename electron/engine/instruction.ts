// One instruction request per needed package (spec §6), and the download event it schedules (§7):
// StartTime made absolute (UTC or the target's local time), recurrence, flags, and whether the package
// is required or waits for a technician's acceptance.
import type { PackageRecord, TaskRecord } from '../../shared/model/client.js';
import type { PackageInstructions } from '../../shared/protocol/types.js';
import { buildInstructionsRequest, dmTimeToDate, ProtocolError } from '../../shared/protocol/index.js';
import { NO_WAIT } from '../../shared/model/wait.js';
import { parseOffThread } from '../protocol/parse-off-thread.js';
import type { ClientSession } from './session.js';
import { packageTransition, taskTransition } from './transitions.js';
import { instructionsAnswer } from './kit/kit-answers.js';

export async function runInstruction(session: ClientSession, task: TaskRecord): Promise<void> {
  const { store } = session;
  const id = task.packageId;
  // While the server cannot be reached, the field kit's kept answer for the device's profile stands in.
  const res = await instructionsAnswer(session, id, async () => (await session.post('InstructionRequest', buildInstructionsRequest({ PackageID: id }))).body);
  const instructions = await parseOffThread('Instructions', res.body, { requestedId: id });
  const p = instructions.Packages[0];
  if (!p) throw new ProtocolError('Instructions', '/Instructions', 'no Package element');
  // A4: the codec already trusts the ID that was asked for and says so in `warnings`.
  for (const warning of instructions.warnings ?? []) session.log('warn', warning, id);
  // New instructions supersede an event of this package still under way in the download lane.
  await session.stopTask(id);
  const now = session.now();
  const startAt = p.StartTime ? dmTimeToDate(p.StartTime.time, p.StartTime.UTC).getTime() : now;
  const before = store.package(id);
  const accepted = before?.accepted ?? false;
  store.transaction(() => {
    store.setPackageInstructions(id, {
      name: p.Name, shortDescription: p.ShortDescription ?? null, longDescription: p.LongDescription ?? null,
      required: p.Required, packageSize: p.PackageSize ?? null, flags: p.Flags ?? null, startAt,
      recurrenceMs: p.Recurrence?.Interval ?? null, behavior: p.Recurrence?.Behavior ?? null,
      localDestination: p.LocalDestination, commandLine: p.CommandLine ?? null, sourceFiles: p.SourceFiles,
      sha256: p.SHA256 ?? null, instructionsFrom: res.kit?.profile ?? '',
    });
    packageTransition(store, id, p.Required ? 'required instructions' : accepted ? 'accepted optional instructions' : 'optional instructions',
      now, undefined, { downloaded: false, runs: 0 });
    store.scheduleTask('download', id, startAt, now, startAt > now ? { kind: 'schedule', until: startAt } : NO_WAIT);
    taskTransition(session, task, 'succeed');
  });
  if (before?.instructionsFrom && !res.kit) noteKitDifferences(session, before, p);
  session.log('info', `instructions for ${p.Name} (${id}): ${p.Required ? 'required' : 'optional'}` +
    `${startAt > now ? `, starts ${new Date(startAt).toISOString()}` : ''}` +
    `${p.Recurrence ? `, recurs every ${p.Recurrence.Interval / 1000} s (${p.Recurrence.Behavior})` : ''}`, id);
}

/** The server's instructions replace those the field kit gave: what differs is written to the activity. */
function noteKitDifferences(session: ClientSession, kit: PackageRecord, p: PackageInstructions): void {
  const pairs: Array<[string, unknown, unknown]> = [
    ['name', kit.name, p.Name], ['size', kit.packageSize, p.PackageSize ?? null], ['SHA-256', kit.sha256, p.SHA256 ?? null],
    ['command line', kit.commandLine, p.CommandLine ?? null], ['destination', kit.localDestination, p.LocalDestination],
    ['flags', kit.flags, p.Flags ?? null], ['required', kit.required, p.Required],
  ];
  const changed = pairs.filter(([, a, b]) => a !== b).map(([what, a, b]) => `${what} ${String(b)} (the field kit said ${String(a)})`);
  if (changed.length) session.log('warn', `the server's instructions for ${p.Name} differ from the field kit's and win: ${changed.join('; ')}`, kit.id);
}
