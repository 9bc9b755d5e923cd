// Small HTTP helpers shared by the routes: bounded body reading, plain replies, and the base URL that
// package locations are built from.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request body bigger than the route accepts: answered with 413. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** A request the server cannot even route (bad Host, unknown action with no usable body): answered with 400. */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

/** The declared Content-Length, or undefined when chunked or absent. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const text = req.headers['content-length'];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Feed the body to `sink` chunk by chunk (waiting for it, so a slow disk slows the upload), refusing it
 * once it passes `limit`. On refusal the request is left undestroyed and draining, so the caller can
 * still answer 413 on the same connection before it closes.
 */
export function consumeBody(req: IncomingMessage, limit: number, sink: (chunk: Buffer) => void | Promise<void>): Promise<number> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise<number>((resolve, reject) => {
    let total = 0;
    let settled = false;
    let chain: Promise<void> = Promise.resolve();
    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      req.resume(); // discard whatever is still coming
      if (err === undefined) resolve(total);
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        settle(new BodyTooLargeError(limit));
        return;
      }
      const result = sink(chunk);
      if (result instanceof Promise) {
        result.catch(() => undefined); // the rejection is handled through `chain`, not lost
        req.pause();
        chain = chain.then(() => result).then(() => { if (!settled) req.resume(); });
        chain.catch(settle);
      }
    };
    let ended = false;
    const onEnd = (): void => { ended = true; chain.then(() => settle(), settle); };
    const onError = (err: Error): void => settle(err);
    const onClose = (): void => {
      if (!ended) settle(new Error('the client closed the connection before the body was complete'));
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Read the whole body into memory; only for XML documents, whose limit is small. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const total = await consumeBody(req, limit, (chunk) => { chunks.push(chunk); });
  return Buffer.concat(chunks, total);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(text.endsWith('\n') || text === '' ? text : `${text}\n`, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...headers });
  res.end(body);
}

export function sendXml(res: ServerResponse, xml: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': body.length, ...headers });
  res.end(body);
}

/** 200 with no body: the answer to status and report POSTs (spec §2.2, A14). */
export function sendEmpty(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

// A host name, an IPv4 address or a bracketed IPv6 address, with an optional port. Nothing else may
// reach a URL we hand to devices: the Host header is client input.
const HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export function isSaneHost(host: string): boolean {
  if (host.length > 255 || !HOST_PATTERN.test(host)) return false;
  const port = /:(\d+)$/.exec(host)?.[1];
  return port === undefined || Number(port) <= 65535;
}

/**
 * Where devices reach this server: `--public-url` when given (behind a proxy the Host header names the
 * proxy's upstream), otherwise `http://<Host>` from the request itself.
 */
export function baseUrlFor(req: IncomingMessage, publicUrl: string | undefined): string {
  if (publicUrl !== undefined) return publicUrl.replace(/\/+$/, '');
  const host = req.headers.host;
  if (host === undefined || host === '') throw new BadRequestError('the request has no Host header; cannot build a package URL');
  if (!isSaneHost(host)) throw new BadRequestError('the Host header is not a valid host name');
  return `http://${host}`;
}
