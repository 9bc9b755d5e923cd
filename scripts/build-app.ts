// Builds what Electron loads: dist/main.cjs (the shell + the engine it runs), dist/parse-worker.cjs (the
// thread that parses large documents, scripts/parse-worker-bundle.ts) and dist/preload.cjs (the sandboxed
// preload, which cannot load modules and so must be one file). Run: `npm run build:app`.
//
// Native modules stay outside the bundle (they are loaded from node_modules, unpacked from the asar by
// electron-builder); import.meta in the sources is rewritten as scripts/bundle.ts explains (dist/ sits one
// level below the app folder).
import { build } from 'esbuild';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FILE_READING_EXTERNALS, importMetaShim, metaBanner, NATIVE_EXTERNALS } from './bundle.js';
import { buildParseWorker, parseWorkerDefine } from './parse-worker-bundle.js';

export { FILE_READING_EXTERNALS, NATIVE_EXTERNALS };

export interface BuildAppOptions {
  /** The repository (the folder with package.json). */
  root?: string;
  /** Where main.cjs and preload.cjs go; default ROOT/dist. */
  outDir?: string;
  minify?: boolean;
}

export async function buildApp(opts: BuildAppOptions = {}): Promise<{ main: string; preload: string; parseWorker: string }> {
  const root = path.resolve(opts.root ?? path.join(import.meta.dirname, '..'));
  const outDir = path.resolve(opts.outDir ?? path.join(root, 'dist'));
  const common = {
    bundle: true, platform: 'node', format: 'cjs', target: 'node22', sourcemap: 'linked',
    minify: opts.minify ?? false, logLevel: 'warning', absWorkingDir: root,
  } as const;
  const main = path.join(outDir, 'main.cjs');
  const preload = path.join(outDir, 'preload.cjs');
  const parseWorker = path.join(outDir, 'parse-worker.cjs');
  await build({
    ...common,
    entryPoints: [path.join(root, 'electron', 'main', 'index.ts')],
    outfile: main,
    external: [...NATIVE_EXTERNALS, ...FILE_READING_EXTERNALS],
    plugins: [importMetaShim(root)],
    banner: { js: metaBanner('cjs', '..') },
    // dist/ is one level below the app folder, as in the repository
    define: parseWorkerDefine(path.join('dist', 'parse-worker.cjs')),
  });
  await buildParseWorker({ root, outfile: parseWorker, minify: opts.minify ?? false });
  await build({
    ...common,
    // The sandboxed preload's require() knows only 'electron' and a few Node built-ins: bundle the rest.
    entryPoints: [path.join(root, 'electron', 'preload', 'index.ts')],
    outfile: preload,
    external: ['electron'],
    minify: true, // it is parsed on every page load; the source map keeps it readable
  });
  return { main, preload, parseWorker };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv.includes('--outdir') ? process.argv[process.argv.indexOf('--outdir') + 1] : undefined;
  buildApp({ ...(out ? { outDir: out } : {}), minify: process.argv.includes('--minify') }).then((r) => {
    process.stdout.write(`built ${path.relative(process.cwd(), r.main)} and ${path.relative(process.cwd(), r.preload)}\n`);
  }, (err: unknown) => {
    process.stderr.write(`build-app: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
