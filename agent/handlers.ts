// The agent's answers to the one-shot requests: machine inventory, file listing (software inventory),
// removing a file, running a command. Each reuses the station's local-target module for the same job, so
// the device follows exactly the rules the station follows for itself (path confinement, filters, command
// lines without a shell, capped output).
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCommandLine } from '../electron/engine/local/command-line.js';
import { makeProgramRunnable } from '../electron/engine/local/runnable.js';
import { mapDevicePath } from '../electron/engine/local/device-path.js';
import { machineInventory } from '../electron/engine/local/machine-inventory.js';
import { softwareInventory } from '../electron/engine/local/software-inventory.js';
import type { Body } from '../shared/link/bodies.js';
import { DEFAULT_MAX_MESSAGE } from '../shared/link/limits.js';
import { MESSAGE_HEADER_BYTES } from '../shared/link/messages.js';
import type { InventoryDirectory } from '../shared/protocol/types.js';
import type { AgentContext } from './context.js';
import { LinkRefusal } from './refusal.js';
import { describeError } from '../shared/model/errors.js';
import { processStartTime } from '../electron/engine/local/process-identity.js';

/** Refuses paths into the agent's own state folder: the station must not read or change the agent's identity. */
export function deviceFile(ctx: AgentContext, devicePath: string): string {
  const host = mapDevicePath(ctx.root, devicePath);
  const state = path.resolve(ctx.stateDir);
  if (host === state || host.startsWith(state + path.sep)) {
    throw new LinkRefusal('PATH_REFUSED', `${devicePath} is inside the agent's own state folder`);
  }
  return host;
}

export async function machineInventoryReply(ctx: AgentContext): Promise<Body<'MACHINE_INVENTORY_REPLY'>> {
  return { inventory: await machineInventory({ root: ctx.root }) };
}

export async function listFilesReply(ctx: AgentContext, body: Body<'LIST_FILES'>, maxMessage = DEFAULT_MAX_MESSAGE): Promise<Body<'LIST_FILES_REPLY'>> {
  const result = await softwareInventory(ctx.root, body.items);
  return fitListing({ report: { Directories: result.Directories }, truncated: result.truncated, warnings: result.warnings },
    maxMessage - MESSAGE_HEADER_BYTES);
}

/**
 * A listing that does not fit in one message is cut, last files first, until it does, and says so: a
 * partial inventory the server can use beats a refusal. Each try measures the JSON once and drops files in
 * proportion to the excess, so a few tries suffice.
 */
export function fitListing(reply: Body<'LIST_FILES_REPLY'>, maxBytes: number): Body<'LIST_FILES_REPLY'> {
  const size = (r: Body<'LIST_FILES_REPLY'>): number => Buffer.byteLength(JSON.stringify(r), 'utf8');
  let bytes = size(reply);
  if (bytes <= maxBytes) return reply;
  const all: Array<{ dir: InventoryDirectory; files: InventoryDirectory['Files'] }> = [];
  const collect = (dirs: InventoryDirectory[]): void => {
    for (const dir of dirs) {
      all.push({ dir, files: dir.Files });
      collect(dir.Directories);
    }
  };
  collect(reply.report.Directories);
  const total = all.reduce((n, d) => n + d.files.length, 0);
  let keep = total;
  const note = (kept: number): string => `the listing was cut to ${kept} of ${total} files to fit the link's ${maxBytes + MESSAGE_HEADER_BYTES}-byte ` +
    'messages; narrow the software inventory filters to see the rest';
  for (let attempt = 0; attempt < 20 && bytes > maxBytes && keep > 0; attempt++) {
    keep = Math.max(0, Math.floor(keep * (maxBytes / bytes) * 0.95) - 1);
    let left = keep;
    for (const d of all) {
      d.dir.Files = d.files.slice(0, Math.max(0, left));
      left -= d.dir.Files.length;
    }
    reply = { ...reply, truncated: true, warnings: [...reply.warnings.filter((w) => !w.startsWith('the listing was cut')), note(keep)] };
    bytes = size(reply);
  }
  return reply;
}

