// The station's data folder, checked before anything is written to it: a folder that cannot be created or
// written says so in words (not "ENOENT … mkdir"); a folder another running station uses is refused (a
// lock file with that station's pid — a lock whose process is gone, after a crash or kill -9, is stale and
// taken over); and the commands that only read a station (status, record) refuse a folder that holds none
// rather than creating an empty one.
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localTargetDb } from './station.js';

export const lockFile = (dataDir: string) => path.join(dataDir, 'station.lock');

/** The OS's per-user application data folder, as Electron's userData would be. */
export function defaultDataDir(): string {
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Dockhand');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Dockhand');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'dockhand');
}

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** The nearest folder on the way to `dir` that exists. */
function existingAncestor(dir: string): string {
  let p = dir;
  while (!existsSync(p) && path.dirname(p) !== p) p = path.dirname(p);
  return p;
}

/** Why a folder cannot be used, in words, from the error creating or writing it. */
export function folderProblem(dir: string, err: unknown): string {
  let code = (err as { code?: string }).code;
  if (code === 'ENOENT') {
    // mkdir -p reports a read-only or unwritable parent as "no such file": ask the parent that exists.
    try {
      accessSync(existingAncestor(dir), constants.W_OK);
    } catch (denied) {
      code = (denied as { code?: string }).code ?? code;
    }
  }
  const parent = path.dirname(dir);
  switch (code) {
    case 'EROFS': return `${dir} is on a read-only disk; give a --data folder on a disk the station can write`;
    case 'EACCES':
    case 'EPERM': return `${dir} cannot be written by this user (permission denied); give a --data folder you own, or fix its permissions`;
    case 'ENOENT': return `${dir} cannot be created: ${parent} does not exist or is read-only; create it first or give another --data folder`;
    case 'ENOTDIR': return `${dir} cannot be the data folder: part of that path is a file, not a folder`;
    case 'ENOSPC': return `${dir} cannot be written: the disk is full`;
    default: return `${dir} cannot be used as the data folder (${err instanceof Error ? err.message : String(err)})`;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'; // it exists, but belongs to someone else
  }
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
    return typeof v.pid === 'number' ? { pid: v.pid, host: String(v.host ?? ''), startedAt: String(v.startedAt ?? '') } : null;
  } catch {
    return null; // half-written or damaged: nobody can be shown to hold it
  }
}

/** The live station holding the folder's lock, if any (on this machine, its process still running). */
export function lockHolder(dataDir: string): LockInfo | null {
  const held = readLock(lockFile(dataDir));
  return held && (held.host !== os.hostname() || alive(held.pid)) ? held : null;
}

/**
 * Makes sure the folder exists and is writable, and takes its lock; returns the release function.
 * Throws an Error whose message says what is wrong and what to do.
 */
export function claimDataFolder(dataDir: string): () => void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new Error(folderProblem(dataDir, err));
  }
  const file = lockFile(dataDir);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw new Error(folderProblem(dataDir, err));
      const held = readLock(file);
      // Another machine's pid means nothing here: a shared folder with a lock from elsewhere is respected.
      if (held && held.pid !== process.pid && (held.host !== mine.host || alive(held.pid))) {
        throw new Error(`another station is using ${dataDir} (pid ${held.pid}${held.host !== mine.host ? ` on ${held.host}` : ''}, ` +
          `started ${held.startedAt}); stop it first, or give this one another --data folder`);
      }
      rmSync(file, { force: true }); // stale: its process is gone (a crash, kill -9)
      continue;
    }
    writeSync(fd, `${JSON.stringify(mine)}\n`);
    closeSync(fd);
    return () => {
      if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
    };
  }
  throw new Error(`could not take the lock ${file}; another station may be starting on ${dataDir}`);
}

/** For commands that read a station: the folder must hold one. */
export function requireStationData(dataDir: string): void {
  if (!existsSync(dataDir)) throw new Error(`${dataDir} does not exist; give the --data folder the station runs with`);
  if (!statSync(dataDir).isDirectory()) throw new Error(`${dataDir} is not a folder`);
  if (!existsSync(localTargetDb(dataDir))) {
    throw new Error(`${dataDir} holds no station (no ${path.relative(dataDir, localTargetDb(dataDir))}); check --data`);
  }
}
