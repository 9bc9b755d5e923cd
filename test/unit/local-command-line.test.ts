import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DockhandError } from '../../shared/model/errors.js';
import { runCommandLine, splitCommandLine } from '../../electron/engine/local/command-line.js';
import { OutputCapture } from '../../electron/engine/local/output-capture.js';

describe('splitCommandLine (CommandLineToArgvW rules)', () => {
  const cases: Array<[string, string[]]> = [
    ['setup.exe /q', ['setup.exe', '/q']],
    ['  install.cab  ', ['install.cab']],
    [String.raw`"C:\Program Files\App\setup.exe" /q "a b"`, [String.raw`C:\Program Files\App\setup.exe`, '/q', 'a b']],
    [String.raw`"C:\dir\" x`, ['C:\\dir\\', 'x']], // the program name keeps backslashes literally
    ['"my prog"x y', ['my prog', 'x', 'y']],
    ['prog\ta \t  b', ['prog', 'a', 'b']],
    [String.raw`prog a\\b c\d`, ['prog', String.raw`a\\b`, String.raw`c\d`]],
    [String.raw`prog "a\"b"`, ['prog', 'a"b']],
    [String.raw`prog a\\\"b`, ['prog', String.raw`a\"b`]],
    [String.raw`prog a\\\\"b c"`, ['prog', String.raw`a\\b c`]],
    [String.raw`prog "a\\" b`, ['prog', 'a\\', 'b']],
    ['prog "a""b"', ['prog', 'a"b']],
    ['prog "a""b c"', ['prog', 'a"b', 'c']],
    ['prog """a"""', ['prog', '"a"']],
    ['prog "" x', ['prog', '', 'x']],
    ['prog a"b c"d e', ['prog', 'ab cd', 'e']],
    ['prog x; rm -rf / && echo $(id) `id` | tee', ['prog', 'x;', 'rm', '-rf', '/', '&&', 'echo', '$(id)', '`id`', '|', 'tee']],
  ];
  for (const [line, expected] of cases) {
    test(`splits ${JSON.stringify(line)}`, () => assert.deepEqual(splitCommandLine(line), expected));
  }

  test('an empty command line or program name is an error a technician can read', () => {
    for (const line of ['', '   ', '\t\n']) {
      assert.throws(() => splitCommandLine(line), (e: unknown) => e instanceof DockhandError && e.code === 'COMMAND_FAILED' && /empty/.test(e.message));
    }
    assert.throws(() => splitCommandLine('"" x'), (e: unknown) => e instanceof DockhandError && /empty program name/.test(e.message));
    assert.throws(() => splitCommandLine('prog a\u0000b'), (e: unknown) => e instanceof DockhandError && /NUL/.test(e.message));
  });

  test('a long run of blanks inside a server-supplied line is read in one pass', () => {
    // Trimming with /^[ \t\r\n]+|[ \t\r\n]+$/ tried its second branch from every blank of an inner run and
    // walked the run each time: quadratic, so this line would hold the station for hours (and this test would
    // end in the runner's timeout). An index scan reads it in milliseconds.
    const blanks = ' \t'.repeat(500_000);
    assert.deepEqual(splitCommandLine(`prog${blanks}x${blanks}y\r\n`), ['prog', 'x', 'y']);
  });
});

describe('OutputCapture', () => {
  test('keeps everything under the cap, and the head and tail above it', () => {
    const small = new OutputCapture(16);
    small.push(Buffer.from('héllo'));
    assert.equal(small.text(), 'héllo');
    assert.equal(small.truncated, false);
    const big = new OutputCapture(10);
    for (const chunk of ['AAAA', 'BBBBBBBB', 'CC', 'DDDDDD']) big.push(Buffer.from(chunk));
    assert.equal(big.truncated, true);
    assert.equal(big.totalBytes, 20);
    assert.equal(big.text(), 'AAAAB\n[... 10 bytes of output omitted ...]\nDDDDD');
  });
});

