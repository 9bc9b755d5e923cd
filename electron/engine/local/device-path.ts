// Device paths (`\Temp\setup.exe`, spec §7 LocalDestination, §11 Directory@Name, §13 file names) mapped into
// the station's folder, which plays the device's file system for the local target.
//
// The server decides these paths, so every one is treated as hostile: anything that could reach outside the
// folder is refused with PATH_REFUSED rather than "cleaned up", because a silently rewritten path would put a
// package somewhere the server did not ask for. Refused: `..` segments, drive letters, UNC paths, control
// characters, characters no CE file name can hold (`<>:"|?*`; `:` would also open an NTFS stream), names
// ending in a dot or space (Windows silently drops those, so `CON.` and `CON` are the same file), reserved
// device names (CON, NUL, COM1…, also with an extension), names over 255 bytes, paths over 260 characters
// (CE's MAX_PATH), and links inside the folder that lead out of it (or lead nowhere).
//
// CE file systems ignore case, so `\TEMP\Setup.exe` and `\temp\setup.exe` are one file on the device. On a
// case-sensitive host we keep the server's spelling for new names but reuse an existing entry whose name
// differs only by case, so two packages naming the same folder differently share it as they would on a device.
//
// Own folders: the folders a process keeps its own state in (the station's data folder, the agent's state
// folder) are registered once with protectOwnFolder(). No mapped path may name anything inside one of them,
// whatever root it was mapped under (a `--root` that contains the data folder, a link inside the root that
// leads into it), except the part of a root that itself lies inside one (the default DATA/root). So a
// LocalDestination, a program path or an inventory filter can never reach `station.json` or a database.
import fs from 'node:fs';
import path from 'node:path';
import { DockhandError } from '../../../shared/model/errors.js';

/** CE's MAX_PATH: the longest device path a CE client can hold (DMSDLINFO.wzDest[MAX_PATH]). */
export const MAX_DEVICE_PATH = 260;
const MAX_NAME_BYTES = 255;

