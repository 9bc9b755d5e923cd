import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DockhandError } from '../../shared/model/errors.js';
import { checkFileName, mapDevicePath, toDevicePath } from '../../electron/engine/local/device-path.js';

let work: string;
let root: string;
let outside: string;

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dockhand-devpath-'));
  root = path.join(work, 'station');
  outside = path.join(work, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'not for the server');
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

function refused(fn: () => unknown, ...words: string[]): DockhandError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DockhandError, `expected a DockhandError, got ${String(err)}`);
    assert.equal(err.code, 'PATH_REFUSED');
    for (const w of words) assert.ok(err.message.includes(w), `message '${err.message}' should mention '${w}'`);
    return err;
  }
  assert.fail('expected PATH_REFUSED, but the path was accepted');
}

describe('mapDevicePath', () => {
  test('maps a LocalDestination under the station folder, with or without the leading backslash', () => {
    assert.equal(mapDevicePath(root, '\\temp'), path.join(root, 'temp'));
    assert.equal(mapDevicePath(root, 'temp'), path.join(root, 'temp'));
    assert.equal(mapDevicePath(root, '/temp/a.exe'), path.join(root, 'temp', 'a.exe'));
    assert.equal(mapDevicePath(root, '\\Temp\\ContosoScanner\\setup.exe'), path.join(root, 'Temp', 'ContosoScanner', 'setup.exe'));
    assert.equal(mapDevicePath(root, '\\a\\\\b\\.\\c'), path.join(root, 'a', 'b', 'c'));
  });

  test('the device root is the station folder itself', () => {
    assert.equal(mapDevicePath(root, '\\'), root);
    assert.equal(mapDevicePath(root, ''), root);
  });

  test('reuses an existing folder or file whose name differs only by case', () => {
    fs.mkdirSync(path.join(root, 'Program Files', 'Contoso'), { recursive: true });
    fs.writeFileSync(path.join(root, 'Program Files', 'Contoso', 'Setup.EXE'), 'x');
    assert.equal(mapDevicePath(root, '\\PROGRAM FILES\\contoso\\New'), path.join(root, 'Program Files', 'Contoso', 'New'));
    assert.equal(mapDevicePath(root, '\\program files\\CONTOSO\\setup.exe'), path.join(root, 'Program Files', 'Contoso', 'Setup.EXE'));
  });

  test('prefers the exact spelling when both spellings exist on a case-sensitive host', (t) => {
    fs.mkdirSync(path.join(root, 'Dup'));
    if (fs.existsSync(path.join(root, 'dup'))) {
      t.diagnostic('case-insensitive host: only one spelling can exist');
      assert.equal(mapDevicePath(root, '\\dup'), path.join(root, 'Dup'));
      return;
    }
    fs.mkdirSync(path.join(root, 'dup'));
    assert.equal(mapDevicePath(root, '\\dup'), path.join(root, 'dup'));
    assert.equal(mapDevicePath(root, '\\Dup'), path.join(root, 'Dup'));
  });

  test('refuses climbing out with ..', () => {
    const err = refused(() => mapDevicePath(root, '..\\..\\etc'), "'..\\..\\etc'", '..', 'refused', root);
    assert.match(err.message, /could leave the station's folder/);
    refused(() => mapDevicePath(root, '\\..\\x'), '..');
    refused(() => mapDevicePath(root, 'a\\..\\..\\b'), '..');
    refused(() => mapDevicePath(root, '/temp/../../etc/passwd'), '..');
  });

  test('refuses drive letters and network paths', () => {
    refused(() => mapDevicePath(root, 'C:\\Windows'), 'drive', "'C:'");
    refused(() => mapDevicePath(root, 'c:relative'), 'drive');
    refused(() => mapDevicePath(root, '\\\\srv\\share'), 'network (UNC)');
    refused(() => mapDevicePath(root, '//srv/share/x'), 'network (UNC)');
    refused(() => mapDevicePath(root, '\\\\?\\C:\\x'), 'network (UNC)');
    refused(() => mapDevicePath(root, '\\temp\\a:stream'), "':'");
  });

  test('refuses reserved device names, also with an extension', () => {
    refused(() => mapDevicePath(root, 'a\\CON'), 'reserved device name');
    refused(() => mapDevicePath(root, '\\temp\\nul.txt'), 'reserved device name');
    refused(() => mapDevicePath(root, 'COM1'), 'reserved device name');
    refused(() => mapDevicePath(root, '\\lpt9\\x'), 'reserved device name');
    assert.equal(mapDevicePath(root, '\\console\\CONFIG'), path.join(root, 'console', 'CONFIG'));
  });

  test('refuses NUL and other control characters, naming them visibly', () => {
    refused(() => mapDevicePath(root, '\\temp\\a\u0000b'), 'control character', '<NUL>');
    refused(() => mapDevicePath(root, '\\temp\\a\nb'), 'control character', '<0x0a>');
  });

  test('refuses characters and endings Windows would reinterpret', () => {
    refused(() => mapDevicePath(root, '\\temp\\*.exe'), "'*'");
    refused(() => mapDevicePath(root, '\\temp\\a?'), "'?'");
    refused(() => mapDevicePath(root, '\\temp\\name.'), 'ending in a dot or space');
    refused(() => mapDevicePath(root, '\\temp \\x'), 'ending in a dot or space');
    refused(() => mapDevicePath(root, '\\...'), 'ending in a dot or space');
  });

  test('refuses overlong paths and names', () => {
    refused(() => mapDevicePath(root, `\\${'a'.repeat(100)}\\${'b'.repeat(100)}\\${'c'.repeat(58)}`), '261 characters', '260');
    assert.doesNotThrow(() => mapDevicePath(root, `\\${'a'.repeat(100)}\\${'b'.repeat(100)}\\${'c'.repeat(57)}`));
    refused(() => mapDevicePath(root, `\\${'é'.repeat(128)}`), '255 bytes');
  });

  test('refuses a link inside the folder that points outside it', () => {
    fs.symlinkSync(outside, path.join(root, 'escape'));
    refused(() => mapDevicePath(root, '\\escape\\secret.txt'), 'link', 'outside');
    refused(() => mapDevicePath(root, '\\escape'), 'link');
    refused(() => mapDevicePath(root, '\\ESCAPE\\new.txt'), 'link'); // found through the case-insensitive reuse
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'file-link'));
    refused(() => mapDevicePath(root, '\\file-link'), 'link');
  });

  test('refuses a dangling link, whose target could be created anywhere', () => {
    fs.symlinkSync(path.join(outside, 'not-yet'), path.join(root, 'dangling'));
    refused(() => mapDevicePath(root, '\\dangling'), 'points nowhere');
  });

  test('accepts a link that stays inside the folder, and a station folder reached through a link', () => {
    fs.mkdirSync(path.join(root, 'real'));
    fs.symlinkSync(path.join(root, 'real'), path.join(root, 'alias'));
    assert.equal(mapDevicePath(root, '\\alias\\x.exe'), path.join(root, 'alias', 'x.exe'));
    const linkedRoot = path.join(work, 'linked-station');
    fs.symlinkSync(root, linkedRoot);
    assert.equal(mapDevicePath(linkedRoot, '\\real\\y'), path.join(linkedRoot, 'real', 'y'));
    refused(() => mapDevicePath(linkedRoot, '\\escape\\secret.txt'), 'link');
  });

  test('works before the station folder exists', () => {
    const fresh = path.join(work, 'not-created');
    assert.equal(mapDevicePath(fresh, '\\temp'), path.join(fresh, 'temp'));
  });

  test('refuses a missing station folder or device path instead of crashing', () => {
    refused(() => mapDevicePath('', '\\temp'), 'not set');
    refused(() => mapDevicePath(root, undefined as unknown as string), 'missing');
  });
});

