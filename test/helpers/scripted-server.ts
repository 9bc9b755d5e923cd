// A scripted management server for hostile-input tests — "scripted-test-server", named as such in its Server
// header — because the reference server refuses to produce these documents. Each handler gets the request's
// body (and the package ID the request names, when it names one) and returns the answer. Listens on
// 127.0.0.1 only; records every status message and every request.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildInstructions, buildPackageLocation, buildPollResponse, parseInstructionsRequest, parsePackageLocationRequest, parseStatus } from '../../shared/protocol/index.js';
import type { PackageInstructions } from '../../shared/protocol/types.js';

export interface ServerScript {
  /** The IDs the poll lists (read at every poll). */
  listed: () => string[];
  instructions?: (id: string) => Partial<PackageInstructions>;
  /** The file name at the end of the package URL (percent-encoded as it should appear). */
  fileName?: (id: string) => string;
  /** The package bytes for a GET of `/p/<n>/<file>`; default a small shell script. */
  file?: (id: string, res: http.ServerResponse) => void;
}

export interface ScriptedServer {
  url: string;
  statuses: Array<{ packageID: string; messageID: number; params: Record<string, string> }>;
  requests: Array<{ action: string; packageId: string }>;
}

export async function scriptedServer(t: { after(fn: () => unknown): void }, script: ServerScript): Promise<ScriptedServer> {
  const statuses: ScriptedServer['statuses'] = [];
  const requests: ScriptedServer['requests'] = [];
  const ids: string[] = []; // GET URLs carry an index, so no hostile ID has to survive a URL
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('Server', 'scripted-test-server');
      if (req.method === 'GET') {
        const id = ids[Number(/^\/p\/(\d+)\//.exec(req.url ?? '')?.[1] ?? -1)] ?? '';
        requests.push({ action: 'GET', packageId: id });
        return script.file ? script.file(id, res) : res.end('#!/bin/sh\necho ok\n');
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const action = String(req.headers['x-device-action'] ?? '');
      switch (action) {
        case 'Poll':
          requests.push({ action, packageId: '' });
          return res.end(buildPollResponse({ Settings: { ClientSettings: { FailureRetryCount: 1, FailureRetryInterval: 1000 } }, ApplicablePackages: script.listed() }));
        case 'InstructionRequest': {
          const id = parseInstructionsRequest(body).PackageID;
          requests.push({ action, packageId: id });
          return res.end(buildInstructions({ Packages: [{ ID: id, Required: true, Name: `package ${id}`, LocalDestination: '\\Temp', SourceFiles: true, ...script.instructions?.(id) }] }));
        }
        case 'LocationRequest': {
          const id = parsePackageLocationRequest(body).PackageID;
          requests.push({ action, packageId: id });
          if (!ids.includes(id)) ids.push(id);
          const url = `http://${req.headers.host}/p/${ids.indexOf(id)}/${script.fileName?.(id) ?? 'setup.sh'}`;
          return res.end(buildPackageLocation({ PackageID: id, Locations: [{ metric: 1, URL: url, Subnets: [] }] }));
        }
        case 'Status':
          for (const m of parseStatus(body).StatusMessages) {
            statuses.push({ packageID: m.packageID, messageID: m.messageID, params: Object.fromEntries(m.Parameters.map((p) => [p.name, p.value])) });
          }
          return res.end();
        default:
          return res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/devicemgmt/server.aspx`, statuses, requests };
}
