// The one station API (architecture §3.2): every query, command and event the UI can use, declared once with
// a runtime schema. Two adapters carry it — Electron IPC (preload → window.station) and the WebSocket web
// console — and both validate every payload against these schemas on the way in.
//
// Model: the UI asks for a snapshot, then listens to a change stream. A change replaces one whole collection
// (devices, tasks, transfers, packages, settings, station) — collections are small, and replacing them keeps
// the UI free of merge logic; transfer progress travels as its own coalesced event (a few per second per
// transfer), and the activity log as appended entries.
import { z } from 'zod';

export const DeviceSchema = z.object({
  id: z.string(),
  name: z.string(),
  port: z.string(),
  state: z.enum(['docked', 'undocked']),
  currentPackage: z.string(),
  lastResult: z.string(),
  lastDockedAt: z.string().nullable(),
  undockReason: z.string(),
});

/** Why a task is not running now, as data (shared/model/wait.ts `TaskWait`; times are epoch milliseconds). */
export const TaskWaitSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('dock'), cradledOnly: z.boolean().optional() }),
  z.object({ kind: z.literal('connection'), flags: z.number() }),
  z.object({ kind: z.literal('schedule'), until: z.number() }),
  z.object({ kind: z.literal('acceptance') }),
  z.object({ kind: z.literal('server'), until: z.number(), detail: z.string().optional() }),
  z.object({ kind: z.literal('technician'), reason: z.enum(['paused', 'stopped']) }),
  z.object({ kind: z.literal('retry'), until: z.number(), attempt: z.number(), of: z.number(), reason: z.string() }),
]);

export const TaskSchema = z.object({
  id: z.string(),
  target: z.string(),
  targetName: z.string(),
  kind: z.enum(['poll', 'instruction', 'download', 'software-inventory', 'machine-inventory', 'file-collection']),
  package: z.string(),
  packageName: z.string().nullable(),
  state: z.enum(['queued', 'running', 'done', 'failed']),
  /** ISO time of the next run. */
  nextRun: z.string(),
  /** What the task waits for, as data: the UI decides on this, never on the words. */
  wait: TaskWaitSchema,
  /** The same in words (`describeWait`): "waiting for dock", "scheduled in 3 days", "the server cannot be reached; retrying in 2 min". */
  waitingFor: z.string(),
  attempts: z.number(),
  lastError: z.string(),
  optional: z.boolean(),
});

export const TransferSchema = z.object({
  id: z.string(),
  target: z.string(),
  package: z.string(),
  packageName: z.string().nullable(),
  /** `download`: server → station cache; `push`: station → a docked device. */
  leg: z.enum(['download', 'push']),
  state: z.enum(['active', 'paused', 'waiting', 'done']),
  bytesDone: z.number(),
  total: z.number().nullable(),
  /** Where the transfer resumes after a cut: the checkpoint. */
  resumePoint: z.number(),
  bytesPerSecond: z.number(),
  etaSeconds: z.number().nullable(),
});

export const PackageSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  fileName: z.string(),
  size: z.number().nullable(),
  sha256: z.string().nullable(),
  complete: z.boolean(),
  users: z.array(z.string()),
});

export const ActivitySchema = z.object({
  seq: z.number(),
  at: z.string(),
  level: z.enum(['info', 'warn', 'error']),
  target: z.string(),
  packageId: z.string(),
  message: z.string(),
  /** For errors: what a technician can do next. */
  nextStep: z.string(),
});

export const SettingsSchema = z.object({
  server: z.string(),
  pollIntervalMs: z.number(),
  rateLimit: z.number().int().nonnegative(),
  allowCommands: z.boolean(),
  serialPorts: z.array(z.string()),
  baudRate: z.number().int().positive(),
  usb: z.array(z.string()),
  concurrency: z.number().int().min(1).max(64),
});

export const StationInfoSchema = z.object({
  id: z.string(),
  version: z.string(),
  demo: z.boolean(),
  online: z.boolean(),
  dataDir: z.string(),
  root: z.string(),
});

export const SnapshotSchema = z.object({
  station: StationInfoSchema,
  devices: z.array(DeviceSchema),
  tasks: z.array(TaskSchema),
  transfers: z.array(TransferSchema),
  packages: z.array(PackageSchema),
  activity: z.array(ActivitySchema),
  settings: SettingsSchema,
});

export const ChangeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('station'), station: StationInfoSchema }),
  z.object({ kind: z.literal('devices'), devices: z.array(DeviceSchema) }),
  z.object({ kind: z.literal('tasks'), tasks: z.array(TaskSchema) }),
  z.object({ kind: z.literal('transfers'), transfers: z.array(TransferSchema) }),
  z.object({ kind: z.literal('packages'), packages: z.array(PackageSchema) }),
  z.object({ kind: z.literal('settings'), settings: SettingsSchema }),
  z.object({ kind: z.literal('activity'), entries: z.array(ActivitySchema) }),
  z.object({ kind: z.literal('progress'), transfer: TransferSchema }),
]);

const target = z.string().min(1).max(200);
const packageId = z.string().min(1).max(200);

export const CommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('acceptPackage'), target, packageId }),
  z.object({ type: z.literal('retryNow'), target, taskId: z.string().min(1).max(500) }),
  z.object({ type: z.literal('cancelTask'), target, taskId: z.string().min(1).max(500) }),
  z.object({ type: z.literal('pauseTransfer'), target, packageId }),
  z.object({ type: z.literal('resumeTransfer'), target, packageId }),
  z.object({ type: z.literal('updateSettings'), settings: SettingsSchema.partial() }),
  z.object({ type: z.literal('addSerialPort'), path: z.string().min(1).max(500) }),
  z.object({ type: z.literal('forgetSerialPort'), path: z.string().min(1).max(500) }),
  z.object({ type: z.literal('forgetDevice'), id: target }),
]);

export const CommandResultSchema = z.object({ ok: z.boolean(), message: z.string() });

export type Device = z.infer<typeof DeviceSchema>;
export type Task = z.infer<typeof TaskSchema>;
export type Transfer = z.infer<typeof TransferSchema>;
export type CachedPackage = z.infer<typeof PackageSchema>;
export type Activity = z.infer<typeof ActivitySchema>;
export type StationSettings = z.infer<typeof SettingsSchema>;
export type StationInfo = z.infer<typeof StationInfoSchema>;
export type Snapshot = z.infer<typeof SnapshotSchema>;
export type Change = z.infer<typeof ChangeSchema>;
export type Command = z.infer<typeof CommandSchema>;
export type CommandResult = z.infer<typeof CommandResultSchema>;

/**
 * What the renderer talks to: `window.station` in Electron (built by the preload over IPC), or a WebSocket
 * client in a browser. Both implement exactly this.
 */
export interface StationClient {
  getSnapshot(): Promise<Snapshot>;
  /** Changes after the snapshot; returns the unsubscribe function. */
  subscribe(listener: (change: Change) => void): () => void;
  execute(command: Command): Promise<CommandResult>;
}

export { IPC } from './ipc.js';

/** WebSocket frames (web console adapter). Requests carry an id; the answer echoes it. */
export const WsRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('getSnapshot'), id: z.number().int() }),
  z.object({ op: z.literal('execute'), id: z.number().int(), command: CommandSchema }),
]);
export type WsRequest = z.infer<typeof WsRequestSchema>;

export type WsMessage =
  | { op: 'snapshot'; id: number; snapshot: Snapshot }
  | { op: 'result'; id: number; result: CommandResult }
  | { op: 'change'; change: Change }
  | { op: 'error'; id: number | null; message: string };
