// Long parsing and building work, cut into slices. A station serves many targets on one event loop, so no
// single document may hold it for long: the parse and build functions are written as steppers that do a
// slice of work and say whether they are done. The sync drivers run a stepper to the end (small documents,
// tests, the CLI); the async drivers give the event loop back between slices, so a maximum-size report costs
// other targets at most one slice of latency at a time.

/** How long one slice may run before an async driver yields (well under the station's 100 ms bound). */
export const SLICE_MS = 15;

/** Does some work, stopping soon after `deadline` (a performance.now() time); returns true when all is done. */
export type Stepper = (deadline: number) => boolean;

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

export function runToEnd(step: Stepper): void {
  while (!step(Number.POSITIVE_INFINITY));
}

export async function runInSlices(step: Stepper, sliceMs = SLICE_MS): Promise<void> {
  while (!step(performance.now() + sliceMs)) await yieldToEventLoop();
}

/**
 * A counter for loops that check the clock only every `every` iterations (performance.now() is cheap but
 * not free). `due(deadline)` is true when the slice is over.
 */
export class SliceClock {
  private count = 0;
  constructor(private readonly every = 64) {}

  due(deadline: number): boolean {
    if (deadline === Number.POSITIVE_INFINITY) return false;
    this.count += 1;
    if (this.count < this.every) return false;
    this.count = 0;
    return performance.now() >= deadline;
  }
}
