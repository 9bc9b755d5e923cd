// The test that runs inside the VM (bundled by test/vm/usb.test.ts, run by the guest's init): a real
// reference server and a real station (the bundled `dockhand` command) on the guest's loopback, docking
//
//  1. the agent on the far end of an emulated FTDI USB-serial adapter (0403:6001, the host runs the agent
//     on the other side of the adapter's chardev): a push is cut by unplugging the adapter over QMP and
//     plugging it back; it resumes from the device's offset and completes;
//  2. the agent as a real USB device (the agent-only bundle, `--usb-gadget`, FunctionFS on dummy_hcd): a
//     push is cut by unbinding the UDC, re-bound, resumed and completed;
//  3. the adapter again with a second package, unplugged mid-push for good: the work waits for the dock,
//     its checkpoint and queue intact, also after the station stopped.
//
// Everything it sees goes into results.json in the run folder (facts and figures), written after each
// step; a failed expectation ends it with exit code 1 and the reason in `failure`.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { addPackage, assignPackage } from '../../../server/admin.js';
import { Control } from './control.js';
import { RUN_DIR, runProc, startProc, type GuestProc } from './procs.js';
import { device, pushOf, StationWatch, taskOf, type StationView } from './station-watch.js';

const REPO = process.env.DOCKHAND_REPO!;
const BIN = path.join(REPO, 'bin', 'dockhand.mjs');
const AGENT_BUNDLE = path.join(REPO, 'dist', 'agent', 'dockhand-agent.mjs');
const WORK = '/tmp/dockhand';
const ADAPTER = { id: 'ADAPTER-1', usb: '0403:6001' };
const GADGET = { id: 'GADGET-1', usb: '1209:d0c4', udcFile: '/sys/kernel/config/usb_gadget/dockhand/UDC', udc: 'dummy_udc.0' };
const KIB = 1024;
const WAIT = 120_000;