describe('toDevicePath', () => {
  test('is the inverse of mapDevicePath', () => {
    assert.equal(toDevicePath(root, path.join(root, 'temp', 'a.exe')), '\\temp\\a.exe');
    assert.equal(toDevicePath(root, root), '\\');
    assert.equal(toDevicePath(root, mapDevicePath(root, '\\x\\y')), '\\x\\y');
  });

  test('refuses a host path outside the station folder', () => {
    refused(() => toDevicePath(root, path.join(outside, 'secret.txt')), 'not inside');
    refused(() => toDevicePath(root, path.join(root, '..', 'outside')), 'not inside');
  });
});

describe('checkFileName', () => {
  test('accepts ordinary names unchanged', () => {
    for (const name of ['setup.exe', 'Contoso Scanner.cab', 'a', '.hidden', 'ünïcode.txt', 'x'.repeat(255)]) {
      assert.equal(checkFileName(name), name);
    }
  });

  test('refuses separators, dot names, reserved names, control characters and long names', () => {
    for (const name of ['', '.', '..', 'a/b', 'a\\b', 'CON', 'con.txt', 'LPT1', 'aux.log', 'a\u0001', 'a.', 'a ', 'a:b', 'x'.repeat(256), 'é'.repeat(128)]) {
      refused(() => checkFileName(name));
    }
  });
});
