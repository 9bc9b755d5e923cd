// Instruction Request → Instructions (spec §6–§7), with Dockhand's SHA256 extension so a Dockhand
// client can verify the download; a stock client skips the namespaced element.
import type { ServerResponse } from 'node:http';
import { buildInstructions, parseDmTime } from '../../shared/protocol/index.js';
import type { InstructionsRequest, PackageInstructions } from '../../shared/protocol/types.js';
import type { ServerContext } from '../context.js';
import { getPackage, type CatalogPackage } from '../catalog.js';
import { sendText, sendXml } from '../http-io.js';
import { printable } from '../input-error.js';

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

export function handleInstructionsRequest(ctx: ServerContext, res: ServerResponse, request: InstructionsRequest): void {
  const pkg = findPackage(ctx, request.PackageID);
  if (!pkg) {
    sendText(res, 404, `unknown package ${printable(request.PackageID)}`);
    return;
  }
  sendXml(res, buildInstructions({ Packages: [toPackageInstructions(pkg)] }));
}
