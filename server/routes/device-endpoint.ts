// POST /devicemgmt/server.aspx: every device message arrives here (spec §2.1) and is told apart by
// X-Device-Action (any case) and, for reports, X-Device-ReportType. When the action is missing or not
// one we know, the root element of the body decides (spec A1): that is how download status POSTs from
// clients that send no action are still understood.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readDeviceHeaders } from '../../shared/protocol/index.js';
import { parseOffThread } from '../../electron/protocol/parse-off-thread.js';
import type { DmDocument } from '../../shared/protocol/types.js';
import type { DeviceHeaders } from '../../shared/protocol/headers.js';
import type { ServerContext } from '../context.js';
import { BadRequestError, readBody } from '../http-io.js';
import { hasControlChars } from '../input-error.js';
import { handlePoll } from './poll.js';
import { handleInstructionsRequest } from './instructions.js';
import { handleLocationRequest } from './location.js';
import { handleStatus } from './status.js';
import { handleFileCollection, handleMachineInventory, handleSoftwareInventory } from './reports.js';

export async function handleDevicePost(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers = readDeviceHeaders(req.headers);
  // every device message carries its device's ID (spec §2.3); without it nothing can be recorded against
  // a device, assigned or answered with that device's settings
  const deviceId = headers.uuid;
  if (!deviceId) throw new BadRequestError('the request has no X-Device-UUID header: every device message must name its device (spec §2.3)');
  if (deviceId.length > 256 || hasControlChars(deviceId)) {
    throw new BadRequestError('the X-Device-UUID header is longer than 256 characters or holds control characters');
  }
  const isReport = headers.action === 'Report' || (headers.action === undefined && headers.reportType !== undefined);

  if (isReport && headers.reportType === 'FileCollection') {
    const devicePath = headers.fullyQualifiedFilename;
    if (devicePath === undefined) {
      throw new BadRequestError('a file collection report needs an X-Device-FullyQualifiedFilename header');
    }
    await handleFileCollection(ctx, req, res, deviceId, devicePath);
    return;
  }

  const big = isReport || headers.action === undefined;
  const maxBytes = big ? Math.max(ctx.limits.reportBytes, ctx.limits.documentBytes) : ctx.limits.documentBytes;
  // Bytes, read as UTF-8 (a byte order mark before `<?xml` is dropped); a large body (a 30 MB software
  // inventory) is parsed in the parse worker, so other devices are answered meanwhile.
  const body = await readBody(req, maxBytes);
  const opts = { maxBytes };
  switch (headers.action) {
    case 'Poll': return handlePoll(ctx, res, deviceId, headers, await parseOffThread('DevicePoll', body, opts));
    case 'InstructionRequest': return handleInstructionsRequest(ctx, res, deviceId, await parseOffThread('InstructionsRequest', body, opts));
    case 'LocationRequest': return handleLocationRequest(ctx, req, res, await parseOffThread('PackageLocationRequest', body, opts));
    case 'Status': return handleStatus(ctx, res, deviceId, await parseOffThread('Status', body, opts));
    case 'Report':
      if (headers.reportType === 'SoftwareInventory') return handleSoftwareInventory(ctx, res, deviceId, await parseOffThread('FileReport', body, opts));
      if (headers.reportType === 'MachineInventory') return handleMachineInventory(ctx, res, deviceId, await parseOffThread('Inventory', body, opts));
      return dispatchByRoot(ctx, req, res, headers, deviceId, await parseOffThread('document', body, opts));
    case undefined:
      return dispatchByRoot(ctx, req, res, headers, deviceId, await parseOffThread('document', body, opts));
  }
}

function dispatchByRoot(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, headers: Partial<DeviceHeaders>,
  deviceId: string, doc: DmDocument): void | Promise<void> {
  switch (doc.kind) {
    case 'DevicePoll': return handlePoll(ctx, res, deviceId, headers, doc.value);
    case 'InstructionsRequest': return handleInstructionsRequest(ctx, res, deviceId, doc.value);
    case 'PackageLocationRequest': return handleLocationRequest(ctx, req, res, doc.value);
    case 'Status': return handleStatus(ctx, res, deviceId, doc.value);
    case 'FileReport': return handleSoftwareInventory(ctx, res, deviceId, doc.value);
    case 'Inventory': return handleMachineInventory(ctx, res, deviceId, doc.value);
    case 'PollResponse':
    case 'Instructions':
    case 'PackageLocation':
      throw new BadRequestError(`a ${doc.kind} document is what the server sends, not what a device posts`);
  }
}
