// `dockhand server` argument handling in-process: every bad value gets exit code 2 and one line that
// names the option and the problem; good commands print their result on stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { serverCommand } from '../../server/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** Run serverCommand in-process, capturing what it writes. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await serverCommand(args, { out: (text) => { stdout += text; }, err: (text) => { stderr += text; } });
  return { code, stdout, stderr };
}

test('bad usage and bad values give exit code 2 and one line naming the problem', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const file = path.join(dir, 'ok.cab');
  writeFileSync(file, 'x');
  const add = ['package', 'add', '--data', data, '--file', file, '--name', 'N'];
  const cases: Array<[string[], RegExp]> = [
    [[...add, '--flags', 'zz'], /--flags: .*'zz'/],
    [[...add, '--flags', '01 02 03 04 05'], /--flags: /],
    [[...add, '--start', '2024-13-01 00:00:00'], /start time: .*month 13/],
    [[...add, '--start', 'tomorrow'], /start time: /],
    [[...add, '--utc'], /--utc only makes sense with --start/],
    [[...add, '--required', 'maybe'], /--required must be yes or no/],
    [[...add, '--source-files', 'perhaps'], /--source-files must be yes or no/],
    [[...add, '--id', 'not-a-guid'], /not a GUID/],
    [[...add, '--recur', 'daily'], /--recur: /],
    [[...add, '--recur', '0000-00-00 00:00:00'], /longer than zero/],
    [[...add, '--recur', '0000-00-01 00:00:00', '--behavior', 'Sometimes'], /--behavior must be/],
    [[...add, '--behavior', 'Execute Only'], /--behavior only makes sense with --recur/],
    [[...add, '--command', 'two\nlines'], /one line/],
    [[...add, '--bogus', '1'], /unknown option --bogus/],
    [[...add, '--name', 'again'], /--name is given more than once/],
    [[...add, '--dest'], /--dest needs a value/],
    [['package', 'add', '--data', data, '--file', path.join(dir, 'missing.cab'), '--name', 'N'], /does not exist/],
    [['package', 'add', '--data', data, '--file', dir, '--name', 'N'], /not a regular file/],
    [['package', 'add', '--data', data, '--file', file], /--name NAME is required/],
    [['package', 'remove', '--data', data, '--package', '9A437CA5-5B17-4486-9E87-260742074A72'], /no package/],
    [['assign', '--data', data, '--package', '9A437CA5-5B17-4486-9E87-260742074A72', '--device', '*'], /no package/],
    [['assign', '--data', data, '--package', '9A437CA5-5B17-4486-9E87-260742074A72'], /--device DEVICE-ID/],
    [['settings', '--data', data, '--poll-interval', '5min'], /--poll-interval: /],
    [['settings', '--data', data, '--poll-interval', '0000-00-00 00:00:00'], /at least one second/],
    [['settings', '--data', data, '--filter', '*.exe', '--path', '\\'], /--filter must follow/],
    [['settings', '--data', data, '--software-inventory', 'on', '--filter', '*.exe'], /each --filter needs a --path/],
    [['settings', '--data', data, '--retry-count', '-1'], /--retry-count must be a whole number/],
    [['settings', '--data', data, '--poll-server', 'http://x/'], /poll server/],
    [['settings', '--data', data, '--device', 'a\u0001b'], /device ID/],
    [['--data', data, '--port', '70000'], /--port must be 0–65535/],
    [['--data', data, '--public-url', 'ftp://x'], /public URL/],
    [['--data', data, '--max-collect-bytes', 'lots'], /--max-collect-bytes/],
    [['--port', '0'], /--data DIR is required/],
    [['package', 'frobnicate'], /needs add, list or remove/],
    [['frobnicate', '--data', data], /unknown subcommand 'frobnicate'/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.match(r.stderr, /^dockhand server: [^\n]+\n$/, `one line: ${JSON.stringify(r.stderr)}`);
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('good admin commands print their result: the new ID, a listing, settings, the log', async (t) => {
  const dir = tempDir(t);
  const data = path.join(dir, 'data');
  const file = path.join(dir, 'ok.cab');
  writeFileSync(file, 'x');
  const added = await run(['package', 'add', '--data', data, '--file', file, '--name', 'N', '--flags', '03 00 00 00']);
  assert.equal(added.code, 0, added.stderr);
  const id = added.stdout.trim();
  assert.match(id, /^[0-9A-F-]{36}$/);
  assert.match((await run(['assign', '--data', data, '--package', id, '--device', '*'])).stdout, /assigned .* to \*/);
  assert.match((await run(['assign', '--data', data, '--package', id, '--device', '*'])).stdout, /already assigned/);
  const listing = await run(['package', 'list', '--data', data]);
  assert.match(listing.stdout, new RegExp(`^${id}  N  ok\\.cab \\(1 bytes\\)  required; flags 03 00 00 00; assigned to \\*\\n$`));
  const settings = JSON.parse((await run(['settings', '--data', data, '--device', 'D1', '--retry-count', '9'])).stdout) as { scope: string; retryCount: number };
  assert.deepEqual([settings.scope, settings.retryCount], ['D1', 9]);
  assert.deepEqual(JSON.parse((await run(['log', '--data', data, '--json'])).stdout), []);
  assert.match((await run(['unassign', '--data', data, '--package', id, '--device', 'D1'])).stdout, /nothing changed/);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /dockhand server package add/);
});
