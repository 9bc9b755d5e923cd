// Turns what can go wrong during a package download into DockhandErrors a technician can act on: where it
// happened, how far the download got, what is kept on disk and what the next attempt will do.

import { DockhandError } from '../../../shared/model/errors.js';

/** How far a download got when something failed; the words of every message are built from it. */
export interface TransferContext {
  where: string; // host:port of the server being talked to
  bytesDone: number; // bytes of the package safely in the partial file
  total: number | null; // size of the package when known
  label?: string; // the package in words ("the package 'Firmware' (9A43…)"), for messages that must name it
}

/** No byte arrived for `ms` while the download waited for the server. */
export class StallTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no data for ${ms} ms`);
  }
}

/**
 * The server sent more body bytes than it announced (or than the package may have): at least `received`
 * where `limit` was the most allowed; `received` is null when only the HTTP parser noticed extra bytes.
 */
export class BodyOverflow extends Error {
  constructor(readonly limit: number, readonly received: number | null) {
    super('the response body is longer than announced');
  }
}

/** Fewer than `minBytesPerSecond` arrived, averaged over `windowMs` (curl's --speed-limit/--speed-time). */
export class SlowTransfer extends Error {
  constructor(readonly bytes: number, readonly windowMs: number, readonly minBytesPerSecond: number) {
    super(`only ${bytes} bytes in ${windowMs} ms`);
  }
}

/** A package without a declared size grew past the cap for such downloads (`announced`: what the server said, if anything). */
export class SizeCapExceeded extends Error {
  constructor(readonly cap: number, readonly announced: number | null) {
    super(`over the ${cap}-byte cap`);
  }
}

/** The caller's AbortSignal fired. */
export class TransferAborted extends Error {
  constructor() {
    super('aborted');
  }
}

const UNITS = ['KB', 'MB', 'GB', 'TB'];

/** "812 bytes", "3.2 MB", "10 MB" (decimal units, as disk and network tools show them). */
export function formatBytes(n: number): string {
  if (n < 1000) return n === 1 ? '1 byte' : `${n} bytes`;
  let value = n;
  let unit = 'bytes';
  for (const u of UNITS) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  const text = value >= 100 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${unit}`;
}

/** "200 ms", "30 s", "1.5 s" */
export function formatSeconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
}

/** "after 3.2 MB of 10 MB" */
function progress(ctx: TransferContext): string {
  return ctx.total === null ? `after ${formatBytes(ctx.bytesDone)}` : `after ${formatBytes(ctx.bytesDone)} of ${formatBytes(ctx.total)}`;
}

/** What happens to the bytes on disk when the download stops for a reason that keeps them. */
export function keptPhrase(ctx: TransferContext, verb = 'the download will resume from there'): string {
  if (ctx.bytesDone === 0) return 'nothing was downloaded yet, so the next attempt starts from the beginning';
  return `${formatBytes(ctx.bytesDone)} ${ctx.bytesDone === 1 ? 'is' : 'are'} kept and ${verb}`;
}

const CONNECT_WORDS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (is the package server running and listening on that port?)',
  ENOTFOUND: 'the server name could not be resolved (check the name in the package location and the DNS settings)',
  EAI_AGAIN: 'the server name could not be resolved right now (DNS did not answer)',
  EHOSTUNREACH: 'the host cannot be reached from this network',
  ENETUNREACH: 'the network is unreachable (is the station connected?)',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the server closed the connection',
  EPIPE: 'the server closed the connection',
};

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const CERTIFICATE_WORDS: Array<[RegExp, string]> = [
  [/SELF_SIGNED/, 'self-signed'],
  [/CERT_HAS_EXPIRED/, 'expired'],
  [/CERT_NOT_YET_VALID/, 'not valid yet'],
  [/ALTNAME|HOSTNAME|HOST_MISMATCH/, 'issued for another host'],
  [/CERT_REVOKED/, 'revoked'],
  [/UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|CERT_UNTRUSTED|CERT_CHAIN/, 'issued by an authority this station does not trust'],
];

