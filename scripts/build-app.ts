// Builds what Electron loads: dist/main.cjs (the shell + the engine it runs), dist/parse-worker.cjs (the
// thread that parses large documents, scripts/parse-worker-bundle.ts) and dist/preload.cjs (the sandboxed
// preload, which cannot load modules and so must be one file). Run: `npm run build:app`.
//
// Native modules stay outside the bundle (they are loaded from node_modules, unpacked from the asar by
// electron-builder). The source uses `import.meta.url`/`dirname` to find files next to it (the demo
// catalog, package.json); a CommonJS bundle has no import.meta, so each use is rewritten to the path the
// original source file would have under the app folder — dist/ sits one level below it, as the source
// folders' files do relative to the repository — which keeps those relative paths right in the
// repository and inside app.asar alike.
import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildParseWorker, parseWorkerDefine } from './parse-worker-bundle.js';

export const NATIVE_EXTERNALS = ['electron', 'better-sqlite3', 'serialport', '@serialport/*', 'usb'];
/** Loaded from node_modules too: pdfkit reads its fonts and colour profile from files beside its code. */
export const FILE_READING_EXTERNALS = ['pdfkit'];

export interface BuildAppOptions {
  /** The repository (the folder with package.json). */
  root?: string;
  /** Where main.cjs and preload.cjs go; default ROOT/dist. */
  outDir?: string;
  minify?: boolean;
}

const META = /\bimport\.meta\.(url|dirname|filename)\b/g;

/** Rewrites import.meta.* in the project's own sources to their place relative to the bundle's folder. */
function importMetaShim(root: string): Plugin {
  return {
    name: 'dockhand-import-meta',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const source = await readFile(args.path, 'utf8');
        if (source.search(META) === -1) return undefined;
        const rel = JSON.stringify(path.relative(root, args.path).split(path.sep).join('/'));
        const contents = source.replace(META, (_m, prop: string) => `__dockhandMeta(${rel}).${prop}`);
        return { contents, loader: 'ts' };
      });
    },
  };
}

// `rel` is the source file's path from the app folder; the bundle lives in APP/dist.
const META_HELPER = `const __dockhandMeta = (rel) => {
  const file = require('node:path').join(__dirname, '..', rel);
  return { url: require('node:url').pathToFileURL(file).href, filename: file, dirname: require('node:path').dirname(file) };
};`;

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
    banner: { js: META_HELPER },
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
