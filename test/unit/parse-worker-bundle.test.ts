// The parse worker in a bundled build, where neither the TypeScript sources nor tsx are there: the Electron
// build (scripts/build-app.ts) emits dist/parse-worker.cjs beside dist/main.cjs and tells the main bundle
// where it is; a bundle of the off-thread parser, in an app folder that holds no source, then parses a large
// document in that worker under a plain `node` (no tsx hooks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApp } from '../../scripts/build-app.js';
import { buildParseWorker, parseWorkerDefine } from '../../scripts/parse-worker-bundle.js';
import { buildFileReport } from '../../shared/protocol/index.js';
import { OFF_THREAD_FROM } from '../../electron/protocol/parse-off-thread.js';
import { tempDir } from '../helpers/tmp.js';

const repo = path.resolve(import.meta.dirname, '..', '..');

test('the Electron build emits the parse worker beside main.cjs, and a bundled parser runs it without sources or tsx', async (t) => {
  const app = path.join(tempDir(t), 'app');
  const built = await buildApp({ root: repo, outDir: path.join(app, 'dist') });
  assert.equal(built.parseWorker, path.join(app, 'dist', 'parse-worker.cjs'));
  assert.ok(existsSync(built.parseWorker));
  assert.match(readFileSync(built.main, 'utf8'), /"dist\/parse-worker\.cjs"/, 'the main bundle knows where its worker is');
  assert.doesNotMatch(readFileSync(built.parseWorker, 'utf8'), /require\("(tsx|fast-xml-parser)[^"]*"\)/, 'fast-xml-parser is inside, tsx is not needed');
  // What a build that records its inputs (the CLI's) learns from it: the sources the worker was made of.
  const { inputs } = await buildParseWorker({ root: repo, outfile: path.join(app, 'dist', 'again', 'parse-worker.cjs') });
  for (const source of ['electron/protocol/parse-worker.ts', 'shared/protocol/xml.ts']) assert.ok(inputs.includes(source), inputs.join(', '));

  // The off-thread parser bundled as the main bundle bundles it: import.meta pointing where its source would
  // be in the app folder (build-app.ts rewrites it so), the worker's place defined.
  const { build } = await import('esbuild');
  const parser = path.join(app, 'dist', 'parser.cjs');
  await build({
    entryPoints: [path.join(repo, 'electron', 'protocol', 'parse-off-thread.ts')], outfile: parser, absWorkingDir: repo,
    bundle: true, platform: 'node', format: 'cjs', target: 'node22', logLevel: 'warning',
    define: { ...parseWorkerDefine('dist/parse-worker.cjs'),
      'import.meta.url': JSON.stringify(pathToFileURL(path.join(app, 'electron', 'protocol', 'parse-off-thread.ts')).href) },
  });
  assert.equal(existsSync(path.join(app, 'electron')), false, 'no source in the app folder');

  const report = { Directories: [{ Name: '\\Windows', Directories: [], Files: Array.from({ length: 3000 }, (_, i) => ({ Name: `f${i}.dll`, Size: i })) }] };
  const file = path.join(app, 'report.xml');
  writeFileSync(file, buildFileReport(report));
  assert.ok(readFileSync(file).length > OFF_THREAD_FROM);
  const script = `
    const p = require(${JSON.stringify(parser)});
    p.parseOffThread('FileReport', require('node:fs').readFileSync(${JSON.stringify(file)})).then((r) => {
      console.log(JSON.stringify({ files: r.Directories[0].Files.length, last: r.Directories[0].Files.at(-1), state: p.parseWorkerState() }));
      return p.closeParseWorker();
    });`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }));
  assert.equal(out.files, 3000);
  assert.deepEqual(out.last, { Name: 'f2999.dll', Size: 2999 });
  assert.equal(out.state.parsedOffThread, 1);
  assert.equal(out.state.started, 1);
});
