// The one way server and device data reach the station's file system (issue 7: "server data is never a
// path"). Everything a management server or a docked device chooses — package IDs, device IDs from the
// hello, file names from a location URL, LocalDestination, saved paths to delete, collected file names —
// goes through here or through the device-path half of this module (local/device-path.ts), which maps
// device paths under a root and refuses the station's own folders.
//
// Rules (docs/protocol-decisions.md, "Engine"):
// - A package ID is an identifier, never a name: 1–128 ASCII letters, digits and `{ } . _ -`, starting with
//   a letter, a digit or `{`. Anything else (`..`, `station.json/x`, `%2e%2e`, NUL, look-alike letters) is
//   refused with an error naming the ID; the poll goes on without that package.
// - Package IDs that differ only in case are one package (they are GUIDs): `packageKey` folds them.
// - Folder names are never the ID itself: a package's cache folder and a device's database folder are named
//   by a hash of the ID (`storageName`), and the ID is stored inside (cache index, client database). So no
//   ID can name `station.json`, `cache.sqlite` or `..`, and `a/b` and `a_b` never share a folder.
// - Own folders (the data folder, an agent's state folder) are registered with protectOwnFolder and can
//   never be reached by a mapped device path (see device-path.ts).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DockhandError } from '../../shared/model/errors.js';
import { checkFileName, deviceSegments, mapDevicePath, refuseOwnFolder, toDevicePath } from './local/device-path.js';

export { checkFileName, mapDevicePath, protectOwnFolder, toDevicePath } from './local/device-path.js';

export const MAX_PACKAGE_ID_CHARS = 128;
export const MAX_DEVICE_ID_CHARS = 128;
const PACKAGE_ID = /^[A-Za-z0-9{][A-Za-z0-9{}._-]*$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this must find
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** An ID as it can be shown in one line: control characters made visible, long ones shortened. */
export function shownId(id: string): string {
  // eslint-disable-next-line no-control-regex -- same set, global, for displaying them
  const visible = id.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `<0x${c.charCodeAt(0).toString(16).padStart(2, '0')}>`);
  return visible.length > 80 ? `${visible.slice(0, 77)}...` : visible;
}

/** Why `id` is not a safe package identifier, or undefined when it is one. */
export function packageIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id === '') return 'is empty';
  if (id.length > MAX_PACKAGE_ID_CHARS) return `is ${id.length} characters long (at most ${MAX_PACKAGE_ID_CHARS})`;
  if (!PACKAGE_ID.test(id)) {
    return 'is not a safe identifier (only ASCII letters, digits and { } . _ - are allowed, starting with a letter, a digit or {)';
  }
  return undefined;
}

/** One package whatever the case of its ID: GUIDs compare without case. */
export function packageKey(id: string): string {
  return id.toUpperCase();
}

/** Why a device ID from a hello cannot be used, or undefined. Any text works as a key; control characters cannot go in a header. */
export function deviceIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.trim() === '') return 'is empty';
  if (id.length > MAX_DEVICE_ID_CHARS) return `is ${id.length} characters long (at most ${MAX_DEVICE_ID_CHARS})`;
  if (CONTROL.test(id)) return 'contains a control character';
  if (id !== id.trim()) return 'starts or ends with a space';
  return undefined;
}

/** A folder name made from an ID: a hash, so nothing in the ID can choose or collide with a name. */
export function storageName(prefix: string, key: string): string {
  return `${prefix}${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}`;
}

/** A package's folder in the station's cache (`DATA/cache/p-<hash>`), whatever its ID. */
export function cacheFolder(cacheDir: string, packageId: string): string {
  return path.join(cacheDir, storageName('p-', packageKey(packageId)));
}

/** A docked device's folder under `DATA/targets` (`device-<hash>`), whatever its ID. */
export function deviceFolder(dataDir: string, deviceId: string): string {
  return path.join(dataDir, 'targets', storageName('device-', deviceId));
}

/** The folder name an earlier Dockhand gave a device (the ID made safe); only to find and move old data. */
export function legacyDeviceFolderName(deviceId: string): string {
  return `device-${deviceId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100)}`;
}

// Entries of the data folder the station itself writes; a root (where server files land) must not be one.
const STATION_ENTRIES = ['station.json', 'targets', 'cache', 'kit', 'demo-server'];

/**
 * The field kit's folder (`DATA/kit`): its index database, named by the station. Server data never names
 * anything in it: profiles, parts and packages are rows, keyed by the IDs stored inside.
 */
export function kitFolder(dataDir: string): string {
  return path.join(dataDir, 'kit');
}

/**
 * A temporary folder inside the data folder for one kit import or export (`DATA/kit-import-<random>.tmp`):
 * on the data folder's own disk, so verified files move into the cache by rename; `.tmp` so no root can be
 * in it. Files in it are named by the station (their place in the kit's manifest), never by the kit file.
 */
export function kitWorkFolder(dataDir: string, purpose: 'import' | 'export', random: string): string {
  if (!/^[0-9a-f]{8,32}$/.test(random)) throw new Error(`a kit work folder is named by a random hex string, not '${random}'`);
  return path.join(dataDir, `kit-${purpose}-${random}.tmp`);
}

/** Work folders a stopped or killed import or export left behind (removed before the next one). */
export const KIT_WORK_LEFTOVER = /^kit-(import|export)-[0-9a-f]{8,32}\.tmp$/;

/**
 * Refuses a root folder that is the data folder or one of the station's own entries in it: server files
 * would land among the station's databases. A root elsewhere (even one containing the data folder) is fine,
 * since mapped paths never reach the data folder.
 */
export function checkStationRoot(dataDir: string, root: string): void {
  const data = path.resolve(dataDir);
  const rel = path.relative(data, path.resolve(root));
  if (rel.startsWith('..') || path.isAbsolute(rel)) return;
  const first = rel.split(path.sep)[0] ?? '';
  if (rel === '' || STATION_ENTRIES.includes(first.toLowerCase()) || first.toLowerCase().endsWith('.tmp')) {
    throw new DockhandError('PATH_REFUSED', `the root folder ${path.resolve(root)} is ${rel === '' ? 'the data folder itself' : `inside the station's own '${first}'`}; ` +
      `packages would land among the station's own files — choose another --root (the default is ${path.join(data, 'root')})`);
  }
}

/**
 * A saved path read back from the client database (a file the local target installed), checked before it
 * is deleted: inside `root`, a valid device path, not an own folder, and where it points now.
 */
export function confineSavedPath(root: string, savedPath: string): string {
  if (typeof savedPath !== 'string' || !path.isAbsolute(savedPath)) {
    throw new DockhandError('PATH_REFUSED', `the saved path '${shownId(String(savedPath))}' is not a full path on the station; refused`);
  }
  const devicePath = toDevicePath(root, savedPath); // PATH_REFUSED when outside the root
  if (devicePath === '\\') throw new DockhandError('PATH_REFUSED', `the saved path ${savedPath} is the station's folder itself; refused`);
  const mapped = mapDevicePath(root, devicePath); // every device-path rule again, links and own folders included
  refuseOwnFolder(root, mapped, `the saved path '${savedPath}'`);
  return mapped;
}

/**
 * A device path for a docked device, made of checked segments (`\Temp\Apps`, `\Temp\a.cab`): what the
 * station sends it (LocalDestination) and what it reports back (saved paths, listed files) alike.
 */
export function joinDevicePath(directory: string, fileName?: string): string {
  const segments = deviceSegments(directory, "the device's folder");
  if (fileName !== undefined) segments.push(checkFileName(fileName));
  return `\\${segments.join('\\')}`;
}
