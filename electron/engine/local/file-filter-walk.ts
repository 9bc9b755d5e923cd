// The one walker behind the software inventory (spec §11) and the file collection (§13): it applies the
// poll response's FileFilterItems (§5.2) to the station's folder and returns a merged tree of folders and
// the files that matched.
//
// Decisions:
// - Filter: `*` (any run) and `?` (one character) wildcards on the file name only, ignoring case as CE does;
//   `*.*` means every file (Windows' reading, also names without a dot); empty means `*`; several patterns
//   may be separated by `;`. A filter holding a path separator is skipped with a warning.
// - Path: a device path mapped with mapDevicePath; a refused, missing or non-folder Path is skipped with a
//   warning, the other items still run.
// - Links are never followed (a CE file system has none; a link's target inside the folder is listed at its
//   own place anyway), so nothing outside the station's folder is ever listed. Nor is anything in an own
//   folder (the station's data folder when the root contains it, the agent's state folder): an inventory or
//   a file collection must never carry the station's databases to a server.
// - Host names that cannot be CE names (`a:b`, `CON`, a backslash inside a name) are skipped with a warning,
//   as are files whose device path would exceed 260 characters.
// - Every item's Path appears as a folder even when nothing matched (the server sees it was searched);
//   sub-folders appear only when they hold a match. Items that overlap are merged, each file listed once.
// - maxEntries bounds the work: it counts every folder entry examined. When it runs out the result is
//   marked truncated and a warning says so.
import fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { FileFilterItem } from '../../../shared/protocol/types.js';
import { describeError } from '../../../shared/model/errors.js';
import { checkFileName, foldCase, mapDevicePath, MAX_DEVICE_PATH, ownFolderReached, toDevicePath } from './device-path.js';
import { sniffContent, type ContentKind } from './file-attributes.js';

export const DEFAULT_MAX_ENTRIES = 20_000;
const MAX_NAME_WARNINGS = 20;

export interface WalkedFile {
  name: string;
  hostPath: string;
  devicePath: string;
  stats: Stats;
  content: ContentKind;
}

export interface WalkedDirectory {
  /** Fully qualified device path, `\` for the station folder itself. */
  devicePath: string;
  hostPath: string;
  stats: Stats;
  directories: WalkedDirectory[];
  files: WalkedFile[];
}

export interface WalkResult {
  directories: WalkedDirectory[];
  warnings: string[];
  truncated: boolean;
}

/** `*`/`?` wildcard patterns (`;`-separated) as one case-insensitive matcher of whole names. */
export function compileFilter(filter: string): (name: string) => boolean {
  const patterns = filter.split(';').map((p) => p.trim()).map((p) => (p === '' || p === '*.*' ? '*' : p));
  const source = patterns
    .map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.'))
    .join('|');
  const re = new RegExp(`^(?:${source})$`, 'iu');
  return (name) => re.test(name);
}

const join = (dir: string, name: string): string => (dir === '\\' ? `\\${name}` : `${dir}\\${name}`);
const parentOf = (devicePath: string): string | undefined => {
  if (devicePath === '\\') return undefined;
  const cut = devicePath.lastIndexOf('\\');
  return cut <= 0 ? '\\' : devicePath.slice(0, cut);
};
/**
 * Sorts by name ignoring case, folding each name once: folding inside the comparison would fold every name
 * log n times (seconds for a folder of 16,000 files, during which the station answers nothing).
 */
