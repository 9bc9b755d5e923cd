// Reports (spec §11–§13). Inventories are parsed and stored; a file collection body is the raw file,
// streamed to disk under a name of our choosing. Every report is answered with an empty 200.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FileReport, Inventory } from '../../shared/protocol/types.js';
import type { ServerContext } from '../context.js';
import { appendReceived, type ReceivedItem } from '../received-log.js';
import { jsonInSlices } from '../json-in-slices.js';
import { sendEmpty } from '../http-io.js';
import { storeCollectedFile } from '../collected-files.js';
import { printable } from '../input-error.js';

export async function handleSoftwareInventory(ctx: ServerContext, res: ServerResponse, deviceId: string, report: FileReport): Promise<void> {
  const item: ReceivedItem = { kind: 'softwareInventory', report };
  const json = await jsonInSlices(item); // up to 32 MB of it: made without holding the other devices up
  await ctx.writes.run(() => appendReceived(ctx.db, deviceId, ctx.now().toISOString(), [item], [json]));
  sendEmpty(res);
}

export async function handleMachineInventory(ctx: ServerContext, res: ServerResponse, deviceId: string, inventory: Inventory): Promise<void> {
  await ctx.writes.run(() => appendReceived(ctx.db, deviceId, ctx.now().toISOString(), [{ kind: 'machineInventory', inventory }]));
  sendEmpty(res);
}

export async function handleFileCollection(ctx: ServerContext, req: IncomingMessage, res: ServerResponse,
  deviceId: string, devicePath: string): Promise<void> {
  const stored = await storeCollectedFile(req, ctx.dataDir, deviceId, devicePath, ctx.limits.collectedFileBytes);
  await ctx.writes.run(() => appendReceived(ctx.db, deviceId, ctx.now().toISOString(), [{
    kind: 'fileCollection',
    devicePath: printable(devicePath, 1024),
    size: stored.size,
    sha256: stored.sha256,
    storedAs: stored.storedAs,
  }]));
  sendEmpty(res);
}
