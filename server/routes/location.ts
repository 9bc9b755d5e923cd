// Package Location Request → PackageLocation (spec §8–§9): one HTTP location served by this server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildPackageLocation } from '../../shared/protocol/index.js';
import type { PackageLocationRequest } from '../../shared/protocol/types.js';
import type { ServerContext } from '../context.js';
import { baseUrlFor, sendText, sendXml } from '../http-io.js';
import { printable } from '../input-error.js';
import { findPackage } from './instructions.js';

/** `<base>/packages/<ID>/<file>`, each segment percent-encoded. */
export function packageUrl(base: string, id: string, fileName: string): string {
  return `${base}/packages/${encodeURIComponent(id)}/${encodeURIComponent(fileName)}`;
}

export function handleLocationRequest(ctx: ServerContext, req: IncomingMessage, res: ServerResponse,
  request: PackageLocationRequest): void {
  const pkg = findPackage(ctx, request.PackageID);
  if (!pkg) {
    sendText(res, 404, `unknown package ${printable(request.PackageID)}`);
    return;
  }
  const url = packageUrl(baseUrlFor(req, ctx.publicUrl), pkg.id, pkg.fileName);
  sendXml(res, buildPackageLocation({
    PackageID: pkg.id,
    Locations: [{ metric: 1, URL: url, Subnets: [] }],
  }));
}
