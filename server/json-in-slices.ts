// The JSON of what the server stores, written a slice at a time. A maximum-size software inventory (a 32 MiB
// FileReport, some 110,000 files) is 32 MB of JSON; JSON.stringify makes it in one go, 120–155 ms on this
// project's machines, during which the server answers no other device. Here the value is written as pieces —
// a subtree of fewer than SMALL_VALUES values in one JSON.stringify call, anything larger element by element
// or property by property — and the event loop is given back every SLICE_MS. The text is JSON.stringify's
// for the plain data the protocol readers produce (objects, arrays, strings, numbers, booleans, null).
import { runInSlices, SLICE_MS, SliceClock } from '../shared/protocol/work-slices.js';

/** A subtree with fewer values than this is written by one JSON.stringify call (well under a millisecond). */
const SMALL_VALUES = 2000;

/** True when `v` holds fewer than `limit` values in all; stops counting at the limit. */
function isSmall(v: unknown, limit: number): boolean {
  let budget = limit;
  const walk = (x: unknown): boolean => {
    budget -= 1;
    if (budget < 0) return false;
    if (x === null || typeof x !== 'object') return true;
    for (const child of Array.isArray(x) ? x : Object.values(x)) if (!walk(child)) return false;
    return true;
  };
  return walk(v);
}

/** What JSON.stringify leaves out of an object, and writes as null in an array. */
const omitted = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

function* pieces(v: unknown): Generator<string> {
  if (v === null || typeof v !== 'object' || isSmall(v, SMALL_VALUES) || typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    yield JSON.stringify(v);
    return;
  }
  if (Array.isArray(v)) {
    yield '[';
    for (let i = 0; i < v.length; i += 1) {
      if (i > 0) yield ',';
      const item: unknown = v[i];
      if (omitted(item)) yield 'null';
      else yield* pieces(item);
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const [key, item] of Object.entries(v)) {
    if (omitted(item)) continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* pieces(item);
  }
  yield '}';
}

/** JSON.stringify(value), giving the event loop back every `sliceMs`. */
export async function jsonInSlices(value: unknown, sliceMs = SLICE_MS): Promise<string> {
  // Pieces are joined into chunks as they come, so the join at the end is of a few dozen chunks, not of a
  // hundred thousand pieces (that join alone held the loop for 60–80 ms).
  const chunks: string[] = [];
  const out: string[] = [];
  const next = pieces(value);
  const clock = new SliceClock(16);
  await runInSlices((deadline) => {
    for (let piece = next.next(); !piece.done; piece = next.next()) {
      out.push(piece.value);
      if (out.length === 4096) {
        chunks.push(out.join(''));
        out.length = 0;
      }
      if (clock.due(deadline)) return false;
    }
    return true;
  }, sliceMs);
  chunks.push(out.join(''));
  return chunks.join('');
}
