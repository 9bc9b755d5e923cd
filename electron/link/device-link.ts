// What the station can ask of a docked device over its link, once the hello succeeded. Implemented over
// the link protocol by electron/link (station side) and answered by agent/ (device side).
import type { FileFilterItem, FileReport, Inventory } from '../../shared/protocol/types.js';

/** Everything a poll request needs to speak for the device (spec §4.3 Identification), from the hello. */
export interface DeviceHello {
  id: string;
  name: string;
  platform: string;
  processor: string;
  codePage: number;
  lcid: number;
  userName?: string;
  domain?: string;
  network?: { ipAddress?: string; ipSubnet?: string; mac?: string };
  agentVersion: string;
  /** Negotiated link parameters, for the status view. */
  protocolVersion: number;
  maxPayload: number;
  window: number;
}

export interface PutFileProgress {
  /** Bytes the device holds of this file (resume point included). */
  bytesDone: number;
  total: number;
}

export interface DeviceCommandResult {
  exitCode: number | null;
  signal: string | null;
  output: string;
  outputTruncated: boolean;
  durationMs: number;
}

/** What a device's agent knows of a run by its run ID ('run-status'). */
export interface DeviceRunStatus {
  state: 'running' | 'finished' | 'interrupted' | 'unknown';
  result?: DeviceCommandResult;
  reason?: string;
}

export interface DeviceLink {
  readonly hello: DeviceHello;
  /** Where it is plugged in (transport label). */
  readonly port: string;
  readonly closed: boolean;
  /** Called once when the link is gone: unplugged, bye, or an unrecoverable link error (reason in words). */
  onClose(listener: (reason: string) => void): void;
  machineInventory(): Promise<Inventory>;
  /** Software inventory of the device's files (the device applies the filters). */
  listFiles(items: FileFilterItem[]): Promise<FileReport & { warnings?: string[] }>;
  /**
   * How many bytes of `fileName` in `directory` (a device path) the device already holds from an earlier,
   * interrupted put of the same size and SHA-256 — 0 when none. The device's own checkpoint.
   */
  queryPutOffset(directory: string, fileName: string, size: number, sha256: string): Promise<number>;
  /**
   * Pushes a file from `sourceFile` (a station path) starting at `offset`; the device verifies the size and
   * SHA-256 before it commits the file under its name. Resolves with the device path it was saved as.
   */
  putFile(opts: {
    directory: string; fileName: string; sourceFile: string; size: number; sha256: string; offset: number;
    onProgress?: (p: PutFileProgress) => void; signal?: AbortSignal;
  }): Promise<string>;
  removeFile(devicePath: string): Promise<void>;
  /**
   * Runs a command line on the device, in `directory`, without a shell. With a `runId` ('run-status' agents)
   * the device records the run and never starts that ID twice; `signal` stops the command (CANCEL).
   */
  runCommand(commandLine: string, directory: string, timeoutMs: number, options?: { runId?: string; signal?: AbortSignal }): Promise<DeviceCommandResult>;
  /** How the run `runId` stands on the device; waits (up to `timeoutMs`) while it still runs. */
  runStatus(runId: string, timeoutMs: number, signal?: AbortSignal): Promise<DeviceRunStatus>;
  /** Does the device's agent offer `capability` (hello caps)? */
  offers(capability: string): boolean;
  /** Reads a whole file from the device (file collection), refusing files over `maxBytes`. */
  getFile(devicePath: string, maxBytes: number): Promise<Buffer>;
  /** Says goodbye and closes the transport. */
  close(reason?: string): Promise<void>;
}
