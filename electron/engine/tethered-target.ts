// A docked device as a managed client of its own (architecture §1): its identity comes from the link's
// hello, its packages are pushed from the station's cache over the link, its command lines run on the
// device, and its inventories and collected files are read over the link. While it is docked its
// connection is pass-through ("cradled", Flags bit 0x04) over the station's network; undocked it has none,
// and everything it needs waits for the next dock.
import { DockhandError, describeError } from '../../shared/model/errors.js';
import type { FileFilterItem, FileReport, Identification, Inventory } from '../../shared/protocol/types.js';
import type { ConnectionState } from '../../shared/protocol/flags.js';
import type { DeviceHello, DeviceLink } from '../link/device-link.js';
import type { ClientStore } from '../store/client-store.js';
import type { CollectedFile, CommandOutcome, CommandRun, PackageFile, RunOutcome, Target } from './target.js';
import type { CommandRunRecord } from './command-journal.js';
import { joinDevicePath } from './confine.js';
import type { BandwidthClass } from './local/host-identity.js';
import { networkId } from './local/host-network.js';
import type { Clock } from './clock.js';

/** How often a push's progress is saved and announced: after this much real time, or this share of the file. */
const PUSH_RECORD_EVERY_MS = 250;
const PUSH_RECORD_STEPS = 64;

export interface TetheredTargetOptions {
  id: string;
  store: ClientStore;
  clock: Clock;
  /** The station's own connection class: a docked device reaches the server through it. */
  bandwidth: () => BandwidthClass;
  commandTimeoutMs?: number;
  /** Progress of a push to the device (bytes the device holds). */
  onPush?: (packageId: string, fileName: string, bytesDone: number, total: number, resumedFrom: number) => void;
  log?: (line: string) => void;
}

export const MAX_COLLECTED_FROM_DEVICE = 64 * 1024 * 1024;

export class TetheredTarget implements Target {
  readonly kind = 'tethered' as const;
  readonly id: string;
  private link: DeviceLink | null = null;

  constructor(private readonly opts: TetheredTargetOptions) {
    this.id = opts.id;
  }

  /** The device docked: its link is up and its hello is known. */
  attach(link: DeviceLink): void {
    this.link = link;
    const { store } = this.opts;
    store.setJson('hello', link.hello);
    store.set('port', link.port);
    store.set('docked', '1');
    store.set('last_docked_at', String(this.opts.clock.now()));
  }

  /** The device left (unplugged, bye, link failure). A stale link closing after a re-dock changes nothing. */
  detach(reason: string, link?: DeviceLink): boolean {
    if (link && this.link !== link) return false;
    this.link = null;
    this.opts.store.set('docked', '0');
    this.opts.store.set('undock_reason', reason);
    this.opts.store.set('last_undocked_at', String(this.opts.clock.now()));
    return true;
  }

  get docked(): boolean {
    return this.link !== null && !this.link.closed;
  }

  /** Where the device is docked now, or null. */
  get port(): string | null {
    return this.docked ? this.link!.port : null;
  }

  private requireLink(what: string): DeviceLink {
    if (!this.link || this.link.closed) {
      throw new DockhandError('LINK', `device ${this.id} is not docked, so the station cannot ${what}; it waits for the next dock`, { transient: true });
    }
    return this.link;
  }

  connection(): ConnectionState {
    return this.docked ? { bandwidth: this.opts.bandwidth(), cradled: true } : { bandwidth: 'none', cradled: false };
  }

  private hello(): DeviceHello {
    const h = this.link?.hello ?? this.opts.store.getJson<DeviceHello>('hello');
    if (!h) throw new DockhandError('LINK', `device ${this.id} has never docked; its identity is unknown`, { transient: true });
    return h;
  }

  async identification(): Promise<Identification> {
    const h = this.hello();
    return {
      ID: h.id, DeviceName: h.name, Platform: h.platform, Processor: h.processor, CodePage: h.codePage,
      SystemDefaultLCID: h.lcid, ...(h.userName ? { UserName: h.userName } : {}), ...(h.domain ? { Domain: h.domain } : {}),
      ...(h.network ? { NetworkAdapter: { IPAddress: h.network.ipAddress, IPSubnet: h.network.ipSubnet, MAC: h.network.mac } } : {}),
    };
  }

  async ipAddresses() {
    const n = this.hello().network;
    if (!n?.ipAddress) return [];
    return [{ address: n.ipAddress, subnet: networkId(n.ipAddress, n.ipSubnet ?? '255.255.255.255') }];
  }

  async checkDestination(localDestination: string, fileName: string): Promise<void> {
    joinDevicePath(localDestination, fileName);
  }

