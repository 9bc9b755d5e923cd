// A managed target: the station itself (local) or a docked device (tethered, reached over a link).
// The engine runs the same client session for both; only where files land and commands run differs.
import type { ClientIPAddress, FileFilterItem, FileReport, Identification, Inventory } from '../../shared/protocol/types.js';
import type { ConnectionState } from '../../shared/protocol/flags.js';
import type { CommandRunRecord } from './command-journal.js';

export interface CommandOutcome {
  exitCode: number | null;
  signal: string | null;
  output: string;
  durationMs: number;
}

/** One recorded run of a command line (command-journal.ts): at most one copy of it ever runs. */
export interface CommandRun {
  runId: string;
  /** The program started as process `pid` (local target): recorded at once, so a restart can end it. */
  spawned?(pid: number): void;
}

/** What became of a run begun before a restart or an undock. `not-started`: the target never saw it. */
export type RunOutcome =
  | { state: 'finished'; outcome: CommandOutcome }
  | { state: 'interrupted'; reason: string }
  | { state: 'not-started' };

/** A verified file in the station's package cache. */
export interface PackageFile {
  /** The package the file is, for progress reports. */
  packageId?: string;
  path: string;
  size: number;
  sha256: string;
}

export interface CollectedFile {
  devicePath: string;
  size: number;
  read(): Promise<Buffer>;
}

export interface Target {
  /** The device ID the server knows this target by (X-Device-UUID). */
  readonly id: string;
  readonly kind: 'local' | 'tethered';
  /** How this target reaches the server now; a tethered device that is not docked has no connection. */
  connection(): ConnectionState;
  identification(): Promise<Identification>;
  ipAddresses(): Promise<ClientIPAddress[]>;
  /** Refuses (PATH_REFUSED) a LocalDestination or file name that would leave the target's folder. */
  checkDestination(localDestination: string, fileName: string): Promise<void>;
  /** Puts a verified package file into LocalDestination under `fileName`; returns where it was saved. */
  install(file: PackageFile, localDestination: string, fileName: string, signal?: AbortSignal): Promise<string>;
  /** Deletes a package file this target saved earlier (a removed package). */
  remove(savedPath: string): Promise<void>;
  /** Runs the post-install command line in the package's folder, without a shell; a cancel ends it. */
  runCommand(commandLine: string, localDestination: string, signal?: AbortSignal, run?: CommandRun): Promise<CommandOutcome>;
  /** How a run recorded earlier ended (or that it is still to start) — never starts it a second time. */
  runOutcome(run: CommandRunRecord, signal?: AbortSignal): Promise<RunOutcome>;
  /** The listing, with what the target could not list (`warnings`: cut short, unreadable folders). */
  softwareInventory(items: FileFilterItem[]): Promise<FileReport & { warnings?: string[] }>;
  machineInventory(): Promise<Inventory>;
  collectFiles(items: FileFilterItem[]): Promise<CollectedFile[]>;
}
