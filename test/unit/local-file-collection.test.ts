import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { filterItem } from '../helpers/filters.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectFilesForCollection } from '../../electron/engine/local/file-collection.js';

const item = filterItem;

let work: string;
let root: string;

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dockhand-collect-'));
  root = path.join(work, 'station');
  const w = (rel: string, content: string | Buffer): void => {
    const p = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  };
  w('Logs/install.log', 'installed');
  w('Logs/Update.LOG', 'updated ok');
  w('Logs/notes.txt', 'not a log');
  w('Logs/old/2019.log', 'old');
  w('Logs/big.log', Buffer.alloc(5000, 0x41));
  w('Logs/archive.log', Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(10)]));
  fs.mkdirSync(path.join(work, 'outside'));
  fs.writeFileSync(path.join(work, 'outside', 'passwd.log'), 'secret');
  fs.symlinkSync(path.join(work, 'outside'), path.join(root, 'Logs', 'escape'));
  fs.symlinkSync(path.join(work, 'outside', 'passwd.log'), path.join(root, 'Logs', 'escape.log'));
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('selectFilesForCollection', () => {
  test('selects matching files with host paths, device paths and sizes, in report order', async () => {
    const files = await selectFilesForCollection(root, [item('\\Logs', '*.log', { Recursive: true })]);
    assert.deepEqual(
      files.map((f) => f.devicePath),
      ['\\Logs\\archive.log', '\\Logs\\big.log', '\\Logs\\install.log', '\\Logs\\Update.LOG', '\\Logs\\old\\2019.log'],
    );
    const install = files.find((f) => f.devicePath === '\\Logs\\install.log');
    assert.equal(install?.hostPath, path.join(root, 'Logs', 'install.log'));
    assert.equal(install?.size, 9);
    for (const f of files) assert.equal(fs.statSync(f.hostPath).size, f.size);
  });

  test('never selects anything through a link leading out of the station folder', async () => {
    const warnings: string[] = [];
    const files = await selectFilesForCollection(root, [item('\\Logs', '*', { Recursive: true }), item('\\Logs\\escape', '*')], {
      onWarning: (w) => warnings.push(w),
    });
    assert.ok(files.every((f) => !f.hostPath.includes('outside') && !f.devicePath.includes('escape')));
    assert.ok(warnings.some((w) => /escape.*link/.test(w)));
  });

  test('applies the same filters as the inventory: non-recursive, excludes', async () => {
    const files = await selectFilesForCollection(root, [item('Logs', '*.LOG', { ExcludeCompressed: true })]);
    assert.deepEqual(files.map((f) => f.devicePath), ['\\Logs\\big.log', '\\Logs\\install.log', '\\Logs\\Update.LOG']);
  });

  test('leaves out files over maxFileBytes and beyond maxFiles, and says so', async () => {
    const warnings: string[] = [];
    const files = await selectFilesForCollection(root, [item('\\Logs', '*.log', { Recursive: true })], {
      maxFileBytes: 1000,
      maxFiles: 2,
      onWarning: (w) => warnings.push(w),
    });
    assert.deepEqual(files.map((f) => f.devicePath), ['\\Logs\\archive.log', '\\Logs\\install.log']);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /big\.log.*5000 bytes/);
    assert.match(warnings[1] ?? '', /2 more file\(s\).*at most 2/);
  });

  test('a refused path selects nothing and warns', async () => {
    const warnings: string[] = [];
    const files = await selectFilesForCollection(root, [item('C:\\Windows', '*')], { onWarning: (w) => warnings.push(w) });
    assert.deepEqual(files, []);
    assert.match(warnings[0] ?? '', /drive/);
  });
});
