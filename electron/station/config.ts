// The station's config file (DATA/station.json): what a bench keeps between runs — its server, serial ports,
// USB filters, line settings, rate limit, command policy (and the station programs commands may use) and
// concurrency. Command-line options override it.
import { existsSync, readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

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
});

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
