// One HTTP POST to the management server (spec §2.2): every message goes to the same URL with the
// standard X-Device-* headers; the server answers with a document or an empty 200.
//
// Bounds (README "Bounds"): the connection may be idle for at most `timeoutMs` (60 s), and the whole exchange —
// connecting, sending the body, receiving the answer — must end within a deadline: 2 minutes plus one second
// per 16 KiB sent (a 64 MiB collected file gets about 70 minutes). A server that trickles one byte every
// 20 s never trips the idle timer; the deadline ends it. The answer may be at most 4 MiB.
//
// Errors are sorted the way the scheduler needs them (failures.ts): NETWORK (the server cannot be reached
// or the connection dropped — the station is offline and waits, spending no retries), TLS (reached, but its
// certificate is not trusted), HTTP_STATUS (the server answered but refused), PROTOCOL (an answer too
// large to be a DM document) — the last three are failed attempts that spend retries.
import type { IncomingHttpHeaders } from 'node:http';
import http, { lazyHttps } from './node-http.js';
import { DockhandError } from '../../shared/model/errors.js';
import { certificateError, formatSeconds } from './transfer/transfer-errors.js';
import { describeAnswer } from '../../shared/protocol/answer-text.js';
import { documentText } from '../../shared/protocol/document-text.js';

export interface DmResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface PostOptions {
  /** Longest silence on the connection (default 60 s). */
  timeoutMs?: number;
  /** Longest whole exchange (default postDeadlineMs(body size)). */
  deadlineMs?: number;
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT',
  'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE',
]);

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function networkError(url: string, err: unknown): DockhandError {
  const certificate = certificateError(`the server ${hostOf(url)}`, err);
  if (certificate) return certificate;
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  const what = code === DEADLINE ? `did not finish its answer within ${formatSeconds((err as { deadlineMs?: number }).deadlineMs ?? 0)}`
    : code === 'ECONNREFUSED' ? 'refused the connection'
    : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'could not be found (DNS)'
    : code === 'ETIMEDOUT' ? 'did not answer in time'
    : code === 'ECONNRESET' ? 'dropped the connection'
    : `could not be reached (${code || (err as Error)?.message || 'unknown error'})`;
  return new DockhandError('NETWORK', `the server ${hostOf(url)} ${what}; the station keeps its queue and tries again`, {
    transient: true, cause: err, detail: { where: hostOf(url), why: what },
  });
}

const DEADLINE = 'DM_DEADLINE';

/** The whole-exchange deadline of a POST carrying `bytes`: 2 min plus 1 s per 16 KiB. */
export function postDeadlineMs(bytes: number): number {
  return 120_000 + Math.ceil(bytes / 16_384) * 1000;
}

export function isNetworkErrno(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

export function postToServer(url: string, headers: Record<string, string>, body: Uint8Array, contentType: string,
  options: PostOptions = {}): Promise<DmResponse> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadlineMs = options.deadlineMs ?? postDeadlineMs(body.byteLength);
  const max = options.maxResponseBytes ?? 4 * 1024 * 1024;
  let deadline: NodeJS.Timeout | undefined;
  return new Promise<DmResponse>((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new DockhandError('NETWORK', `the server address '${url}' is not a valid URL; fix it with --server`));
      return;
    }
    const lib = target.protocol === 'https:' ? lazyHttps() : target.protocol === 'http:' ? http : null;
    if (!lib) {
      reject(new DockhandError('NETWORK', `the server address '${url}' must start with http:// or https://`));
      return;
    }
    const req = lib.request(target, {
      method: 'POST',
      // A connection per message: a DM client sends a handful of POSTs per poll, and a kept-alive socket
      // to a server that restarted would fail the first message after it with a reset.
      agent: false,
      headers: { ...headers, 'Content-Type': contentType, 'Content-Length': String(body.byteLength) },
      signal: options.signal,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) {
          req.destroy();
          reject(new DockhandError('PROTOCOL', `the server ${hostOf(url)} sent an answer larger than ${max} bytes; ` +
            'it is not a Device Management document'));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const out = Buffer.concat(chunks);
        if (status < 200 || status > 299) {
          // One short clean line, never a raw HTML error page in the log.
          const head = documentText(out.subarray(0, 64 * 1024));
          const text = head.trim() === '' ? '' : describeAnswer(head);
          reject(new DockhandError('HTTP_STATUS', `the server ${hostOf(url)} answered ${status}${text ? `: ${text}` : ''}`, {
            transient: status >= 500 || status === 408 || status === 429, detail: { status },
          }));
          return;
        }
        resolve({ status, headers: res.headers, body: out });
      });
      res.on('error', (err) => reject(networkError(url, err)));
      res.on('aborted', () => reject(networkError(url, Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))));
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    deadline = setTimeout(() => {
      const err = Object.assign(new Error('deadline'), { code: DEADLINE, deadlineMs });
      req.destroy(err);
      reject(networkError(url, err)); // the response may already be streaming: its own events no longer settle this
    }, deadlineMs);
    req.on('error', (err) => {
      if ((err as Error).name === 'AbortError') reject(new DockhandError('CANCELLED', 'stopped', { cause: err }));
      else reject(networkError(url, err));
    });
    req.end(body);
  }).finally(() => clearTimeout(deadline));
}
