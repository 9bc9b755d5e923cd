// Devices for board layout tests, made the way the station makes them: facts → the real verdict module →
// the contract's Device. Only the facts are invented (a bench of N devices in every state); the verdicts,
// words and per-package results are the product's own.
import type { Device, Snapshot, StationClient, Change, Command, CommandResult } from '../../shared/contract/station-api.js';
import { deviceVerdict, packageResults, type VerdictInput } from '../../shared/model/verdict.js';
import { packageResultWords } from '../../shared/model/verdict-words.js';
import { eventView, verdictView } from '../../electron/station/records/device-view.js';

const NOW = Date.UTC(2026, 10, 22, 10, 30, 0);
const SHA = (i: number) => createHex(i);

function createHex(seed: number): string {
  let x = seed * 2654435761;
  let out = '';
  for (let i = 0; i < 64; i += 1) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += (x >>> 16 & 15).toString(16);
  }
  return out;
}

const PACKAGES = ['Base image 4.2', 'Inventory app 2.1', 'Scanner firmware 7.0'];

function facts(kind: number, i: number): VerdictInput {
  const packages = PACKAGES.map((name, k) => ({ id: `PKG-${k}`, name, state: 'installed' as const, required: true, accepted: false, createdAt: k }));
  const ok = (k: number, at: number) => ({
    packageId: `PKG-${k}`, name: PACKAGES[k]!, sha256: SHA(k), startedAt: at - 20_000, endedAt: at, outcome: 'success' as const,
    failedPhase: null, exitCode: k === 0 ? null : 0, reason: '',
  });
  const done = { kind: 'download' as const, state: 'done' as const, phase: 'executed' as const, wait: { kind: 'none' as const }, lastError: '' };
  const base: VerdictInput = {
    now: NOW, docked: true, packages, transfers: [],
    tasks: PACKAGES.map((_, k) => ({ ...done, packageId: `PKG-${k}` })), history: PACKAGES.map((_, k) => ok(k, NOW - 600_000 + k * 30_000 + i * 1000)),
  };
  switch (kind) {
    case 0: // failed: the firmware's command exited with 3
      return { ...base, history: [ok(0, NOW - 90_000), ok(1, NOW - 60_000), { ...ok(2, NOW - 30_000), outcome: 'failed', failedPhase: 'command', exitCode: 3, reason: 'the command exited with code 3' }] };
    case 1: // working: pushing package 2 of 3
      return {
        ...base, history: [ok(0, NOW - 60_000)],
        packages: packages.map((p, k) => (k === 0 ? p : { ...p, state: 'scheduled' as const })),
        tasks: [{ ...done, packageId: 'PKG-0' }, { ...done, packageId: 'PKG-1', state: 'running', phase: 'started' }, { ...done, packageId: 'PKG-2', state: 'queued', phase: '' }],
        transfers: [{ packageId: 'PKG-1', leg: 'push', bytesDone: (i * 7919) % 1000 * 4096, total: 4096 * 1000, active: true }],
      };
    case 2: // waiting for acceptance of an optional package
      return {
        ...base, packages: [...packages, { id: 'PKG-X', name: 'Extras (optional)', state: 'awaiting-acceptance', required: false, accepted: false, createdAt: 9 }],
        tasks: [...base.tasks, { ...done, packageId: 'PKG-X', state: 'queued', phase: '', wait: { kind: 'acceptance' } }],
      };
    case 3: // undocked mid-transfer
      return {
        ...base, docked: false, history: [ok(0, NOW - 60_000)],
        packages: packages.map((p, k) => (k === 0 ? p : { ...p, state: 'scheduled' as const })),
        tasks: [{ ...done, packageId: 'PKG-0' }, { ...done, packageId: 'PKG-1', state: 'queued', phase: 'started', wait: { kind: 'dock' } }, { ...done, packageId: 'PKG-2', state: 'queued', phase: '', wait: { kind: 'dock' } }],
        transfers: [{ packageId: 'PKG-1', leg: 'push', bytesDone: 1536 * 1024, total: 4096 * 1000, active: false }],
      };
    case 4: // waiting for the server
      return {
        ...base, history: [], packages: packages.map((p) => ({ ...p, state: 'needs-instructions' as const })),
        tasks: PACKAGES.map((_, k) => ({ ...done, kind: 'instruction' as const, packageId: `PKG-${k}`, state: 'queued' as const, phase: '' as const, wait: { kind: 'server' as const, until: NOW + 100_000 } })),
      };
    default:
      return base;
  }
}

/** Verdict mix over a bench: mostly done and working, a few failures, waits and undocks. */
const MIX = [5, 1, 5, 0, 1, 5, 2, 5, 1, 3, 5, 1, 4, 5, 1, 5];

export function benchDevices(n: number): Device[] {
  return Array.from({ length: n }, (_, i) => {
    const input = facts(MIX[i % MIX.length]!, i);
    const results = packageResults(input);
    const id = `SCANNER-${String(41 + i).padStart(4, '0')}`;
    return {
      id, name: `scanner-${41 + i}`, port: `/dev/serial/by-path/pci-0000:00:14.0-usb-0:${1 + (i % 4)}.${1 + Math.floor(i / 4)}`,
      slot: `Slot ${i + 1}`, state: input.docked ? 'docked' : 'undocked', currentPackage: '', lastResult: '',
      lastDockedAt: new Date(NOW - 900_000).toISOString(), undockReason: input.docked ? '' : 'the port went away',
      verdict: verdictView(deviceVerdict(input), NOW),
      packages: results.map((r) => ({ id: r.id, name: r.name, result: r.result, words: packageResultWords(r), phase: r.phase, reason: r.reason, exitCode: r.exitCode, sha256: r.sha256, startedAt: null, endedAt: null })),
      history: input.history.map(eventView), provisionedOffline: false, kitProfile: '', messagesWaiting: 0,
    };
  });
}

export function benchSnapshot(n: number): Snapshot {
  return {
    station: {
      id: 'STATION-BENCH-1', version: '0.1.0', demo: false, online: true, dataDir: '/srv/dockhand', root: '/srv/dockhand/root', host: 'bench-7',
      contact: { state: 'ok', server: 'dm.example.com:8080', problem: '', retryAt: null, waiting: 0 }, storageProblem: '',
      fieldKit: { asOf: null, defaultProfile: null, profiles: [] },
    },
    devices: benchDevices(n), tasks: [], transfers: [], packages: [], activity: [],
    settings: { server: 'http://dm.example.com:8080/devicemgmt/server.aspx', pollIntervalMs: 60_000, rateLimit: 0, allowCommands: true, serialPorts: [], baudRate: 115200, usb: [], concurrency: 8, profiles: [], defaultProfile: '' },
  };
}

/** A station service double serving a fixed snapshot (the board's layout is under test, not the engine). */
export class FixedStation implements StationClient {
  readonly commands: Command[] = [];
  constructor(private readonly snapshot: Snapshot) {}
  async getSnapshot(): Promise<Snapshot> {
    return this.snapshot;
  }
  subscribe(_listener: (c: Change) => void): () => void {
    return () => undefined;
  }
  async execute(command: Command): Promise<CommandResult> {
    this.commands.push(command);
    return { ok: true, message: 'done' };
  }
}
