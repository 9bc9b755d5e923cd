#!/usr/bin/env node
// The one `dockhand` command. The code is TypeScript run through tsx, so the checkout is the program.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`dockhand needs Node 22 or newer (this is ${process.version}); run it as \`npx dockhand\` from the ` +
    'repository after `npm ci`, which uses the Node 22 in node_modules/.bin.');
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../cli/index.ts');
await main(process.argv.slice(2));
