// A large parse result, crossing from the worker to the event loop in pieces. Structured clone reads a
// message whole on the receiving thread: a FileReport of 140,000 files is some two million values, and
// reading them in one message would hold the event loop about as long as parsing did. So the worker cuts
// every long array into pieces of PIECE_ITEMS items; the head (the result with its long arrays left empty)
// and each piece are messages of their own, and the receiver reads them a slice at a time.
//
// A hole is where a long array belongs: its path inside the message that holds it (the head, or a piece's
// items) and the number of the array that fills it. Arrays are numbered in the order they are found, and
// pieces go out breadth first, so every hole reaches the receiver before the pieces that fill it.

/** Items per piece: a few milliseconds of structured-clone reading even for FileReport's File objects. */
export const PIECE_ITEMS = 512;

export type Path = Array<string | number>;

export interface Hole {
  path: Path;
  array: number;
}

export interface Piece {
  array: number;
  items: unknown[];
  holes: Hole[];
}

export interface Split {
  head: { value: unknown };
  holes: Hole[];
  pieces: Piece[];
}

/** Cuts `value` (the worker's own result, changed in place) into a head and pieces. */
export function splitResult(value: unknown, pieceItems = PIECE_ITEMS): Split {
  const long: unknown[][] = [];
  const carve = (at: unknown, path: Path, holes: Hole[]): void => {
    if (typeof at !== 'object' || at === null) return;
    const container = at as Record<string | number, unknown>;
    for (const key of Array.isArray(at) ? at.keys() : Object.keys(at)) {
      const child = container[key];
      if (Array.isArray(child) && child.length > pieceItems) {
        holes.push({ path: [...path, key], array: long.length });
        long.push(child);
        container[key] = [];
      } else carve(child, [...path, key], holes);
    }
  };
  const head = { value };
  const holes: Hole[] = [];
  carve(head, [], holes);
  const pieces: Piece[] = [];
  for (let array = 0; array < long.length; array++) {
    const items = long[array] as unknown[];
    for (let from = 0; from < items.length; from += pieceItems) {
      const piece: Piece = { array, items: items.slice(from, from + pieceItems), holes: [] };
      carve(piece.items, [], piece.holes);
      pieces.push(piece);
    }
  }
  return { head, holes, pieces };
}

/** Puts a split result together again, piece by piece, in the order the pieces were made. */
export class ResultAssembler {
  private readonly arrays: unknown[][] = [];
  readonly value: unknown;

  constructor(head: { value: unknown }, holes: Hole[]) {
    this.open(head, holes);
    this.value = head.value;
  }

  add(piece: Piece): void {
    this.open(piece.items, piece.holes);
    const target = this.arrays[piece.array];
    if (target === undefined) throw new Error(`parse worker: a piece of array ${piece.array} came before its place`);
    for (const item of piece.items) target.push(item);
  }

  /** Puts a fresh array at each hole, for the pieces that follow to fill. */
  private open(within: unknown, holes: Hole[]): void {
    for (const { path, array } of holes) {
      let at = within as Record<string | number, unknown>;
      for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
      const filled: unknown[] = [];
      at[path[path.length - 1] as string | number] = filled;
      this.arrays[array] = filled;
    }
  }
}
