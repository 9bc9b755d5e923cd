// The station's link client against the real agent process, over real pseudo-terminal pairs: hello,
// inventories, file push with SHA-256 check, commands, file collection, removal, several devices at once.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { DeviceLink } from '../../electron/link/device-link.js';
import { openDeviceLink } from '../../electron/link/link-client.js';
import { openSerialTransport } from '../../electron/link/serial.js';
import { DockhandError } from '../../shared/model/errors.js';
import { startDockhand, type Proc } from '../helpers/processes.js';
import { ptyPair } from '../helpers/pty.js';
import { tempDir, waitFor } from '../helpers/tmp.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function agentOn(t: TestContext, dir: string, port: string, root: string, extra: string[] = []): Promise<Proc> {
  const agent = startDockhand(t, ['agent', '--port', port, '--root', root, ...extra]);
  await waitFor(`the agent to listen on ${port} (${agent.err()})`, () => agent.out().includes('listening on'), 30_000);
  void dir;
  return agent;
}

async function connect(t: TestContext, port: string): Promise<DeviceLink> {
  const link = await openDeviceLink(await openSerialTransport(port, { baudRate: 115200 }), { helloTimeoutMs: 10_000 });
  t.after(() => link.close('the test ended'));
  return link;
}

test('a docked agent identifies itself and answers every request', async (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  writeFileSync(path.join(root, 'bin', 'hello.sh'), '#!/bin/sh\necho "hello $1"\necho "to stderr" >&2\nexit 3\n');
  chmodSync(path.join(root, 'bin', 'hello.sh'), 0o755);
  writeFileSync(path.join(root, 'bin', 'notes.txt'), 'device notes\n');
  const pair = await ptyPair(t, dir);
  const agent = await agentOn(t, dir, pair.b, root, ['--id', 'DEV-0001', '--name', 'bench-1']);
  const link = await connect(t, pair.a);

  assert.equal(link.hello.id, 'DEV-0001');
  assert.equal(link.hello.name, 'bench-1');
  assert.match(link.hello.platform, /^linux \d+\.\d+ /);
  assert.match(link.hello.processor, /^\d+$/);
  assert.equal(link.hello.codePage, 65001);
  assert.ok(link.hello.lcid > 0);
  assert.equal(link.hello.protocolVersion, 1);
  assert.equal(link.hello.maxPayload, 4096, 'the largest frame that suits 115200 baud (payloadForLineRate)');
  assert.equal(link.hello.window, 8);
  assert.match(link.hello.agentVersion, /^dockhand-agent /);
  assert.equal(link.port, pair.a);

  const inventory = await link.machineInventory();
  assert.ok(inventory.Items.some((i) => i.name === 'Device_System'), 'machine inventory has Device_System');

  const listing = await link.listFiles([{ Filter: '*.*', Path: '\\bin', Recursive: false, ExcludeCompressed: false, ExcludeEncrypted: false }]);
  const names = listing.Directories[0]!.Files.map((f) => f.Name).sort();
  assert.deepEqual(names, ['hello.sh', 'notes.txt']);

  // a few hundred KiB with a SHA-256 check
  const data = randomBytes(300 * 1024 + 17);
  const source = path.join(dir, 'package.bin');
  writeFileSync(source, data);
  const progress: number[] = [];
  const saved = await link.putFile({
    directory: '\\Temp\\pkg', fileName: 'package.bin', sourceFile: source, size: data.length, sha256: sha(data), offset: 0,
    onProgress: (p) => progress.push(p.bytesDone),
  });
  assert.equal(saved, '\\Temp\\pkg\\package.bin');
  assert.ok(readFileSync(path.join(root, 'Temp', 'pkg', 'package.bin')).equals(data), 'the file on the device is the one sent');
  assert.equal(progress.at(-1), data.length);
  assert.ok(progress.length > 10 && progress.every((v, i) => i === 0 || v >= progress[i - 1]!), 'progress rises to the end');
  assert.equal(await link.queryPutOffset('\\Temp\\pkg', 'package.bin', data.length, sha(data)), 0, 'nothing partial is left');

  // a wrong SHA-256 is refused by the device and the file is not committed
  await assert.rejects(
    link.putFile({ directory: '\\Temp', fileName: 'bad.bin', sourceFile: source, size: data.length, sha256: sha(Buffer.from('x')), offset: 0 }),
    (err: unknown) => err instanceof DockhandError && err.code === 'HASH_MISMATCH' && /SHA-256/.test(err.message),
  );

  const run = await link.runCommand('hello.sh "big world"', '\\bin', 20_000);
  assert.equal(run.exitCode, 3);
  assert.equal(run.signal, null);
  assert.match(run.output, /hello big world/);
  assert.match(run.output, /to stderr/);
  assert.equal(run.outputTruncated, false);

  // endless output: the device caps it, and so would the station
  const chatty = await link.runCommand('timeout 1 yes', '\\bin', 20_000);
  assert.equal(chatty.exitCode, 124);
  assert.equal(chatty.outputTruncated, true);
  assert.ok(Buffer.byteLength(chatty.output) <= 64 * 1024, `output capped (${Buffer.byteLength(chatty.output)} bytes)`);

  await assert.rejects(link.runCommand('no-such-program', '\\bin', 5000), (err: unknown) => err instanceof DockhandError && err.code === 'COMMAND_FAILED');
  await assert.rejects(link.runCommand('hello.sh', '\\..\\etc', 5000), (err: unknown) => err instanceof DockhandError && err.code === 'PATH_REFUSED');

  const got = await link.getFile('\\Temp\\pkg\\package.bin', 1024 * 1024);
  assert.ok(got.equals(data), 'getFile returns the bytes');
  await assert.rejects(link.getFile('\\Temp\\pkg\\package.bin', 1000), (err: unknown) => err instanceof DockhandError && /1000/.test(err.message));
  await assert.rejects(link.getFile('\\nothing.txt', 1000), (err: unknown) => err instanceof DockhandError && /no file/.test(err.message));

  await link.removeFile('\\Temp\\pkg\\package.bin');
  await assert.rejects(link.getFile('\\Temp\\pkg\\package.bin', 1024 * 1024), /no file/);

  const record = JSON.parse(readFileSync(path.join(root, '.dockhand-agent', 'installed.json'), 'utf8')) as {
    files: { path: string }[]; commands: { commandLine: string; exitCode: number | null }[];
  };
  assert.deepEqual(record.files, [], 'the removed file left the record');
  assert.deepEqual(record.commands.map((c) => [c.commandLine, c.exitCode]), [['hello.sh "big world"', 3], ['timeout 1 yes', 124]]);

  await link.close('done');
  assert.equal(link.closed, true);
  await waitFor('the agent to log the goodbye', () => agent.out().includes('the station said goodbye'));
  agent.kill('SIGTERM');
  assert.equal(await agent.exited, 0, 'the agent exits cleanly on SIGTERM');
  assert.match(agent.out(), /stopped/);
});

