// Plain data for every Windows CE Device Management document (spec §4–§13).
// Field names follow the element and attribute names of the spec, in camelCase where the spec's
// name is an attribute or a sentence. Durations are milliseconds; absolute times are kept as the
// parsed DM time (see dmtime.ts) so that "UTC or device local" is decided by the caller, as the
// spec says a StartTime becomes absolute only once interpreted.

/** A `YYYY-MM-DD hh:mm:ss` value taken apart, not yet bound to a time zone. */
export interface DmTime {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
  hour: number;
  minute: number;
  second: number;
}

export const DM_NAMESPACE = 'http://www.microsoft.com/DeviceManagement.xsd';

/**
 * A part of a received document the reader left out instead of refusing the document (the reception rule,
 * docs/protocol-decisions.md): its element path and the problem, for the engine to log once.
 */
export interface Ignored {
  path: string;
  problem: string;
}

// ---- §4 Poll Request -------------------------------------------------------------------------

export interface NetworkAdapter {
  IPAddress?: string;
  IPSubnet?: string;
  MAC?: string;
}

export interface Identification {
  ID: string;
  DeviceName: string;
  UserName?: string;
  Domain?: string;
  Platform: string;
  Processor: string;
  CodePage: number;
  SystemDefaultLCID: number;
  NetworkAdapter?: NetworkAdapter;
}

export interface DevicePoll {
  ManagementSystem: { Name: string; Version: string };
  Identification: Identification;
  Connection: { AuthorizationToken?: string; Timestamp?: string };
}

// ---- §5 Poll Response ------------------------------------------------------------------------

export interface FileFilterItem {
  Filter: string;
  Path: string;
  Recursive: boolean;
  ExcludeCompressed: boolean;
  ExcludeEncrypted: boolean;
}

export interface ClientSettings {
  version?: string;
  PollServer?: string;
  PollInterval?: number; // ms
  FailureRetryCount?: number;
  FailureRetryInterval?: number; // ms
}

/** One report block. A block without `Enabled` is enabled; without `Interval`, "once after this poll". */
export interface ReportSettings {
  Enabled: boolean;
  Interval?: number; // ms
  FileFilterItems: FileFilterItem[];
}

export interface PollResponseSettings {
  ClientSettings?: ClientSettings;
  SoftwareInventorySettings?: ReportSettings;
  FileCollectionSettings?: ReportSettings;
  MachineInventorySettings?: ReportSettings;
}

export interface PollResponse {
  Settings: PollResponseSettings;
  /** Package IDs from `ApplicablePackages/Package@ID`, in document order. */
  ApplicablePackages: string[];
  /**
   * Set by the reader when the list cannot say which packages are *not* wanted — `ApplicablePackages` is
   * missing or repeated, or a `Package` has no ID — with the reason in words. The client then acquires what
   * is listed and removes nothing. Never written by buildPollResponse.
   */
  packageListIncomplete?: string;
  /** What the reader left out (the reception rule); absent when nothing was. Never written. */
  ignored?: Ignored[];
}

// ---- §6 Instruction Request ------------------------------------------------------------------

export interface InstructionsRequest {
  PackageID: string;
}

// ---- §7 Instruction Response -----------------------------------------------------------------

export type RecurrenceBehavior = 'Download and Execute' | 'Execute Only';

export interface Recurrence {
  Interval: number; // ms, > 0
  Behavior: RecurrenceBehavior;
}

export interface StartTime {
  time: DmTime;
  UTC: boolean;
}

export interface PackageInstructions {
  /** `Package/ID`; absent in older servers' documents — callers fall back to the ID they asked for. */
  ID?: string;
  Required: boolean;
  Name: string;
  ShortDescription?: string;
  LongDescription?: string;
  PackageSize?: number;
  /** The 32-bit connection mask; absent or 0 means any connection (spec A8). */
  Flags?: number;
  StartTime?: StartTime;
  Recurrence?: Recurrence;
  LocalDestination: string;
  CommandLine?: string;
  /** `SourceFiles`; `false` means nothing to download, only run the command line. Absent = true. */
  SourceFiles: boolean;
  /**
   * Dockhand extension: SHA-256 of the package file, lower-case hex. Published by Dockhand's server as
   * `<dh:SHA256 xmlns:dh="urn:dockhand:dm-extensions">` so a stock client skips an element it does not know.
   */
  SHA256?: string;
}

