// A session keeps its rhythm while a long download runs (issue 7 item 5): the real station loop on the real
// clock, the real reference server, a download slowed by the station's rate limit. The server's received log
// is the witness: 11030 arrives while the bytes are still on their way, and the poll goes on at its interval
// during the transfer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { harness } from '../helpers/station-harness.js';
import { waitFor } from '../helpers/tmp.js';
import { systemClock } from '../../electron/engine/clock.js';

const SIZE = 3 * 1024 * 1024;
const RATE = 512 * 1024; // about six seconds for the package

test('while a slow download runs, 11030 reaches the server at its start and the poll goes on at its interval', async (t) => {
  const h = await harness(t);
  const id = await h.addPackage('Slow image', randomBytes(SIZE), { file: 'slow.img', localDestination: '\\Images' });
  h.settings({ pollIntervalMs: 1000 });
  const station = await h.openStation({ clock: systemClock, rateLimit: RATE });
  const stop = new AbortController();
  const running = station.run(stop.signal);
  try {
    await watch(h, id);
  } finally {
    stop.abort();
    await running;
  }
  assert.deepEqual(h.statuses().filter((s) => s.packageID === id).map((s) => s.messageID), [11030, 11031, 11035]);
});

async function watch(h: Awaited<ReturnType<typeof harness>>, id: string): Promise<void> {
  const ended = () => h.events.some((e) => e.type === 'transfer-end' && e.leg === 'download' && e.packageId === id);
  await waitFor('11030 at the server', () => h.statuses().some((s) => s.packageID === id && s.messageID === 11030), 30_000, 10);
  assert.equal(ended(), false, '11030 reached the server while the download was still under way');
  const bytesThen = h.events.filter((e) => e.type === 'progress' && e.packageId === id).at(-1);
  assert.ok(!bytesThen || (bytesThen.type === 'progress' && bytesThen.bytesDone < SIZE), 'not all bytes had arrived');

  // Flushed as soon as it was queued, before the first byte was asked for.
  const sent = (e: (typeof h.events)[number]) => e.type === 'log' && e.message === `sent status 11030 for ${id}`;
  await waitFor('the station to note 11030 as sent', () => h.events.some(sent), 10_000, 5);
  const sentAt = h.events.findIndex(sent);
  const firstByte = h.events.findIndex((e) => e.type === 'progress' && e.packageId === id);
  assert.ok(sentAt >= 0 && (firstByte === -1 || sentAt < firstByte), '11030 was delivered before the transfer started');

  await waitFor('the download to end', ended, 60_000, 20);
  await waitFor('11035 at the server', () => h.statuses().some((s) => s.packageID === id && s.messageID === 11035), 30_000, 10);
  const log = h.log();
  const started = log.findIndex((e) => e.kind === 'status' && e.messageID === 11030);
  const transferred = log.findIndex((e) => e.kind === 'status' && e.messageID === 11031);
  const pollsDuring = log.slice(started, transferred).filter((e) => e.kind === 'poll').length;
  // Six seconds of transfer at a one-second interval: several polls; without the lanes there were none.
  assert.ok(pollsDuring >= 2, `the poll went on during the download (${pollsDuring} polls between 11030 and 11031)`);
}
