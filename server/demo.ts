// The demo catalog (resources/demo/): a few harmless packages, named "Demo: …" and assigned to every
// device, so a fresh install shows the whole poll → download → status cycle on its own. Seeding is
// idempotent: a package whose bytes and fields are already in place is left alone.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { addPackage, assignPackage, getPackage, type AddPackageOptions } from './admin.js';
import { startServer, type RunningServer, type ServerOptions } from './http-server.js';

export const DEMO_DIR = fileURLToPath(new URL('../resources/demo/', import.meta.url));

const demoPackage = z.object({
  id: z.string(),
  name: z.string().startsWith('Demo:'),
  file: z.string(),
  required: z.boolean(),
  localDestination: z.string(),
  commandLine: z.string().optional(),
  shortDescription: z.string().optional(),
  longDescription: z.string().optional(),
});
const demoCatalog = z.object({ about: z.string(), packages: z.array(demoPackage) });

export type DemoPackage = z.infer<typeof demoPackage>;

export async function readDemoCatalog(dir = DEMO_DIR): Promise<DemoPackage[]> {
  const parsed = demoCatalog.safeParse(JSON.parse(await readFile(path.join(dir, 'catalog.json'), 'utf8')));
  if (!parsed.success) throw new Error(`the demo catalog in ${dir} is damaged: ${parsed.error.message}`);
  return parsed.data.packages;
}

function sameFields(d: DemoPackage, have: NonNullable<ReturnType<typeof getPackage>>): boolean {
  return have.name === d.name && have.fileName === d.file && have.required === d.required &&
    have.localDestination === d.localDestination && have.commandLine === d.commandLine &&
    have.shortDescription === d.shortDescription && have.longDescription === d.longDescription;
}

/** Put the demo packages into DIR's catalog (adding or refreshing them) and assign them to '*'. */
export async function seedDemoCatalog(dataDir: string, dir = DEMO_DIR): Promise<string[]> {
  const ids: string[] = [];
  for (const d of await readDemoCatalog(dir)) {
    const file = path.join(dir, d.file);
    const sha256 = createHash('sha256').update(await readFile(file)).digest('hex');
    const have = getPackage(dataDir, d.id);
    if (!have || have.sha256 !== sha256 || !sameFields(d, have)) {
      const o: AddPackageOptions = { file, id: d.id, name: d.name, required: d.required, localDestination: d.localDestination };
      if (d.commandLine !== undefined) o.commandLine = d.commandLine;
      if (d.shortDescription !== undefined) o.shortDescription = d.shortDescription;
      if (d.longDescription !== undefined) o.longDescription = d.longDescription;
      await addPackage(dataDir, o);
    }
    assignPackage(dataDir, d.id, '*');
    ids.push(d.id);
  }
  return ids;
}

/** Seed the demo catalog into `dataDir` and serve it on 127.0.0.1 (a free port unless one is given). */
export async function startDemoServer(dataDir: string, opts: Omit<ServerOptions, 'dataDir' | 'host'> = {}): Promise<RunningServer> {
  await seedDemoCatalog(dataDir);
  return startServer({ port: 0, ...opts, dataDir, host: '127.0.0.1' });
}