export interface Instructions {
  Packages: PackageInstructions[];
  /**
   * Things a reader accepted but a technician should see (e.g. a `Package/ID` that differs from the ID that
   * was asked for; the request's ID is kept, spec A4). Only present when there is something to say; never
   * written by buildInstructions.
   */
  warnings?: string[];
}

// ---- §8 Package Location Request -------------------------------------------------------------

export interface ClientIPAddress {
  address: string;
  subnet: string;
}

export interface PackageLocationRequest {
  PackageID: string;
  ClientLocation: {
    DirectoryService?: { Name: string };
    IPAddresses: ClientIPAddress[];
  };
}

// ---- §9 Package Location Response ------------------------------------------------------------

export interface PackageLocationEntry {
  metric?: number;
  SMBPath?: string;
  URL?: string;
  DirectoryServiceName?: string;
  Subnets: string[];
}

export interface PackageLocation {
  PackageID: string;
  /** Sorted: lower metric first, ties in document order (spec §9.2 recommendation). */
  Locations: PackageLocationEntry[];
  /** Locations or values the reader left out (the reception rule); absent when nothing was. Never written. */
  ignored?: Ignored[];
}

// ---- §10 Download Event Status ---------------------------------------------------------------

export const STATUS_DOWNLOAD_STARTING = 11030;
export const STATUS_DOWNLOAD_SUCCESSFUL = 11031;
export const STATUS_DOWNLOAD_UNSUCCESSFUL = 11032;
export const STATUS_EXECUTION_SUCCESSFUL = 11035;
/** Dockhand's private code (spec A9, ≥ 20000): the post-install command failed or was refused. */
export const STATUS_EXECUTION_FAILED = 20035;

export interface StatusParameter {
  name: string;
  value: string;
}

export interface StatusMessage {
  packageID: string;
  messageID: number;
  /** As written: `YYYY-MM-DD hh:mm:ss`, device local time; may be empty from real clients. */
  timestamp: string;
  Parameters: StatusParameter[];
}

export interface Status {
  StatusMessages: StatusMessage[];
}

// ---- §11 Software Inventory ------------------------------------------------------------------

export interface InventoryFile {
  Name: string;
  Version?: string;
  Company?: string;
  Description?: string;
  Size: number;
  Created?: string;
  LastModified?: string;
  LastAccessed?: string;
  Attributes?: string;
}

export interface InventoryDirectory {
  /** Fully qualified device path, e.g. `\Windows\Fonts`. */
  Name: string;
  Created?: string;
  LastAccessed?: string;
  Attributes?: string;
  Directories: InventoryDirectory[];
  Files: InventoryFile[];
}

export interface FileReport {
  Directories: InventoryDirectory[];
}

// ---- §12 Machine Inventory -------------------------------------------------------------------

export interface InventoryProperty {
  name: string;
  value: string;
}

export interface InventoryItem {
  name: string;
  Properties: InventoryProperty[];
}

export interface Inventory {
  type: string;
  Items: InventoryItem[];
}

// ---- Document dispatch -----------------------------------------------------------------------

export type DmDocument =
  | { kind: 'DevicePoll'; value: DevicePoll }
  | { kind: 'PollResponse'; value: PollResponse }
  | { kind: 'InstructionsRequest'; value: InstructionsRequest }
  | { kind: 'Instructions'; value: Instructions }
  | { kind: 'PackageLocationRequest'; value: PackageLocationRequest }
  | { kind: 'PackageLocation'; value: PackageLocation }
  | { kind: 'Status'; value: Status }
  | { kind: 'FileReport'; value: FileReport }
  | { kind: 'Inventory'; value: Inventory };

export type DmDocumentKind = DmDocument['kind'];
