// Plain data the engine keeps per managed target and that status views show.
//
// Package states (spec §16 PACKAGE_DL_PENDING / _SUCCESS / _FAIL, refined):
//
//   needs-instructions ──instruction response──► scheduled ──event runs──► installed
//          ▲                                        │  ▲                     │ (recurring: back to scheduled)
//          │                                        ▼  │                     │
//          └────── failed ◄──retry limit── (download/command fails)          │
//   awaiting-acceptance: an optional (Required=No) package waits here until a technician accepts it.
//   A package the server no longer lists is removed: its file deleted, its row dropped, the removal logged.
export type PackageState = 'needs-instructions' | 'awaiting-acceptance' | 'scheduled' | 'installed' | 'failed';

// Task kinds: the poll never expires; one instruction task per needed package; one download event per
// package (recurring or not); one report task per report type the server asked for.
export type TaskKind = 'poll' | 'instruction' | 'download' | 'software-inventory' | 'machine-inventory' | 'file-collection';

// queued: due at next_run once its conditions hold; running: in progress (found at start-up only after a
// crash, and then resumed); done: a finished one-shot task kept for the status view; failed: gave up.
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
  /** Why the task is not running now, in words ("waiting for dock", "offline, retrying in 2 min"). */
  waitingFor: string;
  lastError: string;
  createdAt: number;
  updatedAt: number;
}

// A download event's phases (spec §10.1). `located` = phase 1 done (URL known); `started` = 11030 queued;
// `downloaded` = 11031 queued; `executed` = 11035 (or the failure code) queued.
export type DownloadPhase = 'located' | 'started' | 'downloaded' | 'executed';

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
