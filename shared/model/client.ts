// Plain data the engine keeps per managed target and that status views show.
//
// Package states (spec §16 PACKAGE_DL_PENDING / _SUCCESS / _FAIL, refined). Every move between them is a
// row of PACKAGE_TRANSITIONS in electron/engine/transitions.ts; read that table for the whole picture.
//   needs-instructions → scheduled (required or accepted) | awaiting-acceptance (optional) → installed;
//   failed when the instructions or the download gave up (asked for again at the next poll, spec A11).
import type { TaskWait } from './wait.js';

export type PackageState = 'needs-instructions' | 'awaiting-acceptance' | 'scheduled' | 'installed' | 'failed';

// Task kinds: the poll never expires; one instruction task per needed package; one download event per
// package (recurring or not); one report task per report type the server asked for.
export type TaskKind = 'poll' | 'instruction' | 'download' | 'software-inventory' | 'machine-inventory' | 'file-collection';

// queued: due at next_run once its conditions hold; running: in progress (found at start-up only after a
// crash, and then resumed); done: a finished one-shot task kept for the status view; failed: gave up.
// Every move between them is a row of TASK_TRANSITIONS in electron/engine/transitions.ts.
export type TaskState = 'queued' | 'running' | 'done' | 'failed';

export interface PackageRecord {
  id: string;
  state: PackageState;
  name: string | null;
  shortDescription: string | null;
  longDescription: string | null;
  required: boolean | null;
  accepted: boolean;
  packageSize: number | null;
  flags: number | null;
  startAt: number | null;
  recurrenceMs: number | null;
  behavior: 'Download and Execute' | 'Execute Only' | null;
  localDestination: string | null;
  commandLine: string | null;
  sourceFiles: boolean;
  sha256: string | null;
  fileName: string | null;
  savedPath: string | null;
  downloaded: boolean;
  runs: number;
  lastResult: string | null;
  /** '' when the server gave its instructions; else the field-kit profile (device ID) whose kept answer did. */
  instructionsFrom: string;
  createdAt: number;
  updatedAt: number;
}

export interface TaskRecord {
  id: number;
  kind: TaskKind;
  packageId: string;
  state: TaskState;
  nextRun: number;
  attempts: number;
  /** Where a download event stands, so a restart neither repeats nor skips a status message. */
  phase: DownloadPhase | '';
  /** Why the task is not running now, as data; `describeWait` (shared/model/wait.ts) words it. */
  wait: TaskWait;
  lastError: string;
  createdAt: number;
  updatedAt: number;
}

// A download event's phases (spec §10.1), as far as its status messages go: `started` = 11030 queued;
// `downloaded` = 11031 queued; `executed` = the closing message (11035, 20035 or 11032) queued. The
// location is asked for again on every attempt, so it is not a phase that is kept.
export type DownloadPhase = 'started' | 'downloaded' | 'executed';

/** Where a download event stopped: its four phases, with the verification and the push to a device apart. */
export type EventPhase = 'location' | 'download' | 'verify' | 'install' | 'push' | 'command';

/**
 * How one run of a download event ended. `failed` is final for that event (11032 or 20035 was queued);
 * `interrupted` means it stopped and goes on later: undocked, paused, the station stopped or crashed, the
 * server could not be reached, or an attempt failed and a retry is left (the reason says which).
 */
export type EventOutcome = 'success' | 'failed' | 'interrupted';

/**
 * One run of a download event on one target (table `download_history`): the provisioning record and the
 * bench board read these. A run starts when the event starts working on the package and ends when the
 * event ends or stops; a resumed event is a new run.
 */
export interface DownloadRunRecord {
  id: number;
  packageId: string;
  name: string | null;
  /** The package's SHA-256: the one the server published, or the one verified when the bytes arrived. */
  sha256: string | null;
  startedAt: number;
  /** null while the run goes on. */
  endedAt: number | null;
  /** null while the run goes on. */
  outcome: EventOutcome | null;
  /** For `failed` and `interrupted`: the phase it stopped in (null when unknown, e.g. after a crash). */
  failedPhase: EventPhase | null;
  /** The post-install command's exit code, when it ran. */
  exitCode: number | null;
  /** Why it failed or stopped, in a technician's words; '' for a success. */
  reason: string;
}
export interface CheckpointRecord {
  packageId: string;
  url: string;
  validator: string | null;
  bytesDone: number;
  expectedSize: number | null;
  partPath: string;
  updatedAt: number;
}

export type OutboxState = 'queued' | 'sent' | 'rejected';

export interface OutboxRecord {
  seq: number;
  action: 'Status' | 'Report';
  reportType: 'SoftwareInventory' | 'MachineInventory' | 'FileCollection' | null;
  fileName: string | null;
  contentType: string;
  body: Uint8Array;
  summary: string;
  state: OutboxState;
  attempts: number;
  lastError: string;
  createdAt: number;
  sentAt: number | null;
}

export interface LogRecord {
  seq: number;
  at: number;
  level: 'info' | 'warn' | 'error';
  packageId: string;
  message: string;
}
