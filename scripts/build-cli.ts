// Builds the `dockhand` command as bundled JavaScript, so it starts without compiling TypeScript:
//
//   dist/cli/index.mjs (+ chunks)    the whole CLI. ES modules split per command: `dockhand --help` loads
//                                   one small file, `dockhand station` the station's chunks, and a native
//                                   module (better-sqlite3, serialport, usb) only when a command opens it;
//                                   parse-worker.cjs beside them is the thread that parses large documents.
//   dist/agent/dockhand-agent.mjs    the device agent alone, one minified file to copy onto a device
//                                   (`node dockhand-agent.mjs --usb-gadget --root /data`); it needs
//                                   `serialport` beside it only for serial links.
//
// bin/dockhand.mjs runs dist/cli when it is newer than every source it was built from (inputs.json lists
// them; bin/bundle-current.mjs checks) and the TypeScript sources through tsx otherwise, so an edited
// checkout never runs stale code.
// `npm ci` builds it (the `prepare` script); `npm test` rebuilds it before the tests run.
//
//   node bin/run-ts.mjs scripts/build-cli.ts [--if-possible]
// --if-possible: a missing esbuild (an install without devDependencies) is a note, not a failure; the
// command then runs from the sources.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildOptions, Metafile } from 'esbuild';
import { bundleIsCurrent } from '../bin/bundle-current.mjs';
import { FILE_READING_EXTERNALS, importMetaShim, metaBanner, NATIVE_EXTERNALS } from './bundle.js';
import { buildParseWorker, parseWorkerDefine } from './parse-worker-bundle.js';

export const CLI_DIR = 'dist/cli';
export const AGENT_FILE = 'dist/agent/dockhand-agent.mjs';
const PARSE_WORKER = 'parse-worker.cjs';
/** What bin/dockhand.mjs reads to decide whether the bundle is current. */
export const MANIFEST = 'inputs.json';

export interface CliManifest {
  /** When the build started (ms since the epoch): a source modified after it makes the bundle stale. */
  builtAt: number;
  /** The repository's files the bundles were built from, relative to the repository. */
  inputs: string[];
}

export interface BuildCliResult {
  cliDir: string;
  agentFile: string;
  agentBytes: number;
  manifest: CliManifest;
  cliMeta: Metafile;
}

// esbuild itself (loaded by `dockhand start` to bundle the desktop app) is a native tool, not bundled.
const EXTERNAL = [...NATIVE_EXTERNALS, ...FILE_READING_EXTERNALS, 'esbuild'];

/** Builds both bundles into ROOT/dist (or `outRoot`), replacing the previous build whole. */
export async function buildCli(opts: { root?: string; outRoot?: string } = {}): Promise<BuildCliResult> {
  const { build } = await import('esbuild');
  const root = path.resolve(opts.root ?? path.join(import.meta.dirname, '..'));
  const outRoot = path.resolve(opts.outRoot ?? root);
  const builtAt = Date.now();
  const common: BuildOptions = {
    bundle: true, platform: 'node', format: 'esm', target: 'node22', absWorkingDir: root, logLevel: 'warning',
    external: EXTERNAL, plugins: [importMetaShim(root)], metafile: true, outExtension: { '.js': '.mjs' },
  };

  // Built beside the live folder and swapped in at the end, so a command starting meanwhile sees the old
  // bundle or none (and then runs the sources), never half of one.
  const cliDir = path.join(outRoot, CLI_DIR);
  const fresh = `${cliDir}.building-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  // Chunks sit beside index.mjs, so one banner (two levels up to the repository) fits every file. The
  // parse worker (scripts/parse-worker-bundle.ts) goes with them.
  const cli = await build({
    ...common, entryPoints: { index: path.join(root, 'cli', 'index.ts') }, outdir: fresh, splitting: true,
    sourcemap: 'linked', banner: { js: metaBanner('esm', '../..') }, define: parseWorkerDefine(`${CLI_DIR}/${PARSE_WORKER}`),
  });
  const worker = await buildParseWorker({ root, outfile: path.join(fresh, PARSE_WORKER) });

  const agentFile = path.join(outRoot, AGENT_FILE);
  const agent = await build({
    ...common, entryPoints: [path.join(root, 'cli', 'agent-main.ts')], outfile: agentFile, minify: true,
    legalComments: 'none', banner: { js: metaBanner('esm', '../..') },
  });

  const inputs = new Set<string>(['package.json', 'scripts/build-cli.ts', 'scripts/bundle.ts', 'scripts/parse-worker-bundle.ts', ...worker.inputs]);
  for (const meta of [cli.metafile!, agent.metafile!]) {
    for (const input of Object.keys(meta.inputs)) if (!input.includes('node_modules/')) inputs.add(input);
  }
  const manifest: CliManifest = { builtAt, inputs: [...inputs].sort() };
  writeFileSync(path.join(fresh, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);

  // Two builds at once (two test files) must both end with a whole bundle in place: whichever rename
  // loses finds the other's equally fresh build there and drops its own.
  const old = `${cliDir}.old-${process.pid}`;
  try {
    renameSync(cliDir, old);
  } catch {
    // no previous build, or another build moved it first
  }
  try {
    renameSync(fresh, cliDir);
  } catch {
    rmSync(fresh, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  const agentBytes = agent.metafile!.outputs[path.relative(root, agentFile).split(path.sep).join('/')]?.bytes ?? 0;
  return { cliDir, agentFile, agentBytes, manifest, cliMeta: cli.metafile! };
}

/**
 * Builds unless the bundle is current. Tests call this rather than buildCli(): a rebuild swaps dist/cli for
 * a new folder, which a VM guest reading the repository over 9p at the same moment must not see.
 */
export async function ensureCli(root = path.join(import.meta.dirname, '..')): Promise<{ cliDir: string; agentFile: string }> {
  if (bundleIsCurrent(pathToFileURL(`${path.resolve(root)}/`))) return { cliDir: path.join(root, CLI_DIR), agentFile: path.join(root, AGENT_FILE) };
  return buildCli({ root });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ifPossible = process.argv.includes('--if-possible');
  buildCli().then((r) => {
    const rel = (p: string) => path.relative(process.cwd(), p) || '.';
    process.stdout.write(`built ${rel(r.cliDir)}/ and ${rel(r.agentFile)} (${(r.agentBytes / 1024).toFixed(0)} KiB)\n`);
  }, (err: unknown) => {
    const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /esbuild/.test((err as Error).message);
    if (missing && ifPossible) {
      process.stdout.write('build-cli: esbuild is not installed (no devDependencies); `dockhand` runs from the TypeScript sources\n');
      return;
    }
    process.stderr.write(`build-cli: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
