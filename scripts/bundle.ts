// What every Dockhand bundle shares: which modules stay outside (native ones, loaded from node_modules at
// run time), and how the sources' `import.meta.url`/`dirname`/`filename` keep pointing where they did.
//
// The sources find files next to themselves (the demo catalog, package.json, renderer/dist) through
// import.meta. Inside a bundle that would name the bundle's own file, so each use is rewritten to the path
// the original source file has relative to the repository, resolved at run time from where the bundle
// sits: BUNDLE_DIR/<up>/<source path>. That keeps the paths right in the checkout, in an npm install and
// inside Electron's app.asar alike.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Plugin } from 'esbuild';

/** Native modules (and Electron) are never bundled: their .node files load from node_modules. */
export const NATIVE_EXTERNALS = ['electron', 'better-sqlite3', 'serialport', '@serialport/*', 'usb'];
/** Loaded from node_modules too: pdfkit reads its fonts and colour profile from files beside its code. */
export const FILE_READING_EXTERNALS = ['pdfkit'];

const META = /\bimport\.meta\.(url|dirname|filename)\b/g;

/** Rewrites import.meta.* in the project's own sources to `__dockhandMeta(<path from the repository>)`. */
export function importMetaShim(root: string): Plugin {
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

/**
 * The banner defining `__dockhandMeta` for one output format. `up` is the way from the bundle's folder
 * back to the repository ('..' for dist/, '../..' for dist/cli/).
 *
 * The ESM banner also gives the bundle a `require`: bundled CommonJS packages (ws, zod's CJS build…)
 * call require() for Node built-ins and for the external native modules, which an ES module lacks.
 */
export function metaBanner(format: 'cjs' | 'esm', up: string): string {
  const helper = (here: string) => `const __dockhandMeta = (rel) => {
  const file = __dockhandPath.join(${here}, ${JSON.stringify(up)}, rel);
  return { url: __dockhandUrl.pathToFileURL(file).href, filename: file, dirname: __dockhandPath.dirname(file) };
};`;
  if (format === 'cjs') {
    return `const __dockhandPath = require('node:path');\nconst __dockhandUrl = require('node:url');\n${helper('__dirname')}`;
  }
  return [
    "import __dockhandPath from 'node:path';",
    "import * as __dockhandUrl from 'node:url';",
    "import { createRequire as __dockhandCreateRequire } from 'node:module';",
    'const require = __dockhandCreateRequire(import.meta.url);',
    helper('__dockhandPath.dirname(__dockhandUrl.fileURLToPath(import.meta.url))'),
  ].join('\n');
}
