// The station's config file (DATA/station.json): what a bench keeps between runs — its server, serial ports,
// USB filters, line settings, rate limit, command policy (and the station programs commands may use) and
// concurrency. Command-line options override it.
import { existsSync, readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { deviceIdProblem } from '../engine/confine.js';

export const StationConfigSchema = z.object({
  server: z.string().regex(/^https?:\/\//i, 'must be an http:// or https:// URL').optional(),
  serialPorts: z.array(z.string().min(1)).default([]),
  baudRate: z.number().int().positive().default(115200),
  usb: z.array(z.string().regex(/^[0-9a-f]{1,4}(:[0-9a-f]{1,4})?$/i, 'must be VID:PID in hex, e.g. 1a86:7523')).default([]),
  rateLimit: z.number().int().nonnegative().default(0),
  // Largest download of a package whose instructions declare no PackageSize (README "Bounds").
  maxUndeclaredDownloadBytes: z.number().int().positive().default(512 * 1024 * 1024),
  allowCommands: z.boolean().default(false),
  // Station programs a server's command line may name by a bare name; `sh` here would let a server run anything.
  allowPrograms: z.array(z.string().min(1).max(255).regex(/^[^\\/]+$/, 'must be a bare program name (no folder), e.g. tar')).default([]),
  bandwidth: z.enum(['auto', 'low', 'high']).default('auto'),
  concurrency: z.number().int().min(1).max(64).default(8),
  // Field-kit profiles (docs/field-kit.md): a name a technician knows for a device identity the server knows.
  // None named: every device that docked here is its own profile, and the first one docked is the default.
  profiles: z.array(ProfileSchema()).default([])
    .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, 'two profiles have the same name'),
  defaultProfile: z.string().min(1).max(128).optional(),
});

function ProfileSchema() {
  return z.object({
    name: z.string().trim().min(1).max(64),
    device: z.string().superRefine((id, ctx) => {
      const problem = deviceIdProblem(id);
      if (problem) ctx.addIssue({ code: 'custom', message: `the device ID ${problem}` });
    }),
  });
}

/** `NAME=DEVICE-ID` (from --profile) → a profile; the device ID is checked like a docked device's. */
export function parseProfile(text: string): { name: string; device: string } {
  const at = text.indexOf('=');
  const name = at > 0 ? text.slice(0, at).trim() : '';
  const device = at > 0 ? text.slice(at + 1).trim() : '';
  const problem = device ? deviceIdProblem(device) : 'is empty';
  if (!name || problem) throw new Error(`--profile takes NAME=DEVICE-ID (e.g. scanner=SCANNER-01), not '${text}'${name && problem ? `: the device ID ${problem}` : ''}`);
  return { name, device };
}

export type StationConfig = z.infer<typeof StationConfigSchema>;

export const configFile = (dataDir: string) => path.join(dataDir, 'station.json');

/** Reads DATA/station.json (defaults when absent); a broken file is an error that names the file and field. */
export function readConfig(dataDir: string): StationConfig {
  const file = configFile(dataDir);
  let raw: unknown = {};
  if (existsSync(file)) {
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file} is not valid JSON (${(err as Error).message}); fix or delete it`);
    }
  }
  const parsed = StationConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function writeConfig(dataDir: string, config: StationConfig): void {
  const file = configFile(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(StationConfigSchema.parse(config), null, 2)}\n`);
  renameSync(tmp, file);
}