/**
 * Why a server's certificate was refused, in a technician's words ("self-signed", "expired", "issued for
 * another host"), or null when `err` is not a certificate problem. A certificate problem is not an outage:
 * the server was reached, and waiting will not fix it (issue 7 item 6).
 */
export function certificateProblem(err: unknown): string | null {
  const code = errnoCode(err);
  if (code === undefined || !/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|ERR_TLS|ERR_SSL/.test(code)) return null;
  return CERTIFICATE_WORDS.find(([pattern]) => pattern.test(code))?.[1] ?? 'refused';
}

/** "the server's certificate is not trusted (self-signed): …" — the one sentence for every certificate problem. */
export function certificateError(where: string, err: unknown, detail: Record<string, unknown> = {}): DockhandError | null {
  const why = certificateProblem(err);
  if (why === null) return null;
  return new DockhandError('TLS',
    `the server's certificate is not trusted (${why}): the secure connection to ${where} was refused (${errnoCode(err)}); ` +
    'install the server\'s certificate authority on the station, or fix the certificate on the server',
    { cause: err, detail: { ...detail, where, certificate: why } });
}

/**
 * Maps anything thrown while talking to the server into a DockhandError. `bodyStarted` says whether the
 * response had begun, which decides between "could not reach" and "dropped after".
 */
export function toTransferError(err: unknown, ctx: TransferContext, bodyStarted: boolean): DockhandError {
  if (err instanceof DockhandError) return err;
  const detail = { where: ctx.where, bytesDone: ctx.bytesDone, total: ctx.total };
  if (err instanceof TransferAborted) {
    return new DockhandError('CANCELLED', `the download from ${ctx.where} was paused ${progress(ctx)}; ${keptPhrase(ctx, 'it will resume from there')}`, { detail });
  }
  if (err instanceof StallTimeout) {
    return new DockhandError('NETWORK',
      `the server at ${ctx.where} sent no data for ${formatSeconds(err.ms)} ${bodyStarted ? progress(ctx) : 'before answering'}; ${keptPhrase(ctx)}`,
      { transient: true, cause: err, detail: { ...detail, why: `sent no data for ${formatSeconds(err.ms)}` } });
  }
  if (err instanceof SlowTransfer) {
    return new DockhandError('NETWORK',
      `the server at ${ctx.where} sent only ${formatBytes(err.bytes)} in ${formatSeconds(err.windowMs)} ${progress(ctx)}, below the ${formatBytes(err.minBytesPerSecond)}/s ` +
        `the station waits for; ${keptPhrase(ctx)}`,
      { transient: true, cause: err, detail: { ...detail, bytesInWindow: err.bytes, windowMs: err.windowMs } });
  }
  if (err instanceof SizeCapExceeded) {
    const size = err.announced === null ? `sent more than ${formatBytes(err.cap)}` : `announces ${formatBytes(err.announced)}`;
    return new DockhandError('SIZE_MISMATCH',
      `${ctx.label ?? 'the package'} from ${ctx.where} has no declared size (PackageSize) and ${size}, over the ${formatBytes(err.cap)} cap for ` +
        'such downloads (maxUndeclaredDownloadBytes in station.json); the partial file was discarded',
      { detail: { ...detail, cap: err.cap, announced: err.announced } });
  }
  if (err instanceof BodyOverflow) {
    const sent = err.received === null ? 'more bytes' : `at least ${err.received} bytes`;
    const allowed = Number.isFinite(err.limit) ? `only ${err.limit} bytes were announced` : 'its response had ended';
    return new DockhandError('SIZE_MISMATCH',
      `the server at ${ctx.where} sent ${sent} where ${allowed}; the download stopped there, the partial file was discarded and the next attempt starts from the beginning`,
      { transient: true, detail: { ...detail, limit: err.limit, received: err.received } });
  }
  const code = errnoCode(err);
  const certificate = certificateError(ctx.where, err, detail);
  if (certificate) return certificate;
  if (code?.startsWith('HPE_')) {
    // The server answered, but not in HTTP: a malformed answer spends a retry, it is not an outage.
    return new DockhandError('PROTOCOL',
      `the server at ${ctx.where} sent a malformed HTTP response (${code}) ${progress(ctx)}; ${keptPhrase(ctx)}`,
      { transient: true, cause: err, detail });
  }
  if (bodyStarted) {
    return new DockhandError('NETWORK', `the connection to ${ctx.where} dropped ${progress(ctx)}; ${keptPhrase(ctx)}`,
      { transient: true, cause: err, detail: { ...detail, why: `the connection dropped ${progress(ctx)}` } });
  }
  const why = (code && CONNECT_WORDS[code]) ?? `the request failed (${err instanceof Error ? err.message : String(err)})`;
  return new DockhandError('NETWORK', `could not download from ${ctx.where}: ${why}; ${keptPhrase(ctx)}`,
    { transient: true, cause: err, detail: { ...detail, why } });
}

