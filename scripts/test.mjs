#!/usr/bin/env node
// The whole test command: lint, typecheck (engine and renderer), the renderer build, then every test file
// under node:test.
// It ends with one plain line, `N passed, N failed`, summed over every step (lint and typecheck count
// as one check each), because CI reads that line.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, '.test-output');
mkdirSync(out, { recursive: true });
const only = process.argv.slice(2); // optional: test files or folders to run

let passed = 0;
let failed = 0;

function step(name, cmd, args) {
  console.log(`\n== ${name}: ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  if (r.status === 0) { passed += 1; console.log(`== ${name}: ok`); }
  else { failed += 1; console.log(`== ${name}: FAILED (exit ${r.status ?? r.signal})`); }
}

function testFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(p));
    else if (entry.name.endsWith('.test.ts')) found.push(path.relative(root, p));
  }
  return found.sort();
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
if (only.length === 0) {
  step('lint', bin('eslint'), ['--max-warnings=0', '.']);
  step('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  step('typecheck renderer', bin('tsc'), ['-p', 'renderer/tsconfig.json', '--noEmit']);
  // The UI tests drive the built renderer; build it once here rather than in each test file.
  step('build renderer', bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
}
// The tests run the `dockhand` command as it ships: the bundle (bin/dockhand.mjs would otherwise fall back
// to the TypeScript sources, correct but not what users run).
step('build cli', process.execPath, [path.join(root, 'bin', 'run-ts.mjs'), 'scripts/build-cli.ts']);

const files = (only.length ? only : ['test']).flatMap((p) =>
  existsSync(p) && p.endsWith('.ts') ? [p] : testFiles(path.join(root, p)));
// The VM tests (test/vm) build a Debian guest on a fresh machine and boot it under QEMU: minutes, not
// seconds, and their own budget (10 minutes) is checked inside them. node:test's --test-timeout caps a whole
// file, so they run in a second pass with a cap above that budget; every other file keeps the 3-minute cap
// that turns a hang into a failure.
const isVm = (f) => f.split(path.sep).join('/').includes('test/vm/');
const passes = [
  { name: 'tests', files: files.filter((f) => !isVm(f)), timeoutMs: 180_000 },
  { name: 'VM tests', files: files.filter(isVm), timeoutMs: 12 * 60_000 },
].filter((p) => p.files.length > 0);

const count = (text, label) =>
  Number((text.match(new RegExp(`^# ${label} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
for (const [k, pass] of passes.entries()) {
  const tap = path.join(out, `results-${process.pid}-${k}.tap`);
  console.log(`\n== ${pass.name}: ${pass.files.length} files`);
  const r = spawnSync(process.execPath, [
    '--import', 'tsx', '--test',
    '--test-concurrency=2', `--test-timeout=${pass.timeoutMs}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...pass.files,
  ], {
    cwd: root, stdio: 'inherit',
    // npm runs under the machine's own Node and tells child tools about it (npm_node_execpath, NODE); tools
    // that fork "the node npm used" (electron-builder) would start that older Node next to this one.
    env: { ...process.env, DOCKHAND_TEST_OUTPUT: out, npm_node_execpath: process.execPath, NODE: process.execPath },
  });
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const tp = count(text, 'pass');
  const tf = count(text, 'fail') + count(text, 'cancelled');
  passed += tp;
  failed += tf;
  if (r.status !== 0 && tf === 0) failed += 1; // the runner itself failed (crash, no summary)
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
