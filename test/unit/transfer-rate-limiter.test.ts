// The station's token bucket, driven by a hand-advanced clock: no test here waits on real time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, type LimiterClock } from '../../electron/engine/transfer/rate-limiter.js';
import { DockhandError } from '../../shared/model/errors.js';

const KiB = 1024;

/** A clock that only moves when the test says so; sleepers wake in deadline order. */
class FakeClock implements LimiterClock {
  t = 0;
  sleepers: { at: number; resolve: () => void }[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const entry = { at: this.t + ms, resolve };
      this.sleepers.push(entry);
      signal?.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter((s) => s !== entry);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Moves time forward to `this.t + ms`, waking every sleeper due on the way at its own deadline. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers[0];
      if (!next || next.at > end) break;
      this.sleepers.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** Lets every promise callback that is ready run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Records the fake time at which each take() resolved. */
function track(clock: FakeClock, p: Promise<void>): { at: number | null; error: unknown } {
  const rec: { at: number | null; error: unknown } = { at: null, error: null };
  p.then(() => (rec.at = clock.now()), (err: unknown) => (rec.error = err));
  return rec;
}

test('a rate of 0 means unlimited: every take resolves at once', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(0, clock);
  const recs = [track(clock, limiter.take(10 * 1024 * KiB)), track(clock, limiter.take(1))];
  await settle();
  assert.deepEqual(recs.map((r) => r.at), [0, 0]);
  assert.equal(limiter.rate, 0);
});

test('the bucket starts full with a quarter second of the rate and then refills at the rate', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(400 * KiB, clock); // burst = 100 KiB
  const first = track(clock, limiter.take(100 * KiB));
  const second = track(clock, limiter.take(40 * KiB));
  await settle();
  assert.equal(first.at, 0, 'a full bucket lets the burst through at once');
  assert.equal(second.at, null, 'the bucket is empty now');
  await clock.advance(99);
  assert.equal(second.at, null, '40 KiB at 400 KiB/s needs 100 ms');
  await clock.advance(1);
  assert.equal(second.at, 100);
});

test('the burst is never smaller than 16 KiB, even at a very low rate', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(1 * KiB, clock); // a quarter second would be 256 bytes
  const burst = track(clock, limiter.take(16 * KiB));
  const next = track(clock, limiter.take(1 * KiB));
  await settle();
  assert.equal(burst.at, 0);
  await clock.advance(999);
  assert.equal(next.at, null);
  await clock.advance(1);
  assert.equal(next.at, 1000);
});

test('an idle limiter does not save up more than one burst', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(64 * KiB, clock); // burst = 16 KiB
  await clock.advance(60_000); // a minute idle
  const a = track(clock, limiter.take(16 * KiB));
  const b = track(clock, limiter.take(16 * KiB));
  await settle();
  assert.equal(a.at, 60_000);
  assert.equal(b.at, null, 'a long idle time must not allow a second burst');
  await clock.advance(250);
  assert.equal(b.at, 60_250);
});

test('callers are served first come, first served, so one transfer cannot starve another', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(64 * KiB, clock);
  await limiter.take(16 * KiB); // empty the bucket
  const order: string[] = [];
  const loop = async (name: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await limiter.take(8 * KiB);
      order.push(name);
    }
  };
  const a = loop('A', 4);
  const b = loop('B', 4);
  await clock.advance(2000);
  await Promise.all([a, b]);
  assert.deepEqual(order, ['A', 'B', 'A', 'B', 'A', 'B', 'A', 'B']);
  assert.ok(clock.now() >= 500, '64 KiB at 64 KiB/s after an empty bucket needs at least 0.5 s of fake time');
});

test('a small request does not overtake a large one that is already waiting', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(16 * KiB, clock);
  await limiter.take(16 * KiB);
  const large = track(clock, limiter.take(16 * KiB)); // served at 1000 ms
  await clock.advance(500); // 8 KiB in the bucket: enough for the small one, not for the large one
  const small = track(clock, limiter.take(1 * KiB));
  await clock.advance(499);
  assert.equal(small.at, null, 'the small request waits its turn');
  await clock.advance(600);
  assert.equal(large.at, 1000);
  assert.ok(small.at !== null && small.at > 1000, `small served at ${small.at}`);
});

test('over a long run the bytes let through match the rate (large requests leave the bucket in debt)', async () => {
  const clock = new FakeClock();
  const rate = 100 * KiB;
  const limiter = new RateLimiter(rate, clock); // burst = 25 KiB
  let passed = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await limiter.take(64 * KiB); // bigger than the bucket
      passed += 64 * KiB;
    }
  })();
  await clock.advance(10_000);
  stop = true;
  // After 10 s: one burst plus 10 s of rate, give or take the one request that is in flight.
  assert.ok(passed <= 25 * KiB + 10 * rate + 64 * KiB, `passed ${passed}`);
  assert.ok(passed >= 10 * rate - 64 * KiB, `passed ${passed}`);
  await clock.advance(1000);
  await loop;
});

test('setRate applies to callers already waiting, and 0 releases them all', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(16 * KiB, clock);
  await limiter.take(16 * KiB);
  const slow = track(clock, limiter.take(16 * KiB)); // would need 1 s at 16 KiB/s
  const queued = track(clock, limiter.take(16 * KiB));
  await clock.advance(100);
  assert.equal(slow.at, null);
  limiter.setRate(1024 * KiB); // 16 KiB now takes ~16 ms
  assert.equal(limiter.rate, 1024 * KiB);
  await clock.advance(20);
  assert.equal(slow.at !== null && slow.at < 1000, true, `resolved at ${slow.at}`);
  limiter.setRate(1); // almost nothing: the queued caller would wait for hours
  await clock.advance(1000);
  assert.equal(queued.at, null);
  limiter.setRate(0);
  await settle();
  assert.equal(queued.at, clock.now(), 'unlimited releases the waiting caller at once');
});

test('an aborted caller leaves the queue with CANCELLED and the next caller moves up', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(16 * KiB, clock);
  await limiter.take(16 * KiB);
  const ac = new AbortController();
  const first = track(clock, limiter.take(16 * KiB, ac.signal)); // needs 1 s
  const second = track(clock, limiter.take(1 * KiB)); // behind it in line
  await clock.advance(10);
  ac.abort();
  await settle();
  assert.ok(first.error instanceof DockhandError && first.error.code === 'CANCELLED');
  await clock.advance(1000);
  // 1 KiB at 16 KiB/s is 62.5 ms from an empty bucket: it must not wait out the aborted caller's second.
  assert.equal(second.at, 62.5, 'the second caller takes the first one\'s place in line at once');
  await assert.rejects(limiter.take(1, ac.signal), (err: unknown) => err instanceof DockhandError && err.code === 'CANCELLED');
});

test('bad rates and byte counts are refused with a message saying what is allowed', async () => {
  assert.throws(() => new RateLimiter(-1), /0 or more \(0 = unlimited\)/);
  assert.throws(() => new RateLimiter(Number.NaN), /bytes per second/);
  const limiter = new RateLimiter(1000, new FakeClock());
  assert.throws(() => limiter.setRate(Infinity), /bytes per second/);
  await assert.rejects(limiter.take(-5), /byte count/);
  await limiter.take(0); // nothing to send: nothing to wait for
});
