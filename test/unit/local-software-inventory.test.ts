import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { filterItem } from '../helpers/filters.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InventoryDirectory, InventoryFile } from '../../shared/protocol/types.js';
import { softwareInventory } from '../../electron/engine/local/software-inventory.js';
import { compileFilter } from '../../electron/engine/local/file-filter-walk.js';
import { formatDmLocalTime } from '../../electron/engine/local/dm-local-time.js';

const item = filterItem;
const names = (dir: InventoryDirectory | undefined): string[] => (dir?.Files ?? []).map((f) => f.Name);
const file = (dir: InventoryDirectory | undefined, name: string): InventoryFile => {
  const found = dir?.Files.find((f) => f.Name === name);
  assert.ok(found, `${name} should be listed`);
  return found;
};
const DM_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

let work: string;
let root: string;
const knownTime = new Date(2020, 0, 2, 3, 4, 5); // local time

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dockhand-swinv-'));
  root = path.join(work, 'station');
  const w = (rel: string, content: string | Buffer = 'MZ program', mode = 0o644): void => {
    const p = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    fs.chmodSync(p, mode);
    fs.utimesSync(p, knownTime, knownTime);
  };
  w('Windows/app.exe', 'MZ app', 0o755);
  w('Windows/readme.txt', 'read me');
  w('Windows/Lib.DLL');
  w('Windows/README', 'no extension');
  w('Windows/.hidden.exe');
  w('Windows/ro.exe', 'MZ', 0o444);
  w('Windows/pkg.exe', Buffer.concat([Buffer.from('MSCF'), Buffer.alloc(32)]));
  w('Windows/secret.exe', Buffer.concat([Buffer.from('Salted__'), Buffer.alloc(16)]));
  w('Windows/locked.exe', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x01, 0x00, 0, 0]));
  w('Windows/sub/tool.EXE');
  w('Windows/sub/deeper/x.exe');
  w('Windows/sub/bad:name.exe');
  fs.mkdirSync(path.join(root, 'Windows', 'empty'));
  w('Windows/sub/empty-but-txt/a.txt');
  fs.mkdirSync(path.join(work, 'outside'));
  fs.writeFileSync(path.join(work, 'outside', 'evil.exe'), 'MZ outside');
  fs.symlinkSync(path.join(work, 'outside'), path.join(root, 'Windows', 'link-out'));
  fs.symlinkSync(path.join(work, 'outside', 'evil.exe'), path.join(root, 'Windows', 'evil-link.exe'));
  fs.symlinkSync(path.join(root, 'Windows', 'app.exe'), path.join(root, 'Windows', 'inside-link.exe'));
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('compileFilter', () => {
  test('* and ? wildcards, case-insensitive, whole names only', () => {
    const exe = compileFilter('*.exe');
    assert.ok(exe('a.exe') && exe('A.EXE') && exe('.exe') && !exe('a.exe.bak') && !exe('aexe'));
    const q = compileFilter('setup?.cab');
    assert.ok(q('setup1.cab') && !q('setup.cab') && !q('setup12.cab'));
    assert.ok(compileFilter('a+b(1).txt')('A+B(1).TXT'));
  });

  test('*.* and empty match every name, ; separates patterns', () => {
    assert.ok(compileFilter('*.*')('README'));
    assert.ok(compileFilter('')('anything'));
    const many = compileFilter('*.exe; *.dll');
    assert.ok(many('a.exe') && many('b.DLL') && !many('c.txt'));
  });
});

