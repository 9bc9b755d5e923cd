// "did you mean --server?": the nearest known word to a mistyped one (an option, a subcommand), by edit
// distance with adjacent swaps counted as one edit — or the one known word it is the start of.
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known word closest to `word`, when it is close enough to be what was meant; else null. */
export function didYouMean(word: string, known: readonly string[]): string | null {
  const w = word.toLowerCase();
  const starts = known.filter((k) => w.length >= 2 && k.startsWith(w));
  if (starts.length === 1) return starts[0]!;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const distance = editDistance(w, k.toLowerCase());
    if (distance < bestDistance) {
      best = k;
      bestDistance = distance;
    }
  }
  return best !== null && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : null;
}

/** "unknown option --sever; did you mean --server?" (names given without their dashes). */
export function unknownOption(given: string, known: readonly string[]): string {
  const name = given.replace(/^-+/, '').replace(/=.*$/, '');
  const near = didYouMean(name, known);
  return `unknown option --${name}${near ? `; did you mean --${near}?` : ''}`;
}
