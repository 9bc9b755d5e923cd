// The agent's own record of what the station did to the device: every file it received (where, size,
// SHA-256) and every command it ran (with how it ended), as one JSON file in the state folder. It is the
// device-side answer to "what is installed here?" when no station is attached, and what a technician reads
// on the device itself. Written to a temporary file and renamed, so a power cut leaves the old or the new
// record, never half of one. Commands keep the most recent MAX_COMMANDS entries.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface InstalledFile {
  path: string;
  size: number;
  sha256: string;
  at: string;
}

export interface CommandRun {
  commandLine: string;
  directory: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  at: string;
  /** The end of the output, for a first look without the station. */
  outputTail: string;
}

export interface InstalledState {
  files: InstalledFile[];
  commands: CommandRun[];
}

const MAX_COMMANDS = 200;
const TAIL_CHARS = 2000;

export class InstalledRecord {
  private state: InstalledState = { files: [], commands: [] };
  private saving: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  async load(): Promise<void> {
    try {
      const value = JSON.parse(await fs.readFile(this.file, 'utf8')) as Partial<InstalledState>;
      this.state = { files: Array.isArray(value.files) ? value.files : [], commands: Array.isArray(value.commands) ? value.commands : [] };
    } catch {
      this.state = { files: [], commands: [] }; // first start, or a record nobody can read: begin a new one
    }
  }

  fileReceived(entry: Omit<InstalledFile, 'at'>): Promise<void> {
    this.state.files = this.state.files.filter((f) => f.path !== entry.path);
    this.state.files.push({ ...entry, at: new Date().toISOString() });
    return this.save();
  }

  fileRemoved(devicePath: string): Promise<void> {
    this.state.files = this.state.files.filter((f) => f.path !== devicePath);
    return this.save();
  }

  commandRan(entry: Omit<CommandRun, 'at' | 'outputTail'> & { output: string }): Promise<void> {
    const { output, ...rest } = entry;
    this.state.commands.push({ ...rest, at: new Date().toISOString(), outputTail: output.slice(-TAIL_CHARS) });
    this.state.commands = this.state.commands.slice(-MAX_COMMANDS);
    return this.save();
  }

  /** Saves are chained, so two quick updates never interleave their writes. */
  private save(): Promise<void> {
    const text = JSON.stringify(this.state, null, 2);
    this.saving = this.saving.then(async () => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      await fs.writeFile(tmp, text);
      await fs.rename(tmp, this.file);
    });
    return this.saving;
  }
}