export async function removeFileReply(ctx: AgentContext, body: Body<'REMOVE_FILE'>): Promise<Body<'REMOVE_FILE_REPLY'>> {
  const host = deviceFile(ctx, body.path);
  const stat = await fs.lstat(host).catch(() => undefined);
  if (!stat) throw new LinkRefusal('NOT_FOUND', `there is no file ${body.path} on the device`);
  if (stat.isDirectory()) throw new LinkRefusal('BAD_REQUEST', `${body.path} is a folder; only files are removed`);
  await fs.rm(host);
  await ctx.record.fileRemoved(ctx.puts.devicePath(host));
  ctx.log(`removed ${body.path}`);
  return {};
}

/**
 * RUN. With a run ID the run is recorded before its program starts, and a run ID the agent already knows is
 * never started again: its recorded result is the answer (or, still running, the answer once it ends).
 * The signal (CANCEL, or the end of the session: an undock) ends the program's process group; the run is
 * then recorded as interrupted, with the signal's reason.
 */
export async function runReply(ctx: AgentContext, body: Body<'RUN'>, signal: AbortSignal): Promise<Body<'RUN_REPLY'>> {
  const { runId } = body;
  if (runId !== undefined && ctx.runs.get(runId)) return knownRun(ctx, runId, signal);
  const cwd = deviceFile(ctx, body.directory);
  ctx.log(`running '${body.commandLine}' in ${body.directory}${runId ? ` (run ${runId})` : ''}`);
  await makeProgramRunnable(body.commandLine, cwd, ctx.root);
  if (runId !== undefined) ctx.runs.begin(runId, body.commandLine, body.directory);
  let r;
  try {
    r = await runCommandLine({
      commandLine: body.commandLine,
      cwd,
      root: ctx.root,
      timeoutMs: body.timeoutMs,
      maxOutputBytes: body.maxOutputBytes,
      signal,
      hostPrograms: 'any', // the device's own programs are what its command lines are for
      ...(runId !== undefined ? { onSpawn: (pid: number) => ctx.runs.spawned(runId, pid, processStartTime(pid)) } : {}),
    });
  } catch (err) {
    const why = signal.aborted ? String(signal.reason ?? 'cancelled') : `it could not start: ${describeError(err)}`;
    if (runId !== undefined) ctx.runs.interrupted(runId, why);
    if (signal.aborted) ctx.log(`'${body.commandLine}' ended: ${why}`);
    throw err;
  }
  const reply = { exitCode: r.exitCode, signal: r.signal, output: r.output, outputTruncated: r.outputTruncated, durationMs: r.durationMs, timedOut: r.timedOut };
  if (runId !== undefined) ctx.runs.finished(runId, reply);
  await ctx.record.commandRan({
    commandLine: body.commandLine, directory: body.directory, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut,
    durationMs: Math.round(r.durationMs), output: r.output,
  });
  ctx.log(`'${body.commandLine}' ended: exit ${r.exitCode ?? '-'}${r.signal ? ` signal ${r.signal}` : ''}${r.timedOut ? ' (timed out)' : ''}`);
  return reply;
}

/** A RUN for a run ID already known: its result, never a second start. */
async function knownRun(ctx: AgentContext, runId: string, signal: AbortSignal): Promise<Body<'RUN_REPLY'>> {
  await ctx.runs.settled(runId, signal);
  const run = ctx.runs.get(runId)!;
  if (run.state === 'finished' && run.result) return run.result;
  throw new LinkRefusal('CANCELLED', `the run ${runId} of '${run.commandLine}' was interrupted (${run.reason ?? 'no reason recorded'}); it is not started again`);
}

/** RUN_STATUS: how a run stands; with `wait`, once it no longer runs. */
export async function runStatusReply(ctx: AgentContext, body: Body<'RUN_STATUS'>, signal: AbortSignal): Promise<Body<'RUN_STATUS_REPLY'>> {
  if (!ctx.runs.get(body.runId)) return { state: 'unknown' };
  if (body.wait) await ctx.runs.settled(body.runId, signal);
  const run = ctx.runs.get(body.runId)!;
  if (run.state === 'finished' && run.result) return { state: 'finished', result: run.result };
  if (run.state === 'interrupted') return { state: 'interrupted', reason: run.reason ?? 'no reason recorded' };
  return { state: 'running' };
}
