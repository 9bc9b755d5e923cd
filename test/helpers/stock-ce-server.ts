// A double of the one public management server written against a real Windows CE 4.21 device
// (enwony/wince-mdm-server, a Flask app that cannot run here): it answers the way that server does, which is
// what the station must cope with. It serves the recorded poll answer (test/fixtures/protocol/
// wince-mdm-server-pollresponse.xml) as `text/html`, with no XML declaration and no namespace; it wants
// X-Device-UUID on every POST (400 with a text body otherwise); it takes machine inventories with an empty
// 200; and it answers every action or report type it does not know with 200 and a line of text
// (`Unknown X-Device-Action field: Status`, `Unknown X-Device-Reporttype: SoftwareInventory`). Only the
// PollServer of the answer is changed, to this double's loopback address, so the station keeps talking to it.
// Listens on 127.0.0.1, port 0.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

export interface StockRequest {
  action: string;
  reportType: string;
  uuid: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface StockServer {
  url: string;
  port: number;
  requests: StockRequest[];
  /** The poll answer as served; tests may change it (enable a report, as the server's admin page does). */
  pollAnswer: string;
  /**
   * How the poll answer's bytes are written: UTF-8 as the public server does, or UTF-16 as a .NET server
   * writing an XmlDocument with Encoding.Unicode does (little-endian with a byte order mark; big-endian with
   * none, its first `<` telling the order).
   */
  pollEncoding: 'utf-8' | 'utf-16le-bom' | 'utf-16be';
  close(): Promise<void>;
}

const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'protocol', name), 'utf8');

function encoded(text: string, encoding: StockServer['pollEncoding']): Buffer {
  if (encoding === 'utf-8') return Buffer.from(text, 'utf8');
  const le = Buffer.from(encoding === 'utf-16le-bom' ? `\ufeff${text}` : text, 'utf16le');
  return encoding === 'utf-16le-bom' ? le : le.swap16();
}

export async function startStockCeServer(): Promise<StockServer> {
  const requests: StockRequest[] = [];
  const state: { answer: string; encoding: StockServer['pollEncoding'] } = { answer: '', encoding: 'utf-8' };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = (status: number, body: string | Buffer): void => {
        res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(body);
      };
      if (req.method !== 'POST' || req.url !== '/devicemgmt/server.aspx') return text(404, '<h1>Not Found</h1>');
      const header = (name: string): string | undefined => {
        const v = req.headers[name.toLowerCase()];
        return Array.isArray(v) ? v[0] : v;
      };
      const entry: StockRequest = {
        action: header('X-Device-Action') ?? '', reportType: header('X-Device-Reporttype') ?? '', uuid: header('X-Device-UUID'),
        headers: req.headers, body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(entry);
      if (entry.uuid === undefined) return text(400, 'Device UUID not set in request');
      if (entry.action === 'Poll') return text(200, encoded(state.answer, state.encoding));
      if (entry.action === 'Report') {
        return entry.reportType === 'MachineInventory' ? text(200, '') : text(200, `Unknown X-Device-Reporttype: ${entry.reportType}`);
      }
      return text(200, `Unknown X-Device-Action field: ${entry.action}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  state.answer = fixture('wince-mdm-server-pollresponse.xml').replace('<PollServer>192.168.1.1</PollServer>', `<PollServer>127.0.0.1:${port}</PollServer>`);
  return {
    url: `http://127.0.0.1:${port}/devicemgmt/server.aspx`,
    port,
    requests,
    get pollAnswer() { return state.answer; },
    set pollAnswer(v: string) { state.answer = v; },
    get pollEncoding() { return state.encoding; },
    set pollEncoding(v) { state.encoding = v; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
