// The software inventory report (spec §11) of the local target: the FileFilterItems of the poll response's
// SoftwareInventorySettings applied to the station's folder, as a FileReport tree. The selection rules live in
// file-filter-walk.ts (shared with the file collection); this module only turns the walk into report data:
// fully qualified device-path names for folders, DM times in local time, attribute strings, and
// `Version="0.0.0"` with empty Company and Description, as a CE client writes them for a file without a
// version resource (station files have none that Dockhand reads).
import type { FileFilterItem, FileReport, InventoryDirectory, InventoryFile } from '../../../shared/protocol/types.js';
import { formatDmLocalTime } from './dm-local-time.js';
import { attributeString } from './file-attributes.js';
import { walkFileFilters, type WalkedDirectory, type WalkedFile } from './file-filter-walk.js';
import { SLICE_MS, SliceClock, yieldToEventLoop } from '../../../shared/protocol/work-slices.js';

/**
 * A FileReport plus what the station could not list. `warnings` and `truncated` are not part of the
 * document: builders of the XML report must take `Directories` only.
 */
export interface SoftwareInventoryResult extends FileReport {
  warnings: string[];
  truncated: boolean;
}

export interface SoftwareInventoryOptions {
  /** Folder entries examined at most (default 20 000). */
  maxEntries?: number;
  /** Called once per warning as well, for callers that log rather than read the result. */
  onWarning?: (message: string) => void;
}

/** Created is the birth time where the file system keeps one, else the last modification. */
function created(stats: { birthtimeMs: number; mtime: Date; birthtime: Date }): string {
  return formatDmLocalTime(stats.birthtimeMs > 0 ? stats.birthtime : stats.mtime);
}

function fileEntry(file: WalkedFile): InventoryFile {
  return {
    Name: file.name,
    Version: '0.0.0',
    Company: '',
    Description: '',
    Size: file.stats.size,
    Created: created(file.stats),
    LastModified: formatDmLocalTime(file.stats.mtime),
    LastAccessed: formatDmLocalTime(file.stats.atime),
    Attributes: attributeString(file.name, file.stats.mode, { isDirectory: false, compressed: file.content.compressed }),
  };
}

/**
 * The report tree of a walked folder. A listing may hold 20,000 files: the conversion gives the event loop
 * back every slice, as the XML builders do, so other targets are served meanwhile.
 */
async function directoryEntry(dir: WalkedDirectory, clock: SliceClock, slice: { deadline: number }): Promise<InventoryDirectory> {
  const leaf = dir.devicePath.slice(dir.devicePath.lastIndexOf('\\') + 1);
  const entry: InventoryDirectory = {
    Name: dir.devicePath,
    Created: created(dir.stats),
    LastAccessed: formatDmLocalTime(dir.stats.atime),
    Attributes: attributeString(leaf, dir.stats.mode, { isDirectory: true }),
    Directories: [],
    Files: [],
  };
  for (const sub of dir.directories) entry.Directories.push(await directoryEntry(sub, clock, slice));
  for (const file of dir.files) {
    if (clock.due(slice.deadline)) {
      await yieldToEventLoop();
      slice.deadline = performance.now() + SLICE_MS;
    }
    entry.Files.push(fileEntry(file));
  }
  return entry;
}

/** The software inventory of the station's folder `root` for the given filter items. */
export async function softwareInventory(
  root: string,
  items: FileFilterItem[],
  opts: SoftwareInventoryOptions = {},
): Promise<SoftwareInventoryResult> {
  const walk = await walkFileFilters(root, items, { maxEntries: opts.maxEntries });
  for (const warning of walk.warnings) opts.onWarning?.(warning);
  const clock = new SliceClock();
  const slice = { deadline: performance.now() + SLICE_MS };
  const directories: InventoryDirectory[] = [];
  for (const dir of walk.directories) directories.push(await directoryEntry(dir, clock, slice));
  return { Directories: directories, warnings: walk.warnings, truncated: walk.truncated };
}