/** A non-2xx answer: 5xx, 408 and 429 may pass, every other 4xx needs someone to fix the server or URL. */
export function httpStatusError(status: number, url: string, ctx: TransferContext, retryAfter: string | undefined): DockhandError {
  const transient = status >= 500 || status === 408 || status === 429;
  const hint = status === 404 || status === 410
    ? 'the package is not on the server at that address'
    : status === 401 || status === 403
      ? 'the server refused this station access to the package'
      : transient
        ? 'the server is busy or failing; it will be tried again'
        : 'the server rejected the request';
  const later = transient ? `; ${keptPhrase(ctx)}` : '';
  return new DockhandError('HTTP_STATUS', `the server answered HTTP ${status} for ${url}: ${hint}${later}`,
    { transient, detail: { status, url, retryAfter, bytesDone: ctx.bytesDone } });
}

const STORAGE_WORDS: Record<string, (path: string) => string> = {
  ENOSPC: (p) => `the disk is full at ${p}`,
  EDQUOT: (p) => `the disk quota is used up at ${p}`,
  EACCES: (p) => `the station may not write ${p} (permission denied)`,
  EPERM: (p) => `the station may not write ${p} (operation not permitted)`,
  EROFS: (p) => `${p} is on a read-only disk`,
  EISDIR: (p) => `${p} is a folder, not a file`,
  ENOTDIR: (p) => `a part of the path ${p} is a file, not a folder`,
  EIO: (p) => `the disk reported an input/output error at ${p}`,
};

/** A disk error while reading or writing the partial file. A full disk is transient: room may be made. */
export function storageError(err: unknown, path: string, ctx?: TransferContext): DockhandError {
  if (err instanceof DockhandError) return err;
  const code = errnoCode(err);
  const words = (code && STORAGE_WORDS[code]?.(path)) ??
    `the partial file ${path} could not be written (${err instanceof Error ? err.message : String(err)})`;
  const kept = ctx ? `; ${keptPhrase(ctx, 'the download will resume from there once the disk is fixed')}` : '';
  return new DockhandError('STORAGE', `${words}${kept}`, { cause: err, transient: code === 'ENOSPC' || code === 'EDQUOT', detail: { path, errno: code } });
}

/** Not enough free space for what the download still needs (checked before and while it runs). */
export function diskFullError(dir: string, need: number, free: number, ctx: TransferContext): DockhandError {
  return new DockhandError('STORAGE',
    `disk full in ${dir}: ${ctx.label ?? 'the download'} needs ${formatBytes(need)} more, ${formatBytes(free)} free; ` +
      `${keptPhrase(ctx, 'the download resumes from there once there is room')}`,
    { transient: true, detail: { dir, need, free, bytesDone: ctx.bytesDone } });
}
