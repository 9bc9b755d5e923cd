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
