// What every route needs: the open database, the data folder, how to build public URLs, the limits.
import type { Db } from './db.js';
import type { WriteBatch } from './write-batch.js';
import type { PollAnswers } from './poll-answers.js';

export interface Limits {
  /** Poll, instruction, location and status documents. */
  documentBytes: number;
  /** Software and machine inventory reports. */
  reportBytes: number;
  /** One file collection upload (raw bytes, streamed to disk). */
  collectedFileBytes: number;
}

export interface ServerContext {
  db: Db;
  /** Where request handlers put what they record: committed in groups, before the answer (write-batch.ts). */
  writes: WriteBatch;
  /** Each device's poll answer, rebuilt when an administrator changed something (poll-answers.ts). */
  pollAnswers: PollAnswers;
  dataDir: string;
  /** Base for package URLs when the server sits behind a proxy; otherwise the request's Host is used. */
  publicUrl?: string;
  limits: Limits;
  log: (line: string) => void;
  now: () => Date;
}

/** File collection default cap: large enough for logs and databases, small enough to protect the disk. */
export const DEFAULT_COLLECTED_FILE_BYTES = 256 * 1024 * 1024;
