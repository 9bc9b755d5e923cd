// Instruction Request → Instructions (spec §6–§7), with Dockhand's SHA256 extension for Dockhand clients
// so they can verify the download. Stock clients never see it: their parser is limited (spec §2.2).
import type { ServerResponse } from 'node:http';
import { buildInstructions, parseDmTime } from '../../shared/protocol/index.js';
import type { InstructionsRequest, PackageInstructions } from '../../shared/protocol/types.js';
import type { ServerContext } from '../context.js';
import { getPackage, type CatalogPackage } from '../catalog.js';
import { sendText, sendXml } from '../http-io.js';
import { printable } from '../input-error.js';
import { speaksDockhand } from '../devices.js';

export function toPackageInstructions(p: CatalogPackage): PackageInstructions {
  const out: PackageInstructions = {
    ID: p.id,
    Required: p.required,
    Name: p.name,
    PackageSize: p.size,
    LocalDestination: p.localDestination,
    SourceFiles: p.sourceFiles,
    SHA256: p.sha256,
  };
  if (p.shortDescription !== undefined) out.ShortDescription = p.shortDescription;
  if (p.longDescription !== undefined) out.LongDescription = p.longDescription;
  if (p.flags !== undefined) out.Flags = p.flags;
  if (p.startTime !== undefined) out.StartTime = { time: parseDmTime(p.startTime), UTC: p.startUtc };
  if (p.recurrence) out.Recurrence = { Interval: p.recurrence.intervalMs, Behavior: p.recurrence.behavior };
  if (p.commandLine !== undefined) out.CommandLine = p.commandLine;
  return out;
}

/** Package IDs are GUIDs we store upper-case; a client that lower-cases them still finds its package. */
export function findPackage(ctx: ServerContext, id: string): CatalogPackage | undefined {
  return getPackage(ctx.db, id) ?? getPackage(ctx.db, id.trim().toUpperCase());
}

/**
 * The SHA-256 extension goes only to a device whose last poll named Dockhand as its client; a stock client
 * (or one not seen polling yet) gets the documented document and nothing else.
 */
export function handleInstructionsRequest(ctx: ServerContext, res: ServerResponse, deviceId: string, request: InstructionsRequest): void {
  const pkg = findPackage(ctx, request.PackageID);
  if (!pkg) {
    sendText(res, 404, `unknown package ${printable(request.PackageID)}`);
    return;
  }
  const instructions = toPackageInstructions(pkg);
  if (!speaksDockhand(ctx.db, deviceId)) delete instructions.SHA256;
  sendXml(res, buildInstructions({ Packages: [instructions] }));
}
