// The station itself as a managed client: its files live under a root folder (`--root`), LocalDestination
// mapped into it (`\temp` → ROOT/temp) with any escape refused; commands run there without a shell.
// The station is never cradled: cradled-only packages never run for it.
import { copyFile, link, lstat, mkdir, readFile, rm, rename } from 'node:fs/promises';
import path from 'node:path';
import type { FileFilterItem } from '../../shared/protocol/types.js';
import type { CollectedFile, CommandOutcome, CommandRun, PackageFile, RunOutcome, Target } from './target.js';
import { INTERRUPTED, type CommandRunRecord } from './command-journal.js';
import type { ConnectionState } from '../../shared/protocol/flags.js';
import { checkFileName, confineSavedPath, mapDevicePath } from './confine.js';
import { runCommandLine } from './local/command-line.js';
import { makeProgramRunnable } from './local/runnable.js';
import { softwareInventory } from './local/software-inventory.js';
import { selectFilesForCollection } from './local/file-collection.js';
import { machineInventory } from './local/machine-inventory.js';
import { hostIdentification, hostIPAddresses, type BandwidthClass } from './local/host-identity.js';

export interface LocalTargetOptions {
  id: string;
  root: string;
  bandwidth: () => BandwidthClass;
  commandTimeoutMs?: number;
  /** Station programs a command line may name by a bare name (the allow-list); none by default. */
  hostPrograms?: readonly string[];
}

export class LocalTarget implements Target {
  readonly kind = 'local' as const;
  readonly id: string;
  readonly root: string;

  constructor(private readonly opts: LocalTargetOptions) {
    this.id = opts.id;
    this.root = opts.root;
  }

  connection(): ConnectionState {
    return { bandwidth: this.opts.bandwidth(), cradled: false };
  }

  async identification() {
    return hostIdentification(this.id);
  }

  async ipAddresses() {
    return hostIPAddresses();
  }

  async checkDestination(localDestination: string, fileName: string): Promise<void> {
    await mkdir(this.root, { recursive: true });
    mapDevicePath(this.root, localDestination);
    checkFileName(fileName);
  }

  async install(file: PackageFile, localDestination: string, fileName: string): Promise<string> {
    await mkdir(this.root, { recursive: true });
    const dir = mapDevicePath(this.root, localDestination);
    const name = checkFileName(fileName);
    await mkdir(dir, { recursive: true });
    const dest = path.join(dir, name);
    // Link when the cache and the root share a disk (no second copy of a large package), else copy; via a
    // temporary name so a crash never leaves half a file under the package's name.
    const tmp = path.join(dir, `.${name}.dockhand-tmp`);
    await rm(tmp, { force: true });
    try {
      await link(file.path, tmp);
    } catch {
      await copyFile(file.path, tmp);
    }
    await rename(tmp, dest).catch(async (err: unknown) => {
      await rm(tmp, { force: true });
      throw err;
    });
    return dest;
  }

  async remove(savedPath: string): Promise<void> {
    const file = confineSavedPath(this.root, savedPath);
    if ((await lstat(file).catch(() => undefined))?.isDirectory()) {
      throw new Error(`refusing to delete ${savedPath}: it is a folder, and a package saves one file`);
    }
    await rm(file, { force: true });
  }

  async runCommand(commandLine: string, localDestination: string, signal?: AbortSignal, run?: CommandRun): Promise<CommandOutcome> {
    const cwd = mapDevicePath(this.root, localDestination);
    await mkdir(cwd, { recursive: true });
    await makeProgramRunnable(commandLine, cwd, this.root);
    const r = await runCommandLine({
      commandLine, cwd, root: this.root, hostPrograms: this.opts.hostPrograms ?? [],
      ...(this.opts.commandTimeoutMs ? { timeoutMs: this.opts.commandTimeoutMs } : {}),
      ...(signal ? { signal } : {}), ...(run?.spawned ? { onSpawn: run.spawned } : {}),
    });
    return { exitCode: r.exitCode, signal: r.signal, output: r.output, durationMs: r.durationMs };
  }

  /**
   * A run recorded before a restart: the start-up (endLeftoverCommands) already ended what was left of it
   * and recorded how, so the journal knows. A run still marked running here was never seen to start.
   */
  async runOutcome(run: CommandRunRecord): Promise<RunOutcome> {
    if (run.state === 'finished' && run.outcome) return { state: 'finished', outcome: run.outcome };
    return { state: 'interrupted', reason: run.reason ?? INTERRUPTED.starting };
  }

  async softwareInventory(items: FileFilterItem[]) {
    await mkdir(this.root, { recursive: true });
    return softwareInventory(this.root, items);
  }

  async machineInventory() {
    await mkdir(this.root, { recursive: true });
    return machineInventory({ root: this.root });
  }

  async collectFiles(items: FileFilterItem[]): Promise<CollectedFile[]> {
    await mkdir(this.root, { recursive: true });
    const files = await selectFilesForCollection(this.root, items);
    return files.map((f) => ({ devicePath: f.devicePath, size: f.size, read: () => readFile(f.hostPath) }));
  }
}
