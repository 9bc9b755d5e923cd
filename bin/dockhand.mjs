#!/usr/bin/env node
// The one `dockhand` command. It runs the bundled build (dist/cli, made by scripts/build-cli.ts on `npm ci`
// and before the tests) when that build is newer than every source file it was made from; otherwise — a
// checkout being edited, an install without devDependencies, DOCKHAND_FROM_SOURCE=1 — it runs the
// TypeScript sources through tsx, which is slower to start but always current.
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundleIsCurrent } from './bundle-current.mjs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`dockhand needs Node 22 or newer (this is ${process.version}); run it as \`npx dockhand\` from the ` +
    'repository after `npm ci`, which uses the Node 22 in node_modules/.bin.');
  process.exit(2);
}

let main;
if (!process.env.DOCKHAND_FROM_SOURCE && bundleIsCurrent(new URL('../', import.meta.url))) {
  // V8's compiled code for the bundle is kept beside it (per Node version and file content) and reused by the
  // next start: about 40 ms less CPU in every station start (its chunks hold the zod and XML libraries),
  // measured over ten interleaved `station --once` runs. Beside the bundle rather than in the shared temporary
  // folder, where another user could leave code for this one to load; where the folder is not writable
  // (an installation owned by root), Node simply compiles as before. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  module.enableCompileCache?.(fileURLToPath(new URL('../dist/cli/.compile-cache', import.meta.url)));
  ({ main } = await import('../dist/cli/index.mjs'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/index.ts'));
}
await main(process.argv.slice(2));