test('the identity is generated once and kept across restarts', async (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  const pair = await ptyPair(t, dir);
  const first = await agentOn(t, dir, pair.b, root);
  const link1 = await connect(t, pair.a);
  const id = link1.hello.id;
  assert.match(id, /^[0-9A-F]{8}-[0-9A-F]{4}-/);
  await link1.close();
  first.kill('SIGINT');
  assert.equal(await first.exited, 0);
  await agentOn(t, dir, pair.b, root);
  const link2 = await connect(t, pair.a);
  assert.equal(link2.hello.id, id);
});

test('three devices docked at once each take their own file', async (t) => {
  const dir = tempDir(t);
  const devices = await Promise.all([0, 1, 2].map(async (i) => {
    const root = path.join(dir, `root${i}`);
    const pair = await ptyPair(t, dir, `dev${i}`);
    await agentOn(t, dir, pair.b, root, ['--id', `DEV-${i}`]);
    return { root, link: await connect(t, pair.a) };
  }));
  assert.deepEqual(devices.map((d) => d.link.hello.id), ['DEV-0', 'DEV-1', 'DEV-2']);
  const files = devices.map((_, i) => randomBytes(120 * 1024 + i));
  await Promise.all(devices.map((d, i) => {
    const source = path.join(dir, `f${i}`);
    writeFileSync(source, files[i]!);
    return d.link.putFile({ directory: '\\in', fileName: 'f.bin', sourceFile: source, size: files[i]!.length, sha256: sha(files[i]!), offset: 0 });
  }));
  devices.forEach((d, i) => assert.ok(readFileSync(path.join(d.root, 'in', 'f.bin')).equals(files[i]!), `device ${i} got its own file`));
});
