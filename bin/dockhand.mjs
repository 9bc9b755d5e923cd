#!/usr/bin/env node
// The one `dockhand` command. It runs the bundled build (dist/cli, made by scripts/build-cli.ts on `npm ci`
// and before the tests) when that build is newer than every source file it was made from; otherwise — a
// checkout being edited, an install without devDependencies, DOCKHAND_FROM_SOURCE=1 — it runs the
// TypeScript sources through tsx, which is slower to start but always current.
import { bundleIsCurrent } from './bundle-current.mjs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`dockhand needs Node 22 or newer (this is ${process.version}); run it as \`npx dockhand\` from the ` +
    'repository after `npm ci`, which uses the Node 22 in node_modules/.bin.');
  process.exit(2);
}

let main;
if (!process.env.DOCKHAND_FROM_SOURCE && bundleIsCurrent(new URL('../', import.meta.url))) {
  ({ main } = await import('../dist/cli/index.mjs'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/index.ts'));
}
await main(process.argv.slice(2));