describe('runCommandLine', () => {
  let work: string;
  let root: string;
  let pkg: string;

  const script = (dir: string, name: string, body: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, `#!/bin/sh\n${body}\n`);
    fs.chmodSync(p, 0o755);
    return p;
  };
  const failsWith = async (promise: Promise<unknown>, code: string, ...words: string[]): Promise<DockhandError> => {
    try {
      await promise;
    } catch (err) {
      assert.ok(err instanceof DockhandError, String(err));
      assert.equal(err.code, code, err.message);
      for (const w of words) assert.ok(err.message.includes(w), `'${err.message}' should mention '${w}'`);
      return err;
    }
    assert.fail(`expected ${code}`);
  };
  /** Waits (bounded) until the process is gone; a zombie waiting for init to reap it counts as gone. */
  const gone = async (pid: number): Promise<boolean> => {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        return true;
      }
      const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
      if (/^\d+ \(.*\) Z/.test(stat)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  };
  const waitForFile = async (p: string): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (!fs.existsSync(p) || fs.readFileSync(p, 'utf8') === '') {
      if (Date.now() > deadline) assert.fail(`${p} never appeared`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dockhand-cmd-'));
    root = path.join(work, 'station');
    pkg = path.join(root, 'Temp', 'pkg');
    fs.mkdirSync(pkg, { recursive: true });
    script(pkg, 'args.sh', 'for a in "$@"; do echo "[$a]"; done');
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  test('runs a script from the destination folder, in that folder, with its arguments', async () => {
    script(pkg, 'run.sh', 'echo "cwd=$(pwd)"\necho "args:$#:$1|$2"');
    const r = await runCommandLine({ commandLine: 'run.sh "a b" c', cwd: pkg, root });
    assert.equal(r.exitCode, 0);
    assert.equal(r.signal, null);
    assert.equal(r.timedOut, false);
    assert.equal(r.program, path.join(pkg, 'run.sh'));
    assert.deepEqual(r.args, ['a b', 'c']);
    assert.equal(r.output, `cwd=${fs.realpathSync(pkg)}\nargs:2:a b|c\n`);
    assert.equal(r.outputTruncated, false);
    assert.ok(r.durationMs >= 0);
  });

  test('looks in the destination folder before the host PATH', async () => {
    script(pkg, 'uname', 'echo "the package copy"');
    const r = await runCommandLine({ commandLine: 'uname', cwd: pkg, root });
    assert.equal(r.output, 'the package copy\n');
    const other = path.join(root, 'Other');
    fs.mkdirSync(other);
    const host = await runCommandLine({ commandLine: 'uname -s', cwd: other, root, hostPrograms: ['uname'] });
    assert.notEqual(host.program, path.join(pkg, 'uname'));
    assert.equal(host.exitCode, 0);
    assert.equal(host.output.trim(), os.type());
  });

  test('runs a program given as a device path, found case-insensitively', async () => {
    const other = path.join(root, 'Elsewhere');
    fs.mkdirSync(other);
    const r = await runCommandLine({ commandLine: '\\TEMP\\Pkg\\args.sh one', cwd: other, root });
    assert.equal(r.program, path.join(pkg, 'args.sh'));
    assert.equal(r.output, '[one]\n');
  });

  test('a non-zero exit is a result with the output of both streams', async () => {
    script(pkg, 'fail.sh', 'echo "to stdout"\necho "to stderr" >&2\nexit 3');
    const r = await runCommandLine({ commandLine: 'fail.sh', cwd: pkg, root });
    assert.equal(r.exitCode, 3);
    assert.equal(r.signal, null);
    assert.match(r.output, /to stdout/);
    assert.match(r.output, /to stderr/);
  });

  test('passes the given environment', async () => {
    script(pkg, 'env.sh', 'echo "FOO=$FOO"');
    const r = await runCommandLine({ commandLine: 'env.sh', cwd: pkg, root, env: { ...process.env, FOO: 'bar baz' } });
    assert.equal(r.output, 'FOO=bar baz\n');
  });

  test('never lets a shell interpret the command line: the marker file survives', async () => {
    const marker = path.join(pkg, 'marker');
    fs.writeFileSync(marker, 'still here');
    const lines = ['args.sh x; rm marker', 'args.sh x && rm marker', 'args.sh $(rm marker)', 'args.sh `rm marker`', 'args.sh | rm marker', 'args.sh > marker'];
    for (const commandLine of lines) {
      const r = await runCommandLine({ commandLine, cwd: pkg, root });
      assert.equal(r.exitCode, 0, commandLine);
      assert.equal(r.output, splitCommandLine(commandLine).slice(1).map((a) => `[${a}]\n`).join(''), commandLine);
      assert.equal(fs.readFileSync(marker, 'utf8'), 'still here', commandLine);
    }
    // The brief's own example: `a.sh;` is taken as the program's name, which does not exist.
    script(pkg, 'a.sh', 'echo ran');
    fs.mkdirSync(path.join(pkg, 'x'));
    await failsWith(runCommandLine({ commandLine: 'a.sh; rm -rf x', cwd: pkg, root }), 'COMMAND_REFUSED', "'a.sh;'");
    assert.ok(fs.existsSync(path.join(pkg, 'x')));
    assert.equal(fs.readFileSync(marker, 'utf8'), 'still here');
  });

  test('caps endless output, keeping head and tail, and kills it on timeout', async () => {
    script(pkg, 'chatty.sh', 'echo $$ > chatty.pid\necho FIRST-LINE\nwhile :; do echo 0123456789abcdefghijklmnopqrstuvwxyz; done');
    const r = await runCommandLine({ commandLine: 'chatty.sh', cwd: pkg, root, maxOutputBytes: 4096, timeoutMs: 2000 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.ok(r.signal === 'SIGTERM' || r.signal === 'SIGKILL', String(r.signal));
    assert.equal(r.outputTruncated, true);
    assert.ok(r.output.startsWith('FIRST-LINE\n'));
    assert.match(r.output, /\[\.\.\. \d+ bytes of output omitted \.\.\.\]/);
    assert.ok(Buffer.byteLength(r.output) < 4096 + 100, `kept ${Buffer.byteLength(r.output)} bytes`);
    assert.ok(await gone(Number(fs.readFileSync(path.join(pkg, 'chatty.pid'), 'utf8'))));
  });

  test('times out a hanging command and stops what it started', async () => {
    script(pkg, 'hang.sh', 'sleep 300 &\necho $! > sleep.pid\nwait');
    const started = Date.now();
    const r = await runCommandLine({ commandLine: 'hang.sh', cwd: pkg, root, timeoutMs: 2000 }); // time for sh to start its sleep on a busy machine
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.ok(Date.now() - started < 10_000);
    assert.ok(await gone(Number(fs.readFileSync(path.join(pkg, 'sleep.pid'), 'utf8'))), 'the background sleep was left running');
  });

  test('stops what a finished program left running, without waiting for it', async () => {
    script(pkg, 'daemon.sh', 'sleep 300 &\necho $! > bg.pid\necho started');
    const r = await runCommandLine({ commandLine: 'daemon.sh', cwd: pkg, root, timeoutMs: 60_000 });
    assert.equal(r.exitCode, 0);
    assert.equal(r.output, 'started\n');
    assert.ok(r.durationMs < 5_000, `took ${r.durationMs} ms`);
    assert.ok(await gone(Number(fs.readFileSync(path.join(pkg, 'bg.pid'), 'utf8'))));
  });

  test('a cancel stops the program and rejects with CANCELLED', async () => {
    script(pkg, 'slow.sh', 'echo $$ > slow.pid\nsleep 300');
    const controller = new AbortController();
    const running = runCommandLine({ commandLine: 'slow.sh', cwd: pkg, root, signal: controller.signal });
    await waitForFile(path.join(pkg, 'slow.pid'));
    controller.abort();
    await failsWith(running, 'CANCELLED', 'cancelled');
    assert.ok(await gone(Number(fs.readFileSync(path.join(pkg, 'slow.pid'), 'utf8'))));
    await failsWith(runCommandLine({ commandLine: 'slow.sh', cwd: pkg, root, signal: AbortSignal.abort() }), 'CANCELLED');
  });

  test('a station program runs only when allow-listed: a server cannot start a shell', async () => {
    const marker = path.join(pkg, 'shell-ran');
    for (const line of [`sh -c "touch ${marker}"`, `bash -c "touch ${marker}"`, `env touch ${marker}`, `touch ${marker}`]) {
      await failsWith(runCommandLine({ commandLine: line, cwd: pkg, root }), 'COMMAND_REFUSED', 'not in the package folder', '--allow-program');
      await failsWith(runCommandLine({ commandLine: line, cwd: pkg, root, hostPrograms: ['tar', 'unzip'] }), 'COMMAND_REFUSED');
    }
    assert.equal(fs.existsSync(marker), false, 'no shell ran');
    const bare = path.join(root, 'Bare');
    fs.mkdirSync(bare, { recursive: true });
    const allowed = await runCommandLine({ commandLine: 'uname -s', cwd: bare, root, hostPrograms: ['tar', 'uname'] });
    assert.equal(allowed.output.trim(), os.type(), 'an allow-listed program runs from the PATH');
    const device = await runCommandLine({ commandLine: 'uname -s', cwd: bare, root, hostPrograms: 'any' });
    assert.equal(device.exitCode, 0, "the device agent's 'any' runs the device's programs");
  });

  test('a program that is not there says where it was looked for', async () => {
    const err = await failsWith(runCommandLine({ commandLine: 'nothere.exe /q', cwd: pkg, root, hostPrograms: ['nothere.exe'] }),
      'COMMAND_FAILED', "'nothere.exe'", '\\Temp\\pkg', 'PATH');
    assert.equal(err.transient, false);
    await failsWith(runCommandLine({ commandLine: '\\Temp\\missing\\setup.exe', cwd: pkg, root }), 'COMMAND_FAILED', 'does not exist');
    await failsWith(runCommandLine({ commandLine: '\\Temp', cwd: pkg, root }), 'COMMAND_FAILED', 'is a folder');
  });

  test('a file that cannot be started says why', async () => {
    fs.writeFileSync(path.join(pkg, 'install.cab'), 'MSCF....');
    await failsWith(runCommandLine({ commandLine: 'install.cab', cwd: pkg, root }), 'COMMAND_FAILED', 'install.cab', 'not marked executable');
    script(pkg, 'badinterp.sh', 'true');
    fs.writeFileSync(path.join(pkg, 'badinterp.sh'), '#!/nonexistent/interpreter\n');
    await failsWith(runCommandLine({ commandLine: 'badinterp.sh', cwd: pkg, root }), 'COMMAND_FAILED', 'badinterp.sh', 'interpreter');
  });

  test('refuses batch files, paths leaving the station folder and a folder outside it', async () => {
    script(pkg, 'setup.bat', 'echo should not run');
    await failsWith(runCommandLine({ commandLine: 'setup.bat', cwd: pkg, root }), 'COMMAND_REFUSED', 'batch file');
    await failsWith(runCommandLine({ commandLine: 'SETUP.CMD', cwd: pkg, root }), 'COMMAND_REFUSED');
    await failsWith(runCommandLine({ commandLine: '..\\..\\..\\bin\\sh -c id', cwd: pkg, root }), 'PATH_REFUSED', '..');
    await failsWith(runCommandLine({ commandLine: 'args.sh', cwd: work, root }), 'PATH_REFUSED', 'not inside');
    const outside = fs.mkdtempSync(path.join(work, 'outside-'));
    script(outside, 'args.sh', 'echo escaped');
    fs.symlinkSync(outside, path.join(root, 'link-out'));
    await failsWith(runCommandLine({ commandLine: 'args.sh', cwd: path.join(root, 'link-out'), root }), 'PATH_REFUSED', 'not inside');
    await failsWith(runCommandLine({ commandLine: 'args.sh', cwd: path.join(root, 'nope'), root }), 'COMMAND_FAILED', 'does not exist');
    await failsWith(runCommandLine({ commandLine: '   ', cwd: pkg, root }), 'COMMAND_FAILED', 'empty');
  });
});