// eslint-disable-next-line no-control-regex -- control characters are exactly what this must find
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- same set, global, for displaying them
const CONTROL_ALL = /[\u0000-\u001f\u007f]/g;
const FORBIDDEN = /[<>:"|?*]/;
// Windows opens a device for these names whatever the folder or extension (`a\nul.txt` is the NUL device).
const RESERVED = /^(CON|PRN|AUX|NUL|CLOCK\$|CONIN\$|CONOUT\$|COM[0-9¹²³]|LPT[0-9¹²³])$/i;

/** A path as it can be shown in a message: control characters made visible, very long ones shortened. */
function shown(p: string): string {
  const visible = p.replace(CONTROL_ALL, (c) => (c === '\u0000' ? '<NUL>' : `<0x${c.charCodeAt(0).toString(16).padStart(2, '0')}>`));
  return visible.length > 120 ? `${visible.slice(0, 117)}...` : visible;
}

function refuse(subject: string, why: string, detail: Record<string, unknown>): DockhandError {
  return new DockhandError('PATH_REFUSED', `${subject} ${why}; refused`, { detail });
}

/** Why a single file or folder name is unsafe, or undefined when it is fine. */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return `is '${name}', which names a folder rather than a file`;
  if (CONTROL.test(name)) return 'contains a control character (NUL or similar)';
  if (name.includes('\\') || name.includes('/')) return 'contains a path separator';
  const bad = FORBIDDEN.exec(name);
  if (bad) return `contains '${bad[0]}', which a Windows CE file name cannot hold`;
  if (/[. ]$/.test(name)) return `has a name ending in a dot or space ('${name}'), which Windows would silently change`;
  const stem = (name.split('.')[0] ?? '').trimEnd();
  if (RESERVED.test(stem)) return `uses '${name}', a reserved device name on Windows`;
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `has a name longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/** A single safe file name, returned unchanged, or PATH_REFUSED saying what is wrong with it. */
export function checkFileName(name: string): string {
  if (typeof name !== 'string') throw refuse('the file name', `is missing (got ${typeof name})`, { name });
  const problem = nameProblem(name);
  if (problem) throw refuse(`the file name '${shown(name)}'`, problem, { name });
  return name;
}

/** The validated segments of a device path; `\` and `/` both separate, the leading `\` is optional. */
export function deviceSegments(devicePath: string, root = "the station's folder"): string[] {
  if (typeof devicePath !== 'string') throw refuse('the device path', `is missing (got ${typeof devicePath})`, { devicePath });
  const subject = `the device path '${shown(devicePath)}'`;
  const detail = { devicePath, root };
  if (devicePath.length > MAX_DEVICE_PATH) {
    throw refuse(subject, `is ${devicePath.length} characters long; Windows CE paths end at ${MAX_DEVICE_PATH}`, detail);
  }
  if (CONTROL.test(devicePath)) throw refuse(subject, 'contains a control character (NUL or similar)', detail);
  if (/^[\\/]{2}/.test(devicePath)) {
    throw refuse(subject, `is a network (UNC) path, which is outside ${root}`, detail);
  }
  if (/^[A-Za-z]:/.test(devicePath)) {
    throw refuse(subject, `names a drive ('${devicePath.slice(0, 2)}'), which is outside ${root}`, detail);
  }
  const segments: string[] = [];
  for (const segment of devicePath.split(/[\\/]+/)) {
    if (segment === '' || segment === '.') continue; // `\a\\b\.\c` is `\a\b\c` on CE too
    if (segment === '..') throw refuse(subject, `climbs up with '..', which could leave ${root}`, detail);
    const problem = nameProblem(segment);
    if (problem) throw refuse(subject, problem, detail);
    segments.push(segment);
  }
  return segments;
}

/** Upper-cases code point by code point (as NTFS and FAT compare names), never changing the length. */
export function foldCase(name: string): string {
  let out = '';
  for (const ch of name.normalize('NFC')) {
    const upper = ch.toUpperCase();
    out += [...upper].length === 1 ? upper : ch;
  }
  return out;
}

function isInside(realRoot: string, candidate: string): boolean {
  const rel = path.relative(realRoot, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function tryRealpath(p: string): string | undefined {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return undefined;
  }
}

/** The existing entry of `dir` spelled like `name` (exactly, else ignoring case), if `dir` can be listed. */
function existingSpelling(dir: string, name: string): string | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return undefined; // missing, or not a folder: the rest of the path is new
  }
  if (entries.includes(name)) return name;
  const folded = foldCase(name);
  return entries.sort().find((entry) => foldCase(entry) === folded);
}

// ---- own folders -----------------------------------------------------------------------------------------

const ownFolders = new Map<string, number>();

/** Registers a folder server data may never name; returns the function that lifts the protection again. */
export function protectOwnFolder(dir: string): () => void {
  const key = path.resolve(dir);
  ownFolders.set(key, (ownFolders.get(key) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (ownFolders.get(key) ?? 1) - 1;
    if (left > 0) ownFolders.set(key, left);
    else ownFolders.delete(key);
  };
}

/** `p` with its deepest existing part resolved through links: where a write to `p` would really land. */
function landingPlace(p: string): string {
  let probe = p;
  const rest: string[] = [];
  for (;;) {
    const real = tryRealpath(probe);
    if (real !== undefined) return path.join(real, ...rest.reverse());
    const parent = path.dirname(probe);
    if (parent === probe) return p;
    rest.push(path.basename(probe));
    probe = parent;
  }
}

// Compared with case folded: on a case-insensitive disk `DATA/Station.JSON` is `station.json`, and on a
// case-sensitive one refusing a look-alike costs nothing.
const within = (outer: string, inner: string): boolean => isInside(foldCase(outer), foldCase(inner));

/**
 * The own folder `hostPath` (a path chosen under `root`) would reach, or undefined when it reaches none.
 * Both the path as written and where it lands through links are checked.
 */
export function ownFolderReached(root: string, hostPath: string): string | undefined {
  if (ownFolders.size === 0) return undefined;
  const base = path.resolve(root);
  const forms: Array<[string, string]> = [[base, path.resolve(hostPath)], [landingPlace(base), landingPlace(path.resolve(hostPath))]];
  for (const own of ownFolders.keys()) {
    for (const ownForm of [own, landingPlace(own)]) {
      for (const [rootForm, p] of forms) {
        if (!within(ownForm, p)) continue;
        // A root inside an own folder (DATA/root) is the device's file system: its contents are fair game.
        const rootInside = within(ownForm, rootForm) && foldCase(ownForm) !== foldCase(rootForm);
        if (!(rootInside && within(rootForm, p))) return own;
      }
    }
  }
  return undefined;
}

/** Throws PATH_REFUSED when `hostPath` (chosen by server or device data under `root`) reaches an own folder. */
export function refuseOwnFolder(root: string, hostPath: string, subject: string): void {
  const own = ownFolderReached(root, hostPath);
  if (own !== undefined) {
    throw refuse(subject, `would reach ${own}, where this program keeps its own files`, { hostPath, ownFolder: own });
  }
}

/**
 * The host path for a device path under `root`: `mapDevicePath('/st', '\\temp')` is `/st/temp`.
 * Throws PATH_REFUSED (naming the path and the reason) for anything that could end up outside `root`.
 */
export function mapDevicePath(root: string, devicePath: string): string {
  if (typeof root !== 'string' || root === '') {
    throw new DockhandError('PATH_REFUSED', "the station's folder is not set, so no device path can be placed; refused");
  }
  const base = path.resolve(root);
  const where = `the station's folder (${base})`;
  const segments = deviceSegments(devicePath, where);
  const subject = `the device path '${shown(devicePath)}'`;

  // Walk the part that already exists, reusing existing spellings and checking every link on the way:
  // a link is followed by the OS when we later write, so its target must stay inside the folder.
  const realRoot = tryRealpath(base);
  let current = base;
  let walking = realRoot !== undefined;
  for (const segment of segments) {
    const existing = walking ? existingSpelling(current, segment) : undefined;
    if (existing === undefined) {
      walking = false;
      current = path.join(current, segment);
      continue;
    }
    current = path.join(current, existing);
    if (fs.lstatSync(current, { throwIfNoEntry: false })?.isSymbolicLink()) {
      const target = tryRealpath(current);
      if (target === undefined) {
        throw refuse(subject, `goes through a link inside ${where} that points nowhere`, { devicePath, root: base });
      }
      if (realRoot !== undefined && !isInside(realRoot, target)) {
        throw refuse(subject, `goes through a link that points outside ${where}, to ${target}`, { devicePath, root: base });
      }
    }
  }

  // Belt and braces: the deepest part that exists, fully resolved, must still be inside the folder.
  if (realRoot !== undefined) {
    let probe = current;
    while (probe !== base && fs.lstatSync(probe, { throwIfNoEntry: false }) === undefined) probe = path.dirname(probe);
    const real = tryRealpath(probe);
    if (real === undefined || !isInside(realRoot, real)) {
      throw refuse(subject, `resolves outside ${where}`, { devicePath, root: base });
    }
  }
  if (!isInside(base, current)) throw refuse(subject, `resolves outside ${where}`, { devicePath, root: base });
  refuseOwnFolder(base, current, subject);
  return current;
}

/** The device path of a host path inside `root`: `/st/temp/a.exe` → `\temp\a.exe`; the root itself is `\`. */
export function toDevicePath(root: string, hostPath: string): string {
  const base = path.resolve(root);
  const full = path.resolve(base, hostPath);
  if (!isInside(base, full)) {
    throw refuse(`the file '${shown(hostPath)}'`, `is not inside the station's folder (${base})`, { hostPath, root: base });
  }
  const rel = path.relative(base, full);
  return rel === '' ? '\\' : `\\${rel.split(path.sep).join('\\')}`;
}