function sortByName<T>(list: T[], name: (item: T) => string): T[] {
  const keyed = list.map((item) => ({ key: foldCase(name(item)), item }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 0; i < keyed.length; i++) list[i] = (keyed[i] as { item: T }).item;
  return list;
}

/** Applies the filter items to `root`; see the file comment for every rule. */
export async function walkFileFilters(root: string, items: FileFilterItem[], opts: { maxEntries?: number } = {}): Promise<WalkResult> {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const warnings: string[] = [];
  const folders = new Map<string, { devicePath: string; hostPath: string }>(); // every folder visited
  const files = new Map<string, WalkedFile>();
  const itemRoots = new Map<string, number>(); // folded device path → order in which the items asked for it
  const sniffed = new Map<string, ContentKind>();
  let examined = 0;
  let truncated = false;
  let nameWarnings = 0;

  const badName = (devicePath: string, why: string): void => {
    nameWarnings += 1;
    if (nameWarnings <= MAX_NAME_WARNINGS) warnings.push(`skipped '${devicePath}': ${why}`);
  };

  const visit = async (hostDir: string, deviceDir: string, item: FileFilterItem, matches: (n: string) => boolean): Promise<void> => {
    folders.set(foldCase(deviceDir), { devicePath: deviceDir, hostPath: hostDir });
    let entries;
    try {
      entries = await fs.readdir(hostDir, { withFileTypes: true });
    } catch (err) {
      warnings.push(`could not list the folder '${deviceDir}': ${describeError(err)}`);
      return;
    }
    sortByName(entries, (e) => e.name);
    for (const entry of entries) {
      if (truncated) return;
      examined += 1;
      if (examined > maxEntries) {
        truncated = true;
        warnings.push(`stopped after examining ${maxEntries} entries; the listing is incomplete`);
        return;
      }
      if (entry.isSymbolicLink() || !(entry.isFile() || entry.isDirectory())) continue;
      const devicePath = join(deviceDir, entry.name);
      if (entry.isDirectory() && !item.Recursive) continue;
      if (entry.isFile() && !matches(entry.name)) continue;
      try {
        checkFileName(entry.name);
      } catch (err) {
        badName(devicePath, describeError(err));
        continue;
      }
      if (devicePath.length > MAX_DEVICE_PATH) {
        badName(devicePath, `the path is longer than ${MAX_DEVICE_PATH} characters`);
        continue;
      }
      const hostPath = path.join(hostDir, entry.name);
      if (ownFolderReached(root, hostPath) !== undefined) continue;
      if (entry.isDirectory()) {
        await visit(hostPath, devicePath, item, matches);
        continue;
      }
      const key = foldCase(devicePath);
      const seen = files.get(key);
      // Stat before sniffing, so the report shows the access time from before this inventory read the file.
      const stats = seen?.stats ?? (await fs.lstat(hostPath).catch(() => undefined));
      if (!stats?.isFile()) continue;
      let content = sniffed.get(hostPath);
      if (content === undefined) {
        content = await sniffContent(hostPath);
        sniffed.set(hostPath, content);
      }
      if ((item.ExcludeCompressed && content.compressed) || (item.ExcludeEncrypted && content.encrypted)) continue;
      if (!seen) files.set(key, { name: entry.name, hostPath, devicePath, stats, content });
    }
  };

  for (const item of items) {
    if (truncated) break;
    const filter = String(item.Filter ?? '');
    const pathText = String(item.Path ?? '');
    if (/[\\/]/.test(filter)) {
      warnings.push(`skipped the filter '${filter}' for '${pathText}': a filter names files, it cannot hold a path`);
      continue;
    }
    let hostDir: string;
    try {
      hostDir = mapDevicePath(root, pathText);
    } catch (err) {
      warnings.push(`skipped the filter '${filter}' for '${pathText}': ${describeError(err)}`);
      continue;
    }
    const stats = await fs.stat(hostDir).catch(() => undefined);
    if (!stats?.isDirectory()) {
      warnings.push(`skipped the filter '${filter}' for '${pathText}': ${stats ? 'it is a file, not a folder' : 'the folder does not exist on the station'}`);
      continue;
    }
    const deviceDir = toDevicePath(root, hostDir);
    const rootKey = foldCase(deviceDir);
    if (!itemRoots.has(rootKey)) itemRoots.set(rootKey, itemRoots.size);
    await visit(hostDir, deviceDir, item, compileFilter(filter));
  }

  return { directories: await buildTree(folders, files, itemRoots), warnings, truncated };
}

/** Item roots, plus every folder on the way from an item root to a matched file, linked parent to child. */
async function buildTree(
  folders: Map<string, { devicePath: string; hostPath: string }>,
  files: Map<string, WalkedFile>,
  itemRoots: Map<string, number>,
): Promise<WalkedDirectory[]> {
  // Every key here is a folded device path already: nothing is folded again (see sortByName).
  const needed = new Set(itemRoots.keys());
  for (const fileKey of files.keys()) {
    let key = parentOf(fileKey);
    while (key !== undefined && folders.has(key) && !needed.has(key)) {
      needed.add(key);
      key = parentOf(key);
    }
  }
  const nodes = new Map<string, WalkedDirectory>();
  for (const key of needed) {
    const folder = folders.get(key);
    if (!folder) continue;
    const stats = await fs.stat(folder.hostPath).catch(() => undefined);
    if (stats) nodes.set(key, { devicePath: folder.devicePath, hostPath: folder.hostPath, stats, directories: [], files: [] });
  }
  // Files in folded-path order are in name order within each folder, since a folder's files share its prefix.
  const byKey = [...files.keys()].sort();
  for (const fileKey of byKey) nodes.get(parentOf(fileKey) ?? '')?.files.push(files.get(fileKey) as WalkedFile);

  const top: WalkedDirectory[] = [];
  const topOrder = new Map<WalkedDirectory, number>();
  for (const key of [...nodes.keys()].sort()) {
    const node = nodes.get(key) as WalkedDirectory;
    const parent = nodes.get(parentOf(key) ?? '');
    if (parent) parent.directories.push(node);
    else {
      top.push(node);
      topOrder.set(node, itemRoots.get(key) ?? Number.MAX_SAFE_INTEGER);
    }
  }
  // Top level in the order the items asked for their folders.
  return top.sort((a, b) => (topOrder.get(a) as number) - (topOrder.get(b) as number));
}