const results: { facts: Record<string, unknown>; figures: Record<string, number>; steps: string[]; failure?: string } = { facts: {}, figures: {}, steps: [] };
const save = () => writeFileSync(path.join(RUN_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
const control = new Control();
const started = Date.now();
const note = (text: string) => {
  const line = `[guest +${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`;
  process.stdout.write(`${line}\n`);
  control.note(line);
};
const step = (name: string) => {
  results.steps.push(name);
  save();
  note(name);
};

interface Pkg {
  id: string;
  file: string;
  fileName: string;
  size: number;
  sha256: string;
}

async function makePackage(serverData: string, name: string, size: number): Promise<Pkg> {
  const fileName = `${name}.bin`;
  const file = path.join(WORK, fileName);
  const bytes = randomBytes(size);
  writeFileSync(file, bytes);
  const added = await addPackage(serverData, { file, name, localDestination: '\\Temp' });
  return { id: added.id, file, fileName, size, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Bytes per second over the progress events of one push between two moments. */
function rate(watch: StationWatch, target: string, pkg: string, from: number, to: number): number {
  const seen = watch.progress.filter((p) => p.transfer.target === target && p.transfer.package === pkg && p.transfer.leg === 'push' && p.at >= from && p.at <= to);
  if (seen.length < 2) return 0;
  // From the first sample to the furthest one: a push's last records can repeat an earlier point (where a
  // cut push stopped, a final record), which as the end would make the rate negative.
  const a = seen[0]!;
  const b = seen.reduce((far, p) => (p.transfer.bytesDone > far.transfer.bytesDone ? p : far), a);
  return b.at > a.at ? (b.transfer.bytesDone - a.transfer.bytesDone) / ((b.at - a.at) / 1000) : 0;
}

/**
 * Lets the push of `pkg` to `target` pass a third, cuts it with `unplug`, and checks the station's card
 * in between: the device undocked, the push waiting at its checkpoint, the task waiting for the dock.
 */
async function cutMidPush(watch: StationWatch, target: string, pkg: Pkg, unplug: () => Promise<void>) {
  const third = await watch.until(`the push of ${pkg.fileName} to ${target} to pass a third`, (v) => {
    const t = pushOf(v, target, pkg);
    return t && t.state === 'active' && t.bytesDone >= pkg.size / 3 ? t : undefined;
  }, WAIT);
  const firstProgress = watch.progress.find((p) => p.transfer.target === target && p.transfer.package === pkg.id)!;
  await unplug();
  const unpluggedAt = Date.now();
  const undocked = await watch.until(`${target} to show as undocked`, (v) => (device(v, target)?.state === 'undocked' ? device(v, target) : undefined), WAIT);
  const card = await watch.until(`${target}'s push to wait at its checkpoint`, (v: StationView) => {
    const transfer = pushOf(v, target, pkg);
    const task = taskOf(v, target, pkg.id);
    return transfer && transfer.state !== 'active' && task && task.state === 'queued' ? { device: device(v, target)!, transfer, task } : undefined;
  }, WAIT);
  assert.ok(card.value.transfer.bytesDone > 0 && card.value.transfer.bytesDone < pkg.size,
    `the card shows the push cut in the middle (${card.value.transfer.bytesDone} of ${pkg.size})`);
  assert.ok(card.value.transfer.resumePoint > 0, 'the checkpoint is kept');
  assert.match(card.value.task.waitingFor, /waiting for dock/);
  // In the technician's words: a device that was unplugged, not a read or write that failed.
  assert.match(undocked.value.undockReason, /unplugged/, `the undock reason names the unplug: ${undocked.value.undockReason}`);
  return {
    unpluggedAt, undockedMs: undocked.at - unpluggedAt, card: card.value, cutAtBytes: third.value.bytesDone,
    firstLegBytesPerSecond: rate(watch, target, pkg.id, firstProgress.at, unpluggedAt),
  };
}

/** After `plug`, waits for the dock, the push moving again from the device's offset, and its end. */
async function resumeAfterPlug(watch: StationWatch, target: string, pkg: Pkg, checkpoint: number, plug: () => Promise<void>) {
  const seenBefore = watch.progress.length;
  await plug();
  const pluggedAt = Date.now();
  const docked = await watch.until(`${target} to dock again`, (v) => device(v, target)?.state === 'docked', WAIT);
  const resumed = await watch.until(`the push to ${target} to move again`, () =>
    watch.progress.slice(seenBefore).find((p) => p.transfer.target === target && p.transfer.package === pkg.id), WAIT);
  const finished = await watch.until(`the push to ${target} to finish`, (v) => taskOf(v, target, pkg.id)?.state === 'done', WAIT);
  const resumedFrom = resumed.value.transfer.resumePoint;
  assert.ok(resumedFrom >= checkpoint && resumedFrom < pkg.size, `the push resumed from the device's offset ${resumedFrom} (checkpoint ${checkpoint}), not from 0`);
  return {
    dockedMs: docked.at - pluggedAt, resumedMs: resumed.value.at - pluggedAt, resumedFrom,
    secondLegBytesPerSecond: rate(watch, target, pkg.id, resumed.value.at, finished.at),
  };
}

/**
 * Assigns a package to a docked device while the test watches: the device's next poll sees it, and a
 * technician's "poll now" (the console's retryNow) makes that poll happen at once.
 */
async function assignNow(watch: StationWatch, serverData: string, pkg: Pkg, target: string): Promise<void> {
  assignPackage(serverData, pkg.id, target);
  await watch.until(`${target}'s poll to be waiting`, (v) => v.tasks.find((t) => t.target === target && t.kind === 'poll')?.state === 'queued', WAIT);
  const polled = await watch.execute({ type: 'retryNow', target, taskId: `${target}|poll|` });
  assert.ok(polled.ok, `poll now: ${polled.message}`);
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const serverData = path.join(WORK, 'server');
  const stationData = path.join(WORK, 'station');
  const gadgetRoot = path.join(WORK, 'gadget-root');
  note(`guest program started (node ${process.version})`);
  // Sized for the emulated links' speed under TCG (tens of KiB/s over the adapter): long enough to cut.
  const first = await makePackage(serverData, 'adapter-first', 384 * KIB);
  const second = await makePackage(serverData, 'adapter-second', 384 * KIB);
  const gadgetPkg = await makePackage(serverData, 'gadget-package', 512 * KIB);
  assignPackage(serverData, gadgetPkg.id, GADGET.id);
  results.facts.packages = { first, second, gadgetPkg };
  step('packages published');

  const procs: GuestProc[] = [];
  const server = startProc('server', [BIN, 'server', '--data', serverData, '--host', '127.0.0.1', '--port', '0']);
  procs.push(server);
  const serverUrl = (await server.waitFor(/listening on (http:\/\/\S+)/, 'the server to listen', WAIT))[1]!;
  const station = startProc('station', [BIN, 'station', '--server', serverUrl, '--data', stationData,
    '--usb', `${ADAPTER.usb},${GADGET.usb}`, '--ui', '--ui-port', '0']);
  procs.push(station);
  const consoleUrl = (await station.waitFor(/web console: (http:\/\/\S+)/, 'the station console', WAIT))[1]!;
  const watch = await StationWatch.connect(consoleUrl);
  step('server and station running');

  try {
    // 1. The adapter: cut by unplugging it, plugged back, resumed.
    await watch.until('the adapter\'s agent to dock', (v) => device(v, ADAPTER.id)?.state === 'docked', WAIT);
    results.facts.adapterPort = device(watch.view, ADAPTER.id)!.port;
    step(`adapter docked on ${String(results.facts.adapterPort)}`);
    await assignNow(watch, serverData, first, ADAPTER.id);
    const cut = await cutMidPush(watch, ADAPTER.id, first, () => control.request('unplug-adapter'));
    results.facts.adapterCut = cut;
    step(`adapter unplugged mid-push: undocked after ${cut.undockedMs} ms at ${cut.card.transfer.bytesDone} bytes (${cut.card.device.undockReason})`);
    const back = await resumeAfterPlug(watch, ADAPTER.id, first, cut.card.transfer.resumePoint, () => control.request('plug-adapter'));
    results.facts.adapterResume = back;
    Object.assign(results.figures, {
      adapterPushBytesPerSecond: Math.round(back.secondLegBytesPerSecond || cut.firstLegBytesPerSecond),
      adapterUnplugToUndockedMs: cut.undockedMs, adapterReplugToResumedMs: back.resumedMs,
    });
    step(`adapter plugged back: push resumed at ${back.resumedFrom} after ${back.resumedMs} ms and completed`);

    // 2. The agent as a USB device: the agent-only bundle on FunctionFS, unplugged by unbinding the UDC.
    await runProc('modprobe', ['modprobe', 'dummy_hcd']);
    const setup = await runProc('gadget-setup', [BIN, 'agent', 'gadget', 'setup', '--usb-id', GADGET.usb, '--serial', GADGET.id, '--product', 'Dockhand VM gadget']);
    results.facts.gadgetSetup = setup.trim().split('\n');
    const agent = startProc('gadget-agent', [AGENT_BUNDLE, '--usb-gadget', '--root', gadgetRoot, '--id', GADGET.id, '--name', 'VM gadget']);
    procs.push(agent);
    await agent.waitFor(/listening on USB gadget/, 'the gadget agent to bind', WAIT);
    await watch.until('the gadget to dock', (v) => device(v, GADGET.id)?.state === 'docked', WAIT);
    results.facts.gadgetPort = device(watch.view, GADGET.id)!.port;
    step(`gadget docked as ${String(results.facts.gadgetPort)}`);
    const gcut = await cutMidPush(watch, GADGET.id, gadgetPkg, async () => writeFileSync(GADGET.udcFile, '\n'));
    results.facts.gadgetCut = gcut;
    step(`gadget unbound mid-push: undocked after ${gcut.undockedMs} ms at ${gcut.card.transfer.bytesDone} bytes (${gcut.card.device.undockReason})`);
    const gback = await resumeAfterPlug(watch, GADGET.id, gadgetPkg, gcut.card.transfer.resumePoint, async () => writeFileSync(GADGET.udcFile, GADGET.udc));
    results.facts.gadgetResume = gback;
    assert.equal(sha256Of(path.join(gadgetRoot, 'Temp', gadgetPkg.fileName)), gadgetPkg.sha256, 'the gadget holds the whole package');
    Object.assign(results.figures, {
      gadgetPushBytesPerSecond: Math.round(gback.secondLegBytesPerSecond || gcut.firstLegBytesPerSecond),
      gadgetUnplugToUndockedMs: gcut.undockedMs, gadgetReplugToResumedMs: gback.resumedMs,
    });
    step(`gadget re-bound: push resumed at ${gback.resumedFrom} after ${gback.resumedMs} ms and completed, file verified`);

    // 3. The adapter again, unplugged for good: the work waits for the dock and loses nothing.
    await assignNow(watch, serverData, second, ADAPTER.id);
    const gone = await cutMidPush(watch, ADAPTER.id, second, () => control.request('unplug-adapter'));
    results.facts.adapterGone = gone;
    step(`adapter unplugged for good at ${gone.card.transfer.bytesDone} bytes: waiting for dock`);
    // Stopped (or, should it linger, killed): either way the queue and checkpoint must be on disk.
    watch.close();
    results.facts.stationExit = await station.stop();
    const status = JSON.parse(await runProc('status', [BIN, 'station', 'status', '--data', stationData, '--json'])) as {
      devices: Array<{ id: string; state: string }>; tasks: Array<{ target: string; package: string; state: string; waitingFor: string }>;
      transfers: Array<{ target: string; package: string; bytesDone: number; resumePoint: number }>;
    };
    const task = status.tasks.find((t) => t.target === ADAPTER.id && t.package === second.id);
    const checkpoint = status.transfers.find((t) => t.target === ADAPTER.id && t.package.endsWith(`\\${second.fileName}`));
    results.facts.statusAfterStop = { device: status.devices.find((d) => d.id === ADAPTER.id), task, checkpoint };
    assert.equal(task?.state, 'queued', 'the task is still queued after the station stopped');
    assert.equal(checkpoint?.resumePoint, gone.card.transfer.resumePoint, 'the checkpoint on disk is the one the card showed');
    step(`after the station stopped (exit ${String(results.facts.stationExit)}${station.lingered ? ', killed after lingering 20 s' : ''}): the task waits for dock and the checkpoint is kept`);

    assert.equal(await agent.stop(), 0, 'the gadget agent stops cleanly');
    results.facts.gadgetTeardown = (await runProc('gadget-teardown', [BIN, 'agent', 'gadget', 'teardown'])).trim().split('\n');
    step('gadget agent stopped and the gadget torn down');
  } finally {
    for (const p of procs) await p.stop();
    const lingered = procs.filter((p) => p.lingered).map((p) => p.name);
    if (lingered.length) results.facts.lingeredAfterSigterm = lingered;
  }
}

/** Ends with the results saved and the control channel closed (its pending read would hold the exit). */
async function end(code: number): Promise<never> {
  save();
  await control.bye();
  process.exit(code);
}

main().then(() => end(0), (err: unknown) => {
  results.failure = err instanceof Error ? err.message : String(err);
  process.stderr.write(`guest test failed: ${results.failure}\n${(err as Error).stack ?? ''}\n`);
  return end(1);
});
