// Cuts the received byte stream into frames at each 0x00 delimiter. Whatever lies between two delimiters
// and is not a valid frame (noise, half a frame from before the cable was plugged in, a frame whose CRC
// fails) is counted and dropped; the reader is in step again at the next delimiter, and the reliable
// channel resends what was lost. A run longer than any frame can be is not even buffered: the reader skips
// to the next delimiter, so a peer streaming bytes without delimiters costs no memory.
//
// Delimiters are found with indexOf; a block that arrives whole in one chunk is decoded where it lies, and
// only a block split across chunks is gathered in the reader's buffer.
import { cobsDecode } from './cobs.js';
import { MAX_ENCODED_FRAME, parseFrame, type Frame, type FrameProblem } from './frame.js';

export type ReadProblem = FrameProblem | 'cobs' | 'overlong';

export interface FrameReaderStats {
  frames: number;
  /** Blocks dropped as damaged: CRC failures, invalid COBS, too short, too long. */
  damaged: number;
  /** Bytes thrown away with them. */
  droppedBytes: number;
}

export class FrameReader {
  private readonly buffer = new Uint8Array(MAX_ENCODED_FRAME);
  private used = 0;
  private overlong = false;
  readonly stats: FrameReaderStats = { frames: 0, damaged: 0, droppedBytes: 0 };

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    /** Called for every dropped block; problems other than damage mean the peer broke the rules. */
    private readonly onProblem: (problem: ReadProblem, detail: string) => void = () => undefined,
  ) {}

  push(bytes: Uint8Array): void {
    let pos = 0;
    while (pos < bytes.length) {
      const zero = bytes.indexOf(0, pos);
      if (zero === -1) return this.gather(bytes.subarray(pos));
      if (this.used === 0 && !this.overlong) {
        // The whole block is in this chunk (or it is empty: back-to-back delimiters are allowed).
        if (zero > pos) this.block(bytes.subarray(pos, zero));
      } else {
        this.gather(bytes.subarray(pos, zero));
        this.endGathered();
      }
      pos = zero + 1;
    }
  }

  /** Keeps the start of a block split across chunks; past the longest frame, only counts it. */
  private gather(piece: Uint8Array): void {
    const room = this.buffer.length - this.used;
    if (piece.length > room) {
      this.overlong = true;
      this.stats.droppedBytes += piece.length - room;
    }
    const kept = Math.min(room, piece.length);
    this.buffer.set(piece.subarray(0, kept), this.used);
    this.used += kept;
  }

  private endGathered(): void {
    const length = this.used;
    const overlong = this.overlong;
    this.used = 0;
    this.overlong = false;
    if (overlong) return this.dropOverlong(length);
    if (length > 0) this.block(this.buffer.subarray(0, length));
  }

  private block(encoded: Uint8Array): void {
    if (encoded.length > MAX_ENCODED_FRAME) {
      this.stats.droppedBytes += encoded.length - MAX_ENCODED_FRAME;
      return this.dropOverlong(MAX_ENCODED_FRAME);
    }
    const raw = cobsDecode(encoded);
    if (raw === undefined) return this.drop('cobs', 'not a valid COBS block', encoded.length);
    const frame = parseFrame(raw);
    if ('problem' in frame) return this.drop(frame.problem, frame.detail, encoded.length);
    this.stats.frames++;
    this.onFrame(frame);
  }

  private dropOverlong(kept: number): void {
    this.drop('overlong', `more than ${MAX_ENCODED_FRAME} bytes without a delimiter`, kept);
  }

  private drop(problem: ReadProblem, detail: string, bytes: number): void {
    this.stats.damaged++;
    this.stats.droppedBytes += bytes;
    this.onProblem(problem, detail);
  }
}
