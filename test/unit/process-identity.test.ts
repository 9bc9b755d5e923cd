// Finding a command's process again after a restart: a pid is trusted only with the start time the OS
// reported when it was recorded (a pid the OS handed to another process is left alone), and ending it ends
// its whole process group. Real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { endRecordedProcess, processStartTime } from '../../electron/engine/local/process-identity.js';
import { processAlive } from '../helpers/processes.js';
import { waitFor } from '../helpers/tmp.js';

/** A command as the station starts one: its own process group, with a child of its own. */
function groupWithChild(t: { after(fn: () => unknown): void }) {
  const leader = spawn('sh', ['-c', 'sleep 600 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => { try { process.kill(-leader.pid!, 'SIGKILL'); } catch { /* ended */ } });
  let out = '';
  leader.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return { leader, child: () => Number(out.trim()) || undefined };
}

test('a process is known by pid and start time; a dead pid has none', async (t) => {
  const { leader } = groupWithChild(t);
  const started = await waitFor('the start time', () => processStartTime(leader.pid!));
  assert.match(started, /^(linux|darwin|win32):\S+/);
  assert.equal(processStartTime(leader.pid!), started, 'stable for the same process');
  assert.notEqual(processStartTime(process.pid), started);
  assert.equal(processStartTime(0), null);
  assert.equal(processStartTime(2 ** 22 + 12345), null);
});

test('ending a recorded process ends its whole group; a pid now owned by another start time is left alone', async (t) => {
  const { leader, child } = groupWithChild(t);
  const started = await waitFor('the start time', () => processStartTime(leader.pid!));
  const kid = await waitFor('the child', child);
  assert.equal(await endRecordedProcess(leader.pid!, `${started}0`), 'reused', 'another start time: not ours');
  assert.ok(processAlive(leader.pid!) && processAlive(kid), 'and untouched');
  assert.equal(await endRecordedProcess(leader.pid!, started), 'ended');
  assert.equal(processAlive(leader.pid!), false);
  assert.equal(processAlive(kid), false, 'the child went with the group');
  assert.equal(await endRecordedProcess(leader.pid!, started), 'gone');
});

test('a group whose leader exited but whose children still run is ended too', async (t) => {
  // The leader waits on its stdin, so its start time is read while it surely runs; closing stdin ends it.
  const leader = spawn('sh', ['-c', 'sleep 600 & echo $!; read line'], { detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  t.after(() => { try { process.kill(-leader.pid!, 'SIGKILL'); } catch { /* ended */ } });
  let out = '';
  leader.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const kid = Number(await waitFor('the child', () => out.trim()));
  const started = processStartTime(leader.pid!);
  assert.ok(started);
  const exited = new Promise((r) => leader.once('exit', r));
  leader.stdin!.end();
  await exited;
  assert.ok(processAlive(kid), 'the child outlived its leader');
  assert.equal(await endRecordedProcess(leader.pid!, started), 'ended');
  assert.equal(processAlive(kid), false);
});
