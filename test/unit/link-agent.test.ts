// The agent's device side (agent/) in this process, against the station's link client over an in-memory
// cable, with real files in a temporary folder: resume after an unplug and after a station restart,
// checkpoints kept and discarded at the right moments, refusals, and a polite shutdown.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { prepareAgent, serveTransport } from '../../agent/agent.js';
import type { AgentContext } from '../../agent/context.js';
import { DeviceSession } from '../../agent/device-session.js';
import type { DeviceLink } from '../../electron/link/device-link.js';
import { openDeviceLink, type DeviceLinkOptions } from '../../electron/link/link-client.js';
import { memoryCable, type MemoryCable, type MemoryCableOptions } from '../../electron/link/link-memory.js';
import type { Transport } from '../../electron/link/transport.js';
import { DockhandError } from '../../shared/model/errors.js';
import { tempDir, waitFor } from '../helpers/tmp.js';
import { serveOnCable } from '../helpers/memory-agent.js';
import { commandStarted } from '../helpers/started-command.js';
import { processAlive } from '../helpers/processes.js';
import { processStartTime } from '../../electron/engine/local/process-identity.js';
import { spawn } from 'node:child_process';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function agent(t: TestContext): Promise<{ ctx: AgentContext; dir: string; logs: string[] }> {
  const dir = tempDir(t);
  const logs: string[] = [];
  const ctx = await prepareAgent({ root: path.join(dir, 'root'), id: 'AGENT-1', name: 'unit', log: (l) => logs.push(l) });
  return { ctx, dir, logs };
}

/** Plugs a cable into the agent and opens the station's link on the other end. */
async function dock(t: TestContext, ctx: AgentContext, opts: DeviceLinkOptions = {}, cableOpts: MemoryCableOptions = {}) {
  const cable = memoryCable({ labels: ['station-end', 'device-end'], ...cableOpts });
  const { stop, served } = serveOnCable(t, ctx, cable);
  const link = await openDeviceLink(cable.a, opts);
  t.after(() => link.close());
  return { cable, link, served, stop };
}

function bigFile(dir: string, size: number): { file: string; data: Buffer } {
  const data = randomBytes(size);
  const file = path.join(dir, `src-${size}`);
  writeFileSync(file, data);
  return { file, data };
}

