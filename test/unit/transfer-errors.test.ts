// The words of transfer failures: what a technician reads in the status column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certificateProblem, formatBytes, formatSeconds, storageError, toTransferError, StallTimeout, TransferAborted } from '../../electron/engine/transfer/transfer-errors.js';
import { chooseResumePoint } from '../../electron/engine/transfer/resume-point.js';
import { parseContentRange } from '../../electron/engine/transfer/http-exchange.js';

const errno = (code: string): Error => Object.assign(new Error(code), { code });
const ctx = { where: 'pkg.example:8080', bytesDone: 3_200_000, total: 10_000_000 };

test('byte counts and durations read the way disk and network tools show them', () => {
  assert.deepEqual([0, 1, 999, 1000, 6000, 204_800, 3_200_000, 10_000_000, 2_500_000_000].map(formatBytes),
    ['0 bytes', '1 byte', '999 bytes', '1 KB', '6 KB', '205 KB', '3.2 MB', '10 MB', '2.5 GB']);
  assert.deepEqual([150, 1000, 1500, 30_000].map(formatSeconds), ['150 ms', '1 s', '1.5 s', '30 s']);
});

test('a dropped connection says how much is kept and that the download resumes', () => {
  const e = toTransferError(errno('ECONNRESET'), ctx, true);
  assert.equal(e.code, 'NETWORK');
  assert.equal(e.transient, true);
  assert.equal(e.message, 'the connection to pkg.example:8080 dropped after 3.2 MB of 10 MB; 3.2 MB are kept and the download will resume from there');
});

test('DNS, refused and unreachable are transient NETWORK errors with a hint', () => {
  const none = { ...ctx, bytesDone: 0 };
  for (const [code, words] of [['ENOTFOUND', /could not be resolved/], ['EAI_AGAIN', /DNS did not answer/], ['ECONNREFUSED', /refused/], ['ENETUNREACH', /is the station connected/]] as const) {
    const e = toTransferError(errno(code), none, false);
    assert.equal(e.code, 'NETWORK', code);
    assert.equal(e.transient, true, code);
    assert.match(e.message, words);
    assert.match(e.message, /^could not download from pkg\.example:8080: .*nothing was downloaded yet/);
  }
});

test('stall, pause and untrusted certificates', () => {
  assert.match(toTransferError(new StallTimeout(30_000), ctx, true).message, /sent no data for 30 s after 3\.2 MB of 10 MB/);
  const paused = toTransferError(new TransferAborted(), ctx, true);
  assert.equal(paused.code, 'CANCELLED');
  assert.equal(paused.transient, false);
  const tls = toTransferError(errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), ctx, false);
  assert.equal(tls.code, 'TLS', 'a certificate problem is not an outage');
  assert.equal(tls.transient, false);
  assert.match(tls.message, /^the server's certificate is not trusted \(issued by an authority this station does not trust\)/);
});

test('each certificate problem is named in a technician\'s words', () => {
  const words: Array<[string, string]> = [
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed'], ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed'], ['CERT_HAS_EXPIRED', 'expired'],
    ['CERT_NOT_YET_VALID', 'not valid yet'], ['ERR_TLS_CERT_ALTNAME_INVALID', 'issued for another host'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'issued by an authority this station does not trust'], ['CERT_REVOKED', 'revoked'],
  ];
  for (const [code, why] of words) {
    assert.equal(certificateProblem(errno(code)), why, code);
    assert.match(toTransferError(errno(code), ctx, false).message, new RegExp(`^the server's certificate is not trusted \\(${why}\\): `), code);
  }
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND']) assert.equal(certificateProblem(errno(code)), null, code);
  assert.equal(toTransferError(errno('HPE_INVALID_CONSTANT'), ctx, true).code, 'PROTOCOL', 'a malformed answer is not an outage');
});

test('disk errors name the path and what to do', () => {
  const full = storageError(errno('ENOSPC'), '/var/cache/dockhand/p.part', ctx);
  assert.equal(full.code, 'STORAGE');
  assert.equal(full.transient, true, 'a full disk may get room: the download is tried again later (issue 7)');
  assert.equal(full.message, 'the disk is full at /var/cache/dockhand/p.part; 3.2 MB are kept and the download will resume from there once the disk is fixed');
  assert.match(storageError(errno('EROFS'), '/ro/p').message, /read-only disk/);
  assert.equal(storageError(errno('EROFS'), '/ro/p').transient, false);
  assert.match(storageError(errno('EACCES'), '/x/p').message, /permission denied/);
});

test('the resume point: the file length wins; a new URL, a missing checkpoint or a size change start over', () => {
  const cp = { url: 'http://h/p.cab', validator: '"e1"', bytesDone: 10, expectedSize: 1000 };
  assert.deepEqual(chooseResumePoint(cp, 'http://h/p.cab', 400, 1000), { offset: 400, validator: '"e1"', discard: false, reason: null });
  assert.deepEqual(chooseResumePoint(cp, 'http://H/p.cab', 400, null).offset, 400, 'the same URL spelled differently');
  assert.match(chooseResumePoint(cp, 'http://other/p.cab', 400, 1000).reason ?? '', /location changed/);
  assert.match(chooseResumePoint(null, 'http://h/p.cab', 400, 1000).reason ?? '', /no checkpoint/);
  assert.match(chooseResumePoint(cp, 'http://h/p.cab', 400, 2000).reason ?? '', /size changed/);
  assert.match(chooseResumePoint(cp, 'http://h/p.cab', 1001, 1000).reason ?? '', /longer than the package/);
  assert.deepEqual(chooseResumePoint(null, 'http://h/p.cab', 0, 1000), { offset: 0, validator: null, discard: false, reason: null });
});

test('Content-Range is parsed strictly', () => {
  assert.deepEqual(parseContentRange('bytes 100-199/200'), { start: 100, end: 199, total: 200 });
  assert.deepEqual(parseContentRange('bytes */5000'), { start: null, end: null, total: 5000 });
  assert.deepEqual(parseContentRange('bytes 0-9/*'), { start: 0, end: 9, total: null });
  for (const bad of ['bytes 9-0/10', 'items 0-9/10', 'bytes=0-9/10', '', undefined]) assert.equal(parseContentRange(bad), null, String(bad));
});