  /**
   * Pushes the verified cache file to the device, resuming from what the device already holds (its own
   * checkpoint, asked for each time — the device is the authority on what it has).
   */
  async install(file: PackageFile, localDestination: string, fileName: string, signal?: AbortSignal): Promise<string> {
    const link = this.requireLink('push a package to it');
    const directory = joinDevicePath(localDestination);
    const { size, sha256 } = file;
    const offset = await link.queryPutOffset(directory, fileName, size, sha256);
    if (offset < 0 || offset > size) {
      throw new DockhandError('LINK', `device ${this.id} claims to hold ${offset} bytes of a ${size}-byte file; the push restarts from zero`);
    }
    const devicePath = joinDevicePath(localDestination, fileName);
    // The station's record of a push is for people (status, the board, "resumes at"): a resume starts from
    // what the device says it holds. So it is saved, and announced, at the start, then whenever
    // PUSH_RECORD_EVERY_MS of real time (the engine's clock may be a test's manual one) or a
    // PUSH_RECORD_STEPS-th of the file has passed, and at the end — not per chunk: a database write per
    // 4 KiB was the largest cost of a push on a fast link. A push that fails records where it got to.
    let recordedAt = -Infinity;
    let recordedBytes = offset;
    let reached = offset;
    const record = (bytesDone: number, force = false) => {
      reached = bytesDone;
      const now = performance.now();
      const due = now - recordedAt >= PUSH_RECORD_EVERY_MS || bytesDone - recordedBytes >= size / PUSH_RECORD_STEPS;
      if (!force && bytesDone !== offset && bytesDone < size && !due) return;
      recordedAt = now;
      recordedBytes = bytesDone;
      this.opts.store.saveCheckpoint({ packageId: `push:${devicePath}`, url: `link:${link.port}`, validator: sha256, bytesDone, expectedSize: size, partPath: devicePath }, this.opts.clock.now());
      this.opts.onPush?.(file.packageId ?? fileName, fileName, bytesDone, size, offset);
    };
    record(offset);
    this.opts.log?.(offset > 0
      ? `pushing ${fileName} to device ${this.id}: resuming from byte ${offset} of ${size} (the device kept them)`
      : `pushing ${fileName} to device ${this.id}: ${size} bytes`);
    const saved = await link.putFile({
      directory, fileName, sourceFile: file.path, size, sha256, offset, ...(signal ? { signal } : {}),
      onProgress: (p) => record(p.bytesDone),
    }).catch((err: unknown) => {
      try {
        if (reached !== offset) record(reached, true);
      } catch {
        // the push's own failure is the one to report
      }
      throw err;
    });
    this.opts.store.deleteCheckpoint(`push:${devicePath}`);
    return saved;
  }

  async remove(savedPath: string): Promise<void> {
    // The saved path is what the device answered after the push: checked like any device path before it
    // goes back to the device (which confines it again on its side).
    const devicePath = joinDevicePath(savedPath);
    await this.requireLink(`delete ${devicePath}`).removeFile(devicePath);
  }

  /** The device runs it; a cancel (pause, stop) tells its agent to end the command's process group. */
  async runCommand(commandLine: string, localDestination: string, signal?: AbortSignal, run?: CommandRun): Promise<CommandOutcome> {
    const r = await this.requireLink('run a command on it').runCommand(commandLine, joinDevicePath(localDestination), this.commandTimeoutMs(), {
      ...(run ? { runId: run.runId } : {}), ...(signal ? { signal } : {}),
    });
    return { exitCode: r.exitCode, signal: r.signal, output: r.output, durationMs: r.durationMs };
  }

  /**
   * A run cut off by an undock or a station restart: the device's agent knows it by its run ID. Finished:
   * its outcome. Still running: wait for it. Ended by the agent (the link was lost, the agent restarted):
   * interrupted. Unknown: the RUN never reached the device, so it may start now. An agent without
   * 'run-status' cannot be asked: interrupted, not run again.
   */
  async runOutcome(run: CommandRunRecord, signal?: AbortSignal): Promise<RunOutcome> {
    if (run.state === 'finished' && run.outcome) return { state: 'finished', outcome: run.outcome };
    if (run.state !== 'running') return { state: 'interrupted', reason: run.reason ?? 'the command was interrupted; not run again' };
    const link = this.requireLink('ask how its command ended');
    if (!link.offers('run-status')) {
      return { state: 'interrupted', reason: "the device's agent cannot say how the command ended (it does not offer 'run-status'); not run again" };
    }
    const status = await link.runStatus(run.runId, this.commandTimeoutMs(), signal);
    if (status.state === 'finished' && status.result) {
      const r = status.result;
      return { state: 'finished', outcome: { exitCode: r.exitCode, signal: r.signal, output: r.output, durationMs: r.durationMs } };
    }
    if (status.state === 'unknown') return { state: 'not-started' };
    if (status.state === 'running') {
      throw new DockhandError('LINK', `device ${this.id} still runs '${run.commandLine}' after the station waited for it; it is asked again later`, { transient: true });
    }
    return { state: 'interrupted', reason: `the device's agent ended it (${status.reason ?? 'no reason given'}); not run again` };
  }

  private commandTimeoutMs(): number {
    return this.opts.commandTimeoutMs ?? 10 * 60 * 1000;
  }

  async softwareInventory(items: FileFilterItem[]): Promise<FileReport & { warnings?: string[] }> {
    return this.requireLink('take its software inventory').listFiles(items);
  }

  async machineInventory(): Promise<Inventory> {
    return this.requireLink('take its machine inventory').machineInventory();
  }

  async collectFiles(items: FileFilterItem[]): Promise<CollectedFile[]> {
    const link = this.requireLink('collect files from it');
    const report = await link.listFiles(items);
    const files: CollectedFile[] = [];
    const walk = (dirs: FileReport['Directories']) => {
      for (const d of dirs) {
        for (const f of d.Files) {
          // The device names these files; a name that is not a valid device path is left out, not sent on.
          let devicePath: string;
          try {
            devicePath = joinDevicePath(d.Name, f.Name);
          } catch (err) {
            this.opts.log?.(`left out a file the device listed for collection: ${describeError(err)}`);
            continue;
          }
          files.push({ devicePath, size: f.Size, read: () => link.getFile(devicePath, MAX_COLLECTED_FROM_DEVICE) });
        }
        walk(d.Directories);
      }
    };
    walk(report.Directories);
    return files;
  }
}