test('a put interrupted by an unplug resumes from the byte the device holds', async (t) => {
  const { ctx, dir, logs } = await agent(t);
  const { file, data } = bigFile(dir, 600_000);
  const put = { directory: '\\Temp', fileName: 'big.cab', sourceFile: file, size: data.length, sha256: sha(data) };

  const first = await dock(t, ctx);
  const cable: MemoryCable = first.cable;
  await assert.rejects(
    first.link.putFile({ ...put, offset: 0, onProgress: (p) => p.bytesDone > 250_000 && cable.unplug('the cable was pulled') }),
    (err: unknown) => err instanceof DockhandError && err.code === 'LINK' && /was lost: the cable was pulled/.test(err.message),
  );
  await first.served;
  const part = path.join(ctx.root, 'Temp', '.big.cab.dockhand-part');
  await waitFor('the agent to keep the part file', () => logs.some((l) => /interrupted at byte/.test(l)));
  assert.ok(existsSync(part), 'the part file is kept');
  assert.ok(!existsSync(path.join(ctx.root, 'Temp', 'big.cab')), 'nothing under the real name yet');

  const second = await dock(t, ctx);
  const offset = await second.link.queryPutOffset('\\Temp', 'big.cab', data.length, sha(data));
  assert.ok(offset > 250_000 && offset < data.length, `resume point ${offset}`);
  assert.equal(await second.link.queryPutOffset('\\Temp', 'big.cab', data.length, sha(Buffer.from('other'))), 0, 'another file: no resume');
  assert.equal(await second.link.queryPutOffset('\\Temp', 'big.cab', data.length + 1, sha(data)), 0, 'another size: no resume');
  const progress: number[] = [];
  const saved = await second.link.putFile({ ...put, offset, onProgress: (p) => progress.push(p.bytesDone) });
  assert.equal(saved, '\\Temp\\big.cab');
  assert.equal(progress[0], offset, 'progress starts at the resume point');
  assert.ok(readFileSync(path.join(ctx.root, 'Temp', 'big.cab')).equals(data));
  assert.ok(!existsSync(part), 'the part file became the file');
  assert.deepEqual(readdirSync(path.join(ctx.stateDir, 'puts')), [], 'the checkpoint record is gone');
  const record = JSON.parse(readFileSync(path.join(ctx.stateDir, 'installed.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
  assert.deepEqual(record.files.map((f) => [f.path, f.sha256]), [['\\Temp\\big.cab', sha(data)]]);
});

test('a station that restarts says HELLO again on the same port and resumes', async (t) => {
  const { ctx, dir } = await agent(t);
  const { file, data } = bigFile(dir, 300_000);
  const cable = memoryCable({ labels: ['station-end', 'device-end'] });
  serveOnCable(t, ctx, cable);
  // The station's side of the cable, handed to one station process after another without the device's
  // port ever closing (a USB gadget port stays open while the station restarts).
  let current: ((b: Uint8Array) => void) | undefined;
  cable.a.onData((b) => current?.(b));
  const stationEnd = (): Transport & { crash(): void } => {
    let alive = true;
    return {
      label: 'station-end',
      write: (b) => (alive ? cable.a.write(b) : Promise.resolve()),
      onData: (l) => (current = l),
      onClose: () => undefined,
      close: async () => void (alive = false),
      crash: () => void (alive = false),
    };
  };
  const end1 = stationEnd();
  const link1 = await openDeviceLink(end1, { keepAliveMs: 200 });
  const links: DeviceLink[] = [link1];
  t.after(() => Promise.all(links.map((l) => l.close())));
  const put = { directory: '\\pkg', fileName: 'a.bin', sourceFile: file, size: data.length, sha256: sha(data) };
  const interrupted = link1.putFile({ ...put, offset: 0, onProgress: (p) => p.bytesDone > 100_000 && end1.crash() });
  // the crashed station hears nothing any more; its own dead-peer timer ends its link
  await assert.rejects(interrupted, (err: unknown) => err instanceof DockhandError && err.code === 'LINK');

  const link2 = await openDeviceLink(stationEnd());
  links.push(link2);
  const offset = await link2.queryPutOffset('\\pkg', 'a.bin', data.length, sha(data));
  assert.ok(offset >= 100_000, `the device kept ${offset} bytes`);
  assert.equal(await link2.putFile({ ...put, offset }), '\\pkg\\a.bin');
  assert.ok(readFileSync(path.join(ctx.root, 'pkg', 'a.bin')).equals(data));
});

test('a wrong hash discards the partial file; a cancel keeps it', async (t) => {
  const { ctx, dir } = await agent(t);
  const { file, data } = bigFile(dir, 200_000);
  const { link } = await dock(t, ctx);
  const wrong = sha(Buffer.from('not this'));
  await assert.rejects(
    link.putFile({ directory: '\\x', fileName: 'f.bin', sourceFile: file, size: data.length, sha256: wrong, offset: 0 }),
    (err: unknown) => err instanceof DockhandError && err.code === 'HASH_MISMATCH' && /partial file was discarded/.test(err.message),
  );
  assert.equal(await link.queryPutOffset('\\x', 'f.bin', data.length, wrong), 0);
  assert.deepEqual(readdirSync(path.join(ctx.root, 'x')), []);

  const controller = new AbortController();
  await assert.rejects(
    link.putFile({
      directory: '\\x', fileName: 'f.bin', sourceFile: file, size: data.length, sha256: sha(data), offset: 0, signal: controller.signal,
      onProgress: (p) => p.bytesDone > 60_000 && controller.abort(),
    }),
    (err: unknown) => err instanceof DockhandError && err.code === 'CANCELLED',
  );
  await waitFor('the device to close the cancelled part', async () => (await link.queryPutOffset('\\x', 'f.bin', data.length, sha(data))) > 0);
  await assert.rejects(
    link.putFile({ directory: '\\x', fileName: 'f.bin', sourceFile: file, size: data.length, sha256: sha(data), offset: data.length - 10 }),
    (err: unknown) => err instanceof DockhandError && /holds \d+ bytes of f\.bin, so it cannot continue from byte 199990/.test(err.message),
  );
});

test('paths outside the root, or into the agent\'s state, are refused', async (t) => {
  const { ctx, dir } = await agent(t);
  const { file, data } = bigFile(dir, 100);
  const { link } = await dock(t, ctx);
  const refused = (err: unknown) => err instanceof DockhandError && err.code === 'PATH_REFUSED';
  await assert.rejects(link.putFile({ directory: '\\..\\up', fileName: 'f', sourceFile: file, size: 100, sha256: sha(data), offset: 0 }), refused);
  await assert.rejects(link.putFile({ directory: '\\.dockhand-agent', fileName: 'identity.json', sourceFile: file, size: 100, sha256: sha(data), offset: 0 }), refused);
  await assert.rejects(link.getFile('\\.dockhand-agent\\identity.json', 10_000), refused);
  await assert.rejects(link.removeFile('\\.dockhand-agent\\identity.json'), refused);
  await assert.rejects(link.putFile({ directory: '\\t', fileName: 'CON', sourceFile: file, size: 100, sha256: sha(data), offset: 0 }), refused);
});

test('a listing too large for the agreed message size is cut to fit and says so, not left hanging', async (t) => {
  // Changed by issue 7: the agent used to refuse the whole listing (TOO_LARGE); a partial inventory that
  // says it is partial serves the technician better.
  const { ctx } = await agent(t);
  mkdirSync(path.join(ctx.root, 'many'));
  for (let i = 0; i < 400; i++) writeFileSync(path.join(ctx.root, 'many', `file-with-a-long-name-${i}.txt`), 'x');
  const { link } = await dock(t, ctx, { maxMessage: 16 * 1024 });
  const listing = await link.listFiles([{ Filter: '*', Path: '\\many', Recursive: false, ExcludeCompressed: false, ExcludeEncrypted: false }]);
  const kept = listing.Directories[0]?.Files.length ?? 0;
  assert.ok(kept > 0 && kept < 400, String(kept));
  assert.ok(listing.warnings?.some((w) => w.startsWith(`the listing was cut to ${kept} of 400 files to fit the link's 16384-byte messages`)), String(listing.warnings));
  assert.equal(link.closed, false);
});

test('garbage on the line towards the agent changes nothing', async (t) => {
  const { ctx, dir } = await agent(t);
  const { file, data } = bigFile(dir, 150_000);
  let n = 0;
  const noisy = (b: Uint8Array, from: 'a' | 'b') => (from === 'a' && ++n % 4 === 0 ? Buffer.concat([randomBytes(40), b]) : b);
  const { link } = await dock(t, ctx, {}, { tamper: noisy });
  assert.equal(await link.putFile({ directory: '\\n', fileName: 'f', sourceFile: file, size: data.length, sha256: sha(data), offset: 0 }), '\\n\\f');
  assert.ok(readFileSync(path.join(ctx.root, 'n', 'f')).equals(data));
});

test('an agent that stops ends the session at once (RESET), and the station says so', async (t) => {
  const { ctx } = await agent(t);
  const { link, stop, served } = await dock(t, ctx);
  const closed = new Promise<string>((resolve) => link.onClose(resolve));
  stop.abort();
  await served;
  assert.match(await closed, /ended the session|was lost/);
  await assert.rejects(link.machineInventory(), (err: unknown) => err instanceof DockhandError && err.code === 'LINK');
});

test('an agent stops even when the host no longer takes its writes (a USB host that stopped reading the IN endpoint)', async (t) => {
  const { ctx } = await agent(t);
  const cable = memoryCable({ labels: ['station-end', 'device-end'] });
  let stuck = false;
  // The device end as a FunctionFS endpoint behaves once the host stops polling it: a write never completes.
  const deviceEnd: Transport = {
    label: cable.b.label,
    write: (bytes) => (stuck ? new Promise<void>(() => undefined) : cable.b.write(bytes)),
    onData: (l) => cable.b.onData(l),
    onClose: (l) => cable.b.onClose(l),
    close: () => cable.b.close(),
  };
  const stop = new AbortController();
  const served = serveTransport(ctx, deviceEnd, stop.signal);
  const link = await openDeviceLink(cable.a);
  t.after(() => link.close());
  t.after(() => cable.unplug('the test ended'));
  stuck = true;
  stop.abort();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([served, new Promise<string>((resolve) => { timer = setTimeout(() => resolve('still serving'), 15_000); })]);
  clearTimeout(timer);
  assert.equal(outcome, 'the agent is stopping', 'the stop does not wait for a write the host will never take');
});

test('a command is ended when the cable is pulled, recorded as interrupted under its run ID, and never started again', async (t) => {
  // Issue 7 changed this: a command left running with no station could be started a second time by the next one.
  const { ctx, logs } = await agent(t);
  mkdirSync(path.join(ctx.root, 'w'));
  writeFileSync(path.join(ctx.root, 'w', 'install.sh'), '#!/bin/sh\necho run >> runs.log\necho $$ > pid\nexec sleep 600\n');
  chmodSync(path.join(ctx.root, 'w', 'install.sh'), 0o755);
  const { link, cable } = await dock(t, ctx);
  const running = link.runCommand('install.sh', '\\w', 60_000, { runId: 'RUN-1' });
  const pid = Number(await waitFor('the command to start', () => existsSync(path.join(ctx.root, 'w', 'pid')) && readFileSync(path.join(ctx.root, 'w', 'pid'), 'utf8').trim()));
  assert.ok(processAlive(pid));
  cable.unplug('the cable was pulled');
  await assert.rejects(running, (err: unknown) => err instanceof DockhandError && err.code === 'LINK');
  await waitFor('the command to be ended', () => !processAlive(pid));
  await waitFor('the run to be recorded as interrupted', () => ctx.runs.get('RUN-1')?.state === 'interrupted');
  assert.match(ctx.runs.get('RUN-1')!.reason!, /the link to the station was lost/);
  assert.ok(logs.some((l) => /'install\.sh' ended: the link to the station was lost/.test(l)));

  const again = await dock(t, ctx);
  const status = await again.link.runStatus('RUN-1', 5000);
  assert.equal(status.state, 'interrupted');
  await assert.rejects(again.link.runCommand('install.sh', '\\w', 60_000, { runId: 'RUN-1' }),
    (err: unknown) => err instanceof DockhandError && err.code === 'CANCELLED' && /is not started again/.test(err.message));
  assert.equal(readFileSync(path.join(ctx.root, 'w', 'runs.log'), 'utf8'), 'run\n', 'it ran once');
  assert.deepEqual(await again.link.runStatus('RUN-UNKNOWN', 5000), { state: 'unknown' });
});

test('a finished run is answered from the record, by RUN_STATUS and by a repeated RUN, without running again', async (t) => {
  const { ctx } = await agent(t);
  mkdirSync(path.join(ctx.root, 'w'));
  writeFileSync(path.join(ctx.root, 'w', 'once.sh'), '#!/bin/sh\necho run >> runs.log\necho installed\nexit 3\n');
  chmodSync(path.join(ctx.root, 'w', 'once.sh'), 0o755);
  const { link } = await dock(t, ctx);
  const first = await link.runCommand('once.sh', '\\w', 60_000, { runId: 'RUN-2' });
  assert.equal(first.exitCode, 3);
  const status = await link.runStatus('RUN-2', 5000);
  assert.equal(status.state, 'finished');
  assert.equal(status.result?.exitCode, 3);
  assert.match(status.result?.output ?? '', /installed/);
  const repeated = await link.runCommand('once.sh', '\\w', 60_000, { runId: 'RUN-2' });
  assert.equal(repeated.exitCode, 3);
  assert.equal(readFileSync(path.join(ctx.root, 'w', 'runs.log'), 'utf8'), 'run\n', 'it ran once');
});

test('a cancel (pause, stop) ends the command\'s process group on the device', async (t) => {
  const { ctx } = await agent(t);
  mkdirSync(path.join(ctx.root, 'w'));
  writeFileSync(path.join(ctx.root, 'w', 'long.sh'), '#!/bin/sh\nsleep 600 &\necho $! > child\necho $$ > pid\nwait\n');
  chmodSync(path.join(ctx.root, 'w', 'long.sh'), 0o755);
  const { link } = await dock(t, ctx);
  const stop = new AbortController();
  const running = link.runCommand('long.sh', '\\w', 60_000, { runId: 'RUN-3', signal: stop.signal });
  const { pid, child } = await commandStarted(path.join(ctx.root, 'w'));
  stop.abort();
  await assert.rejects(running, (err: unknown) => err instanceof DockhandError && err.code === 'CANCELLED');
  await waitFor('the program and its child to be ended', () => !processAlive(pid) && !processAlive(child));
  await waitFor('the run to be recorded', () => ctx.runs.get('RUN-3')?.state === 'interrupted');
  assert.match(ctx.runs.get('RUN-3')!.reason!, /cancelled by the station/);
});

test('an agent that starts again ends the command its crash left running, and records it as interrupted', async (t) => {
  const dir = tempDir(t);
  const stateDir = path.join(dir, 'root', '.dockhand-agent');
  mkdirSync(stateDir, { recursive: true });
  // What a crashed agent leaves: a program in a process group of its own, recorded as running.
  const orphan = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
  t.after(() => { try { process.kill(-orphan.pid!, 'SIGKILL'); } catch { /* gone */ } });
  const startTime = await waitFor('the orphan to start', () => processStartTime(orphan.pid!));
  writeFileSync(path.join(stateDir, 'runs.json'), JSON.stringify([
    { runId: 'RUN-4', commandLine: 'setup.sh', directory: '\\w', state: 'running', pid: orphan.pid, startTime, at: new Date().toISOString() },
    { runId: 'RUN-5', commandLine: 'other.sh', directory: '\\w', state: 'running', pid: orphan.pid, startTime: 'linux:1', at: new Date().toISOString() },
  ]));
  const logs: string[] = [];
  const ctx = await prepareAgent({ root: path.join(dir, 'root'), id: 'AGENT-2', log: (l) => logs.push(l) });
  assert.equal(processAlive(orphan.pid!), false, 'the leftover program was ended before the agent served anyone');
  assert.equal(ctx.runs.get('RUN-4')!.state, 'interrupted');
  assert.match(ctx.runs.get('RUN-4')!.reason!, /ended when it started again/);
  assert.ok(logs.some((l) => l.startsWith("ended 'setup.sh'")));
  assert.equal(ctx.runs.get('RUN-5')!.state, 'interrupted', 'a record whose start time does not match is closed too');
});

test('an agent that restarted answers the old session with RESET, so the station fails at once', async (t) => {
  const { ctx } = await agent(t);
  const { link, cable } = await dock(t, ctx);
  const restarted = new DeviceSession(cable.b, ctx); // takes over the port with no memory of the session
  void restarted;
  await assert.rejects(link.machineInventory(), (err: unknown) =>
    err instanceof DockhandError && err.code === 'LINK' && /the device on station-end ended the session \(it restarted, or gave up on this one after a silence\); connect again/.test(err.message));
});
