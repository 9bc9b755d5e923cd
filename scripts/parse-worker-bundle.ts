// The parse worker in a bundled build. electron/protocol/parse-off-thread.ts starts a worker thread for large
// documents; from the TypeScript sources that is parse-worker-boot.mjs (tsx, then the .ts module), which a
// bundle cannot use: the sources and tsx are not there. So every bundle build that contains the engine or
// the server also
//   1. emits the worker as a bundle of its own beside its main bundle (buildParseWorker), and
//   2. tells the main bundle where that file is, relative to the app folder (parseWorkerDefine), through
//      an esbuild `define` that parse-off-thread.ts reads as DOCKHAND_PARSE_WORKER.
// The main bundle must also rewrite import.meta as scripts/build-app.ts does (the worker's path is resolved
// from the app folder, found through parse-off-thread.ts's own import.meta.url).
//
// The worker bundle is CommonJS: it loads in a worker whether the main bundle is CommonJS (Electron's main
// process) or an ES module (the CLI), inside app.asar too (Electron reads asar files in workers).
import path from 'node:path';

/** The worker's source, relative to the repository. */
export const PARSE_WORKER_ENTRY = 'electron/protocol/parse-worker.ts';

/** The `define` a main bundle needs: `file` is where the worker bundle sits, relative to the app folder. */
export function parseWorkerDefine(file: string): Record<string, string> {
  return { DOCKHAND_PARSE_WORKER: JSON.stringify(file.split(path.sep).join('/')) };
}

/**
 * Bundles the parse worker (fast-xml-parser and the codecs inside; nothing outside but Node). Returns the
 * repository files it was built from, for a build that records its inputs (scripts/build-cli.ts).
 */
export async function buildParseWorker(opts: { root: string; outfile: string; minify?: boolean }): Promise<{ file: string; inputs: string[] }> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path.join(opts.root, PARSE_WORKER_ENTRY)], outfile: opts.outfile, absWorkingDir: opts.root,
    bundle: true, platform: 'node', format: 'cjs', target: 'node22', sourcemap: 'linked', minify: opts.minify ?? false,
    logLevel: 'warning', metafile: true,
  });
  return { file: opts.outfile, inputs: Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/')) };
}
