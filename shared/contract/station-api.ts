// The one station API (architecture §3.2): every query, command and event the UI can use, declared once with
// a runtime schema. Two adapters carry it — Electron IPC (preload → window.station) and the WebSocket web
// console — and both validate every payload against these schemas on the way in.
//
// Model: the UI asks for a snapshot, then listens to a change stream. A change replaces one whole collection
// (devices, tasks, transfers, packages, settings, station) — collections are small, and replacing them keeps
// the UI free of merge logic; transfer progress travels as its own coalesced event (a few per second per
// transfer), and the activity log as appended entries.
import { z } from 'zod';

/** The device's one verdict (shared/model/verdict.ts), in the words every view shows. */
export const VerdictSchema = z.object({
  kind: z.enum(['done', 'failed', 'working', 'waiting', 'undocked']),
  /** "Failed", "Working", …: what the icon and the colour also say. */
  title: z.string(),
  /** The one sentence: "Failed: Scanner firmware, command: the command exited with code 3". */
  words: z.string(),
  /** The sentence's short form under the title: "Scanner firmware: the command exited with code 3". */
  detail: z.string(),
  /** For a failure: what a technician does next; '' otherwise. */
  nextStep: z.string(),
  /** The package the verdict is about; '' when none. */
  packageId: z.string(),
  /** Working: the running transfer's percent. */
  percent: z.number().nullable(),
  /** Waiting with a countdown (the server, a schedule, a retry): ISO time it ends. */
  until: z.string().nullable(),
});

/** One package on one device: what became of it. */
export const DevicePackageSchema = z.object({
  id: z.string(),
  name: z.string(),
  result: z.enum(['installed', 'failed', 'working', 'waiting', 'pending']),
  /** Words for the result: "failed in command: the command exited with code 3". */
  words: z.string(),
  phase: z.string().nullable(),
  reason: z.string(),
  exitCode: z.number().nullable(),
  sha256: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});

/** One download event of a device (its activity for the provisioning record and the detail view). */
export const DeviceEventSchema = z.object({
  packageId: z.string(),
  name: z.string(),
  sha256: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  outcome: z.enum(['success', 'failed', 'interrupted', 'running']),
  failedPhase: z.string().nullable(),
  exitCode: z.number().nullable(),
  reason: z.string(),
});

export const DeviceSchema = z.object({
  id: z.string(),
  name: z.string(),
  port: z.string(),
  /** The technician's name for the port or USB path the device sits on ("Slot 3"); '' when none is set. */
  slot: z.string(),
  state: z.enum(['docked', 'undocked']),
  currentPackage: z.string(),
  /** The latest package result, whatever it was (kept for notifications); the verdict is the truth. */
  lastResult: z.string(),
  lastDockedAt: z.string().nullable(),
  undockReason: z.string(),
  verdict: VerdictSchema,
  packages: z.array(DevicePackageSchema),
  /** The latest download events, newest last (at most 50). */
  history: z.array(DeviceEventSchema),
  /** Provisioned from the field kit while the server could not be reached, and not yet reconciled with it. */
  provisionedOffline: z.boolean(),
  /** The field-kit profile it was (or will be) provisioned from offline; '' when none applies. */
  kitProfile: z.string(),
  /** Status messages and reports waiting in its outbox for the server. */
  messagesWaiting: z.number().int().nonnegative(),
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
  z.object({ kind: z.literal('storage'), until: z.number(), detail: z.string() }),
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
  /** Field-kit profiles named by the technician (none: every device docked here is its own). */
  profiles: z.array(z.object({ name: z.string().min(1).max(64), device: z.string().min(1).max(128) })).max(200),
  /** The profile new devices are provisioned from offline, by name; '' = the first. */
  defaultProfile: z.string().max(128),
});

/** The field kit at a glance (docs/field-kit.md): how old it is and which profiles it holds. */
export const FieldKitSummarySchema = z.object({
  /** When the server last answered for the default profile (ISO): "Offline: field kit from 1 Dec 14:02". */
  asOf: z.string().nullable(),
  defaultProfile: z.string().nullable(),
  profiles: z.array(z.object({ deviceId: z.string(), name: z.string(), polledAt: z.string().nullable(), isDefault: z.boolean() })),
});

/** How the station's last contact with its server went, from every session's last attempt and outbox. */
export const ContactSchema = z.object({
  /** ok: the last contact worked; unreachable: it failed; unknown: no contact yet. */
  state: z.enum(['ok', 'unreachable', 'unknown']),
  /** The server the station talks to (its host, for the header). */
  server: z.string(),
  /** Why the last contact failed, in words; '' when it worked. */
  problem: z.string(),
  /** ISO time of the next attempt while unreachable. */
  retryAt: z.string().nullable(),
  /** Status messages and reports waiting to be delivered, over all targets. */
  waiting: z.number().int().nonnegative(),
});

export const StationInfoSchema = z.object({
  id: z.string(),
  version: z.string(),
  demo: z.boolean(),
  /** The last contact with the server worked (contact.state === 'ok'). */
  online: z.boolean(),
  dataDir: z.string(),
  root: z.string(),
  contact: ContactSchema,
  /** A problem with the station's own disk (full, read-only) that holds work back; '' when none. */
  storageProblem: z.string(),
  /** The machine the station runs on, for the provisioning record. */
  host: z.string(),
  fieldKit: FieldKitSummarySchema,
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
  /** Names the port or USB path a device sits on ("Slot 3"); an empty label forgets the name. */
  z.object({ type: z.literal('renameSlot'), port: z.string().min(1).max(500), label: z.string().max(40) }),
  /** The provisioning record of the given devices (all when empty), as CSV or PDF. */
  z.object({
    type: z.literal('exportRecord'), format: z.enum(['csv', 'pdf']), devices: z.array(target).max(1000),
    /** Only download events that ended at or after this ISO time ("today's batch"). */
    since: z.string().max(40).optional(),
  }),
  /** Provisions a device from another field-kit profile (name or device ID), before its first package starts. */
  z.object({ type: z.literal('useKitProfile'), target, profile: z.string().min(1).max(200) }),
  /** Refreshes every field-kit profile now (polling as each). */
  z.object({ type: z.literal('refreshKit') }),
]);

/** A file a command produced: CSV as text, PDF as base64. */
export const CommandFileSchema = z.object({
  name: z.string(),
  contentType: z.string(),
  encoding: z.enum(['utf8', 'base64']),
  data: z.string(),
});

export const CommandResultSchema = z.object({ ok: z.boolean(), message: z.string(), file: CommandFileSchema.optional() });

export type Device = z.infer<typeof DeviceSchema>;
export type DeviceVerdict = z.infer<typeof VerdictSchema>;
export type DevicePackage = z.infer<typeof DevicePackageSchema>;
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;
export type Contact = z.infer<typeof ContactSchema>;
export type CommandFile = z.infer<typeof CommandFileSchema>;
export type Task = z.infer<typeof TaskSchema>;
export type Transfer = z.infer<typeof TransferSchema>;
export type CachedPackage = z.infer<typeof PackageSchema>;
export type Activity = z.infer<typeof ActivitySchema>;
export type StationSettings = z.infer<typeof SettingsSchema>;
export type StationInfo = z.infer<typeof StationInfoSchema>;
export type FieldKitSummary = z.infer<typeof FieldKitSummarySchema>;
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
