import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const fixtures = path.join(root, 'test', 'fixtures', 'protocol');

/** Runs the real command, with the repository's Node 22 first on PATH as the house rules require. */
function dockhand(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` };
  const r = spawnSync('node', [path.join(root, 'bin', 'dockhand.mjs'), ...args], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('dockhand protocol parse prints the seed as { kind, value } JSON and exits 0', () => {
  const r = dockhand('protocol', 'parse', path.join(fixtures, 'seed-instructions.xml'));
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { kind: string; value: { Packages: Array<Record<string, unknown>> } };
  assert.equal(out.kind, 'Instructions');
  const p = out.value.Packages[0];
  assert.equal(p?.ID, '9A437CA5-5B17-4486-9E87-260742074A72');
  assert.equal(p?.PackageSize, 9448526);
  assert.deepEqual(p?.Recurrence, { Interval: 86_400_000, Behavior: 'Download and Execute' });
  assert.match(r.stdout, /^\{\n {2}"kind": "Instructions",\n/); // pretty-printed
  assert.equal(r.stderr, '');
});

test('dockhand protocol parse prints one line on stderr and exits 2 for a bad document', () => {
  const r = dockhand('protocol', 'parse', path.join(fixtures, 'bad-instructions-zero-interval.xml'));
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /Instructions: \/Instructions\/Package\[1\]\/Recurrence\/Interval: '0000-00-00 00:00:00' is not a positive duration/);
});

test('dockhand protocol exits 2 for a missing file, a non-UTF-8 file and bad usage', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-protocol-cli-'));
  try {
    const missing = dockhand('protocol', 'parse', path.join(dir, 'nope.xml'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read .*nope\.xml: no such file/);
    const latin1 = path.join(dir, 'latin1.xml');
    writeFileSync(latin1, Buffer.from('<Inventory type="caf\xe9"/>', 'latin1'));
    const notUtf8 = dockhand('protocol', 'parse', latin1);
    assert.equal(notUtf8.status, 2);
    assert.match(notUtf8.stderr, /not UTF-8/);
    const malformed = path.join(dir, 'malformed.xml');
    writeFileSync(malformed, '<Status>\n  <StatusMessage packageID="p" messageID="1">\n</Status>\n');
    const bad = dockhand('protocol', 'parse', malformed);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /Status: not well-formed XML at line 3/);
    assert.equal(dockhand('protocol').status, 2);
    assert.equal(dockhand('protocol', 'parse').status, 2);
    assert.equal(dockhand('protocol', 'explode', latin1).status, 2);
    assert.equal(dockhand('protocol', 'parse', latin1, 'extra').status, 2);
    const help = dockhand('protocol', '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /usage: dockhand protocol parse FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
