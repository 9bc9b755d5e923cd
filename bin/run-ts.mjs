#!/usr/bin/env node
// Runs a TypeScript entry point under tsx: `node bin/run-ts.mjs path/to/file.ts [args…]`.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [, , entry, ...rest] = process.argv;
if (!entry) {
  console.error('usage: run-ts FILE.ts [args…]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...rest];
register();
await import(pathToFileURL(path.resolve(entry)).href);
