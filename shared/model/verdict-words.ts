// The words for a device's verdict (shared/model/verdict.ts): its title, its one sentence, the short
// detail a tile shows under the title, and a package's result — the same words in the UI, the CLI and the
// provisioning record.
import { describeDelay } from './wait.js';
import type { FailedPhase, PackageResult, Verdict, VerdictKind, WorkPhase } from './verdict.js';

export const VERDICT_TITLES: Record<VerdictKind, string> = {
  done: 'Done', failed: 'Failed', working: 'Working', waiting: 'Waiting', undocked: 'Undocked mid-transfer',
};

export const FAILED_PHASE_WORDS: Record<FailedPhase, string> = {
  location: 'finding the download', download: 'download', verify: 'verification', install: 'saving the file',
  push: 'push to the device', command: 'command',
};

const WORK_PHASE_WORDS: Record<WorkPhase, string> = {
  checking: 'asking the server what it needs', location: 'locating', download: 'downloading', push: 'pushing', command: 'running the command',
};

/** "1:40", "12:05", "2:03:00": a countdown as a clock shows it. */
export function clockDelay(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function waitWords(v: Extract<Verdict, { kind: 'waiting' }>, now: number): string {
  const what = v.packageName ? ` (${v.packageName})` : '';
  const later = v.until !== null ? (v.until > now ? ` in ${describeDelay(v.until - now)}` : ' now') : '';
  switch (v.for) {
    case 'dock': return `Waiting for dock${what}`;
    case 'connection': return `Waiting for a permitted connection${what}`;
    case 'schedule': return `Scheduled${what}${later}`;
    case 'acceptance': return `Waiting for acceptance${v.packageName ? ` of ${v.packageName}` : ''}`;
    case 'server': return `Waiting for the server${later ? `, retrying${later}` : ''}${what}`;
    case 'technician': return `Paused by a technician${what}`;
    case 'retry': return `Retrying${later}${what}`;
    case 'storage': return `Waiting for disk space${what}${later ? `, retrying${later}` : ''}`;
  }
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** The one sentence that says the verdict; the title and the icon say the same thing in short. */
export function verdictWords(v: Verdict, now: number): string {
  switch (v.kind) {
    case 'done':
      return v.installed === 0 ? 'Done: nothing to install' : `Done: ${v.installed} package${v.installed === 1 ? '' : 's'} installed`;
    case 'failed': {
      const code = v.exitCode !== null && !v.reason.includes(`code ${v.exitCode}`) ? ` (exit code ${v.exitCode})` : '';
      const more = v.failures > 1 ? `; ${v.failures - 1} more failed` : '';
      // "command exited with code 3" names its phase already; "the SHA-256 does not match" does not.
      const phase = v.reason.toLowerCase().startsWith(FAILED_PHASE_WORDS[v.phase]) ? '' : `${FAILED_PHASE_WORDS[v.phase]}: `;
      return `Failed: ${v.packageName}, ${phase}${v.reason}${code}${more}${v.retrying ? '; retrying' : ''}`;
    }
    case 'working':
      if (v.phase === 'checking') return 'Working: asking the server what it needs';
      return `Working: package ${v.index} of ${v.of}, ${WORK_PHASE_WORDS[v.phase]} ${v.packageName}${v.percent !== null ? `, ${v.percent} %` : ''}`;
    case 'waiting':
      return waitWords(v, now);
    case 'undocked':
      return `Undocked mid-transfer: ${v.packageName}${v.resumeAt > 0 ? `, resumes at ${bytes(v.resumeAt)}${v.total ? ` of ${bytes(v.total)}` : ''}` : ''}; dock it again`;
  }
}

/** The verdict's detail under its title, as a tile shows it ("Scanner firmware: the command exited with code 3"). */
export function verdictDetail(v: Verdict, now: number): string {
  switch (v.kind) {
    case 'done':
      return v.installed === 0 ? 'nothing to install' : `${v.installed} package${v.installed === 1 ? '' : 's'} installed`;
    case 'failed': {
      const code = v.exitCode !== null && !v.reason.includes(`code ${v.exitCode}`) ? ` (exit code ${v.exitCode})` : '';
      return `${v.packageName}: ${v.reason}${code}${v.failures > 1 ? `; ${v.failures - 1} more failed` : ''}`;
    }
    case 'working':
      if (v.phase === 'checking') return 'asking the server what it needs';
      return `${v.index} of ${v.of}: ${WORK_PHASE_WORDS[v.phase]} ${v.packageName}`;
    case 'waiting':
      return waitWords(v, now).replace(/^Waiting /, '').replace(/^(Scheduled|Paused|Retrying)/, (w) => w.toLowerCase());
    case 'undocked':
      return `mid-transfer: ${v.packageName}${v.resumeAt > 0 ? `, resumes at ${bytes(v.resumeAt)}${v.total ? ` of ${bytes(v.total)}` : ''}` : ''}`;
  }
}

/** Short words for one package's result, as the detail view and the record print them. */
export function packageResultWords(r: PackageResult): string {
  switch (r.result) {
    case 'installed': return r.exitCode !== null ? `installed, command exit code ${r.exitCode}` : 'installed';
    case 'failed': {
      const phase = FAILED_PHASE_WORDS[(r.phase ?? 'download') as FailedPhase];
      return r.reason.toLowerCase().startsWith(phase) ? `failed: ${r.reason}` : `failed in ${phase}: ${r.reason}`;
    }
    case 'working': return WORK_PHASE_WORDS[(r.phase ?? 'download') as WorkPhase];
    case 'waiting': return r.waitFor ? `waiting (${r.waitFor})` : 'waiting';
    case 'pending': return 'not started';
  }
}