describe('softwareInventory', () => {
  test('lists matching files of one folder with device-path names and CE attributes', async () => {
    const report = await softwareInventory(root, [item('\\Windows', '*.exe')]);
    assert.deepEqual(report.warnings, []);
    assert.equal(report.truncated, false);
    assert.equal(report.Directories.length, 1);
    const dir = report.Directories[0];
    assert.equal(dir?.Name, '\\Windows');
    assert.deepEqual(dir?.Directories, []);
    // Links are not followed, neither the one leading out nor the one staying inside.
    assert.deepEqual(names(dir), ['.hidden.exe', 'app.exe', 'locked.exe', 'pkg.exe', 'ro.exe', 'secret.exe']);

    const app = file(dir, 'app.exe');
    assert.equal(app.Size, 6);
    assert.equal(app.Version, '0.0.0');
    assert.equal(app.Company, '');
    assert.equal(app.Description, '');
    assert.equal(app.Attributes, 'ARCHIVE');
    assert.equal(app.LastModified, '2020-01-02 03:04:05');
    assert.equal(app.LastAccessed, '2020-01-02 03:04:05');
    assert.match(app.Created ?? '', DM_TIME);
    assert.equal(file(dir, '.hidden.exe').Attributes, 'ARCHIVE|HIDDEN');
    assert.equal(file(dir, 'ro.exe').Attributes, 'ARCHIVE|READONLY');
    assert.equal(file(dir, 'pkg.exe').Attributes, 'ARCHIVE|COMPRESSED');
    assert.equal(file(dir, 'locked.exe').Attributes, 'ARCHIVE|COMPRESSED');
    assert.equal(file(dir, 'secret.exe').Attributes, 'ARCHIVE');
    assert.match(dir?.Created ?? '', DM_TIME);
    assert.equal(dir?.LastAccessed, formatDmLocalTime(fs.statSync(path.join(root, 'Windows')).atime));
    assert.equal(dir?.Attributes, '');
  });

  test('taking an inventory does not change the access times the next one reports', async () => {
    await softwareInventory(root, [item('\\Windows', 'app.exe')]);
    const again = await softwareInventory(root, [item('\\Windows', 'app.exe')]);
    assert.equal(file(again.Directories[0], 'app.exe').LastAccessed, '2020-01-02 03:04:05');
  });

  test('recursion adds sub-folders that hold matches, with fully qualified names', async () => {
    const report = await softwareInventory(root, [item('Windows', '*.EXE', { Recursive: true })]);
    const dir = report.Directories[0];
    assert.deepEqual(dir?.Directories.map((d) => d.Name), ['\\Windows\\sub']);
    const sub = dir?.Directories[0];
    assert.deepEqual(names(sub), ['tool.EXE']);
    assert.deepEqual(sub?.Directories.map((d) => d.Name), ['\\Windows\\sub\\deeper']);
    assert.deepEqual(names(sub?.Directories[0]), ['x.exe']);
    // A host name no CE file system can hold is reported, not listed.
    assert.equal(report.warnings.length, 1);
    assert.match(report.warnings[0] ?? '', /bad:name\.exe/);
  });

  test('ExcludeCompressed and ExcludeEncrypted drop what they name', async () => {
    const both = await softwareInventory(root, [item('\\Windows', '*.exe', { ExcludeCompressed: true, ExcludeEncrypted: true })]);
    assert.deepEqual(names(both.Directories[0]), ['.hidden.exe', 'app.exe', 'ro.exe']);
    const encrypted = await softwareInventory(root, [item('\\Windows', '*.exe', { ExcludeEncrypted: true })]);
    assert.deepEqual(names(encrypted.Directories[0]), ['.hidden.exe', 'app.exe', 'pkg.exe', 'ro.exe']);
  });

  test('*.* lists names without a dot too; several items on one folder merge', async () => {
    const all = await softwareInventory(root, [item('\\Windows', '*.*')]);
    assert.ok(names(all.Directories[0]).includes('README'));
    const merged = await softwareInventory(root, [item('\\Windows', '*.dll'), item('\\WINDOWS', 'readme*')]);
    assert.equal(merged.Directories.length, 1);
    assert.deepEqual(names(merged.Directories[0]), ['Lib.DLL', 'README', 'readme.txt']);
  });

  test('overlapping items list each file once, nested items under their parent', async () => {
    const report = await softwareInventory(root, [item('\\Windows\\sub', '*.exe'), item('\\Windows', '*.exe', { Recursive: true })]);
    assert.deepEqual(report.Directories.map((d) => d.Name), ['\\Windows']);
    const sub = report.Directories[0]?.Directories.find((d) => d.Name === '\\Windows\\sub');
    assert.deepEqual(names(sub), ['tool.EXE']);
  });

  test('the device root itself is the folder named \\', async () => {
    const report = await softwareInventory(root, [item('\\', '*.dll', { Recursive: true })]);
    assert.equal(report.Directories[0]?.Name, '\\');
    assert.deepEqual(report.Directories[0]?.Directories.map((d) => d.Name), ['\\Windows']);
    assert.deepEqual(names(report.Directories[0]?.Directories[0]), ['Lib.DLL']);
  });

  test('a searched folder without matches is still reported, empty', async () => {
    const report = await softwareInventory(root, [item('\\Windows\\empty', '*.exe')]);
    assert.deepEqual(report.Directories.map((d) => [d.Name, d.Files.length, d.Directories.length]), [['\\Windows\\empty', 0, 0]]);
  });

  test('refused, missing and malformed items are skipped with warnings; the others still run', async () => {
    const warnings: string[] = [];
    const report = await softwareInventory(
      root,
      [item('..\\..\\etc', '*'), item('\\Windows\\link-out', '*.exe'), item('\\Nowhere', '*.exe'), item('\\Windows\\app.exe', '*'), item('\\Windows', 'sub\\*.exe'), item('\\Windows', '*.dll')],
      { onWarning: (w) => warnings.push(w) },
    );
    assert.deepEqual(report.Directories.map((d) => d.Name), ['\\Windows']);
    assert.deepEqual(names(report.Directories[0]), ['Lib.DLL']);
    assert.equal(report.warnings.length, 5);
    assert.deepEqual(warnings, report.warnings);
    assert.match(report.warnings[0] ?? '', /'\.\.\\\.\.\\etc'.*refused/);
    assert.match(report.warnings[1] ?? '', /link/);
    assert.match(report.warnings[2] ?? '', /does not exist/);
    assert.match(report.warnings[3] ?? '', /not a folder/);
    assert.match(report.warnings[4] ?? '', /cannot hold a path/);
    assert.ok(!JSON.stringify(report.Directories).includes('evil'));
  });

  test('maxEntries bounds the walk and says the listing is incomplete', async () => {
    const report = await softwareInventory(root, [item('\\Windows', '*', { Recursive: true })], { maxEntries: 3 });
    assert.equal(report.truncated, true);
    assert.match(report.warnings.at(-1) ?? '', /stopped after examining 3 entries/);
    assert.ok((report.Directories[0]?.Files.length ?? 0) <= 3);
  });
});
