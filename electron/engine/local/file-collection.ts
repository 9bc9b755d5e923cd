// The file collection report (spec §13) of the local target: which files of the station's folder the
// FileCollectionSettings' FileFilterItems select. The engine uploads each one in its own POST with
// `X-Device-FullyQualifiedFilename` set to `devicePath`. Selection uses the same walker as the software
// inventory (file-filter-walk.ts), so both reports always agree on what a filter means.
//
// Bounds, because the server chooses the filters and every file costs an upload: at most `maxFiles` files
// (default 200, in report order: items in the order given, then folders and names alphabetically), and no
// file over `maxFileBytes` (default 16 MiB). What is left out is reported through `onWarning`.
import type { FileFilterItem } from '../../../shared/protocol/types.js';
import { walkFileFilters, type WalkedDirectory } from './file-filter-walk.js';

export const DEFAULT_MAX_COLLECTED_FILES = 200;
export const DEFAULT_MAX_COLLECTED_FILE_BYTES = 16 * 1024 * 1024;

export interface CollectionFile {
  hostPath: string;
  /** Fully qualified device path, e.g. `\Logs\install.log`. */
  devicePath: string;
  size: number;
}

export interface FileCollectionOptions {
  maxFiles?: number;
  maxFileBytes?: number;
  /** Folder entries examined at most (default 20 000). */
  maxEntries?: number;
  onWarning?: (message: string) => void;
}

function* filesOf(dirs: WalkedDirectory[]): Generator<CollectionFile> {
  for (const dir of dirs) {
    for (const file of dir.files) yield { hostPath: file.hostPath, devicePath: file.devicePath, size: file.stats.size };
    yield* filesOf(dir.directories);
  }
}

/** The files to upload for a file collection report, in upload order. */
export async function selectFilesForCollection(
  root: string,
  items: FileFilterItem[],
  opts: FileCollectionOptions = {},
): Promise<CollectionFile[]> {
  const maxFiles = opts.maxFiles ?? DEFAULT_MAX_COLLECTED_FILES;
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_COLLECTED_FILE_BYTES;
  const walk = await walkFileFilters(root, items, { maxEntries: opts.maxEntries });
  for (const warning of walk.warnings) opts.onWarning?.(warning);

  const selected: CollectionFile[] = [];
  let left = 0;
  for (const file of filesOf(walk.directories)) {
    if (file.size > maxFileBytes) {
      opts.onWarning?.(`left out '${file.devicePath}': ${file.size} bytes is more than the ${maxFileBytes}-byte limit for collected files`);
      continue;
    }
    if (selected.length >= maxFiles) {
      left += 1;
      continue;
    }
    selected.push(file);
  }
  if (left > 0) opts.onWarning?.(`left out ${left} more file(s): at most ${maxFiles} files are collected per report`);
  return selected;
}
