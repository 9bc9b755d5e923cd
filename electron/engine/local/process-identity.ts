// Telling a process apart from a later one that got the same pid, and ending a command's whole process group
// after a restart (issue 7: "a crash never runs anything twice"). A command runs in a process group of its
// own whose id is its pid (command-line.ts); its pid and its start time are recorded before anything else
// happens, so the next start can find it.
//
// Start time, as the OS reports it:
// - Linux: field 22 of /proc/<pid>/stat (clock ticks after boot), read without running anything.
// - macOS: `ps -o lstart= -p <pid>` (the start time to the second).
// - Windows: the process's CreationDate from CIM (100 ns resolution), through PowerShell.
// A matching start time means the very process that was recorded. When the recorded process is gone but
// its group is still there (the program exited and left children behind), the group is still the command's:
// the kernel does not hand out a pid that is still in use as a process group id.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function procStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The OS's start time of `pid` as an opaque string, or null when there is no such process. */
export function processStartTime(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    if (process.platform === 'linux') {
      const fields = procStat(pid);
      // fields[0] is field 3 (state); field 22 (starttime) is fields[19]. A zombie has ended.
      return fields && fields[0] !== 'Z' ? `linux:${fields[19]}` : null;
    }
    if (process.platform === 'win32') {
      const out = execFileSync('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command',
        `(Get-CimInstance Win32_Process -Filter "ProcessId=${pid}").CreationDate.ToFileTimeUtc()`], { encoding: 'utf8', windowsHide: true, timeout: 10_000 }).trim();
      return out ? `win32:${out}` : null;
    }
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', timeout: 10_000 }).trim();
    return out ? `${process.platform}:${out}` : null;
  } catch {
    return null; // ps exits non-zero for a pid that does not exist
  }
}

/** Members of process group `pgid` that have not ended (zombies count as ended: they wait only to be reaped). */
export function groupAlive(pgid: number): boolean {
  if (process.platform === 'linux') {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const fields = procStat(Number(name));
      if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z') return true; // fields[2] is field 5 (pgrp)
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: gone already
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gone(pgid: number, withinMs: number): Promise<boolean> {
  for (const until = Date.now() + withinMs; Date.now() < until; await sleep(25)) {
    if (!groupAlive(pgid)) return true;
  }
  return !groupAlive(pgid);
}

/**
 * Ends the process group a recorded command started (pid and start time as recorded): SIGTERM to the whole
 * group, SIGKILL after `graceMs`. 'gone': nothing of it was left; 'reused': the pid now belongs to another
 * process, which is left alone; 'ended': it was running and has been ended.
 */
export async function endRecordedProcess(pid: number, startTime: string, graceMs = 3000): Promise<'ended' | 'gone' | 'reused'> {
  const now = processStartTime(pid);
  if (now !== null && now !== startTime) return 'reused';
  if (process.platform === 'win32') {
    if (now === null) return 'gone';
    try {
      execFileSync('taskkill', ['/pid', String(pid), '/T', '/F'], { windowsHide: true, timeout: 10_000 });
    } catch {
      // it ended meanwhile
    }
    return 'ended';
  }
  if (now === null && !groupAlive(pid)) return 'gone';
  signalGroup(pid, 'SIGTERM');
  if (!(await gone(pid, graceMs))) {
    signalGroup(pid, 'SIGKILL');
    await gone(pid, 5000);
  }
  return 'ended';
}
