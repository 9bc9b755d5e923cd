// Every path the station derives from server or device data, fed hostile values: package IDs, device IDs,
// file names from URLs, LocalDestination, saved paths to delete, collected file names, the program a
// command line names. Each must be refused, or land inside its folder — never on the station's own files.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { DockhandError } from '../../shared/model/errors.js';
import {
  cacheFolder, checkStationRoot, confineSavedPath, deviceFolder, deviceIdProblem, packageIdProblem, packageKey, protectOwnFolder,
} from '../../electron/engine/confine.js';
import { mapDevicePath } from '../../electron/engine/local/device-path.js';
import { fileNameFromUrl } from '../../electron/engine/download-event.js';
import { LocalTarget } from '../../electron/engine/local-target.js';
import { TetheredTarget } from '../../electron/engine/tethered-target.js';
import { PackageCache } from '../../electron/engine/package-cache.js';
import { RateLimiter } from '../../electron/engine/transfer/rate-limiter.js';
import { ClientStore } from '../../electron/store/client-store.js';
import { CacheStore } from '../../electron/store/cache-store.js';
import { ManualClock, systemClock } from '../../electron/engine/clock.js';
import { selectFilesForCollection } from '../../electron/engine/local/file-collection.js';
import { softwareInventory } from '../../electron/engine/local/software-inventory.js';
import type { DeviceLink } from '../../electron/link/device-link.js';
import { filterItem } from '../helpers/filters.js';
import { tempDir } from '../helpers/tmp.js';

/** The values a hostile server or device tries; each test says what must become of them. */
const HOSTILE = [
  '', '.', '..', '...', 'station.json', 'cache.sqlite', 'client.sqlite', '../station.json', '..\\..\\', '..\\station.json',
  '%2e%2e', '%2e%2e%2fstation.json', '/etc/passwd', '/', '\\', 'C:', 'C:\\Windows', 'c:station.json', '\\\\srv\\share', '//srv/share',
  'a\u0000b', '\u0000', 'x'.repeat(5000), 'ѕtation.json', 'ｓｔａｔｉｏｎ．ｊｓｏｎ', '\u2024\u2024', 'STATION.JSON', 'Station.Json',
  'CON', 'nul.txt', 'a:b', 'a\nb', ' ..', '.. ', 'targets', 'cache/cache.sqlite', 'targets/local/client.sqlite',
];

function refused(fn: () => unknown, code = 'PATH_REFUSED'): DockhandError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DockhandError, `expected a DockhandError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail('expected a refusal, but it was accepted');
}

const inside = (outer: string, p: string) => {
  const rel = path.relative(outer, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
};

describe('package and device IDs', () => {
  test('a package ID is a safe identifier or it is refused, naming the problem', () => {
    for (const ok of ['9A437CA5-5B17-4486-9E87-260742074A72', '{9A437CA5-5B17-4486-9E87-260742074A72}', 'pkg_1.2', 'station.json', 'a']) {
      assert.equal(packageIdProblem(ok), undefined, ok);
    }
    for (const bad of ['', '.', '..', '...', '.hidden', '-rf', '_x', '../station.json', '..\\..\\', '%2e%2e', '/etc/passwd', 'C:\\Windows',
      '\\\\srv\\share', 'a\u0000b', 'a b', 'x'.repeat(129), 'ѕtation.json', 'ｓｔａｔｉｏｎ', '\u2024\u2024', 'a:b', 'a/b']) {
      assert.ok(packageIdProblem(bad), `'${bad.slice(0, 20)}' must be refused`);
    }
  });

  test('folder names come from a hash: every hostile ID gets a fresh folder inside cache/ and targets/', () => {
    const data = '/data';
    const names = new Set<string>();
    for (const id of HOSTILE) {
      const c = cacheFolder(path.join(data, 'cache'), id);
      assert.match(path.basename(c), /^p-[0-9a-f]{32}$/);
      assert.equal(path.dirname(c), path.join(data, 'cache'));
      const d = deviceFolder(data, id);
      assert.match(path.basename(d), /^device-[0-9a-f]{32}$/);
      assert.equal(path.dirname(d), path.join(data, 'targets'));
      names.add(d);
    }
    assert.equal(names.size, HOSTILE.length, 'no two IDs share a device folder');
    assert.notEqual(deviceFolder(data, 'a/b'), deviceFolder(data, 'a_b'), 'the old naming made these one folder');
    assert.equal(cacheFolder('/c', 'abc-def'), cacheFolder('/c', 'ABC-DEF'), 'a package is one whatever its case');
    assert.equal(packageKey('abc-def'), 'ABC-DEF');
  });

  test('a device ID is any text without control characters or edge spaces, at most 128 characters', () => {
    for (const ok of ['HANDHELD-7', '..', 'station.json', 'Ä/\\:*', 'x'.repeat(128)]) assert.equal(deviceIdProblem(ok), undefined, ok);
    for (const bad of ['', '   ', 'a\u0000b', 'a\nb', ' a', 'x'.repeat(129)]) assert.ok(deviceIdProblem(bad), JSON.stringify(bad));
  });

  test('a root folder among the station\'s own files is refused at start', () => {
    for (const root of ['/data', '/data/cache', '/data/targets/x', '/data/station.json', '/data/CACHE']) {
      refused(() => checkStationRoot('/data', root));
    }
    for (const root of ['/data/root', '/elsewhere', '/', '/data/packages']) checkStationRoot('/data', root);
  });
});

describe('the station\'s own folder, with a root that contains it', () => {
  let work: string;
  let root: string;
  let data: string;
  let release: () => void;
  const sentinel = '{"sentinel":1}\n';

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dockhand-confine-'));
    root = path.join(work, 'root');
    data = path.join(root, 'data'); // `--root /x --data /x/data`: the data folder is inside the root
    fs.mkdirSync(path.join(data, 'targets', 'local'), { recursive: true });
    fs.mkdirSync(path.join(data, 'cache'), { recursive: true });
    fs.writeFileSync(path.join(data, 'station.json'), sentinel);
    fs.writeFileSync(path.join(data, 'cache', 'cache.sqlite'), 'index');
    fs.mkdirSync(path.join(root, 'Temp'), { recursive: true });
    fs.symlinkSync(data, path.join(root, 'Temp', 'shortcut'));
    release = protectOwnFolder(data);
  });
  after(() => {
    release();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const target = () => new LocalTarget({ id: 'T', root, bandwidth: () => 'high' });
  const untouched = () => {
    assert.equal(fs.readFileSync(path.join(data, 'station.json'), 'utf8'), sentinel);
    assert.equal(fs.readFileSync(path.join(data, 'cache', 'cache.sqlite'), 'utf8'), 'index');
  };

  test('no LocalDestination reaches it, in any case or through a link', () => {
    for (const dest of ['\\data', '\\DATA', '\\Data\\cache', 'data/targets/local', '\\Temp\\shortcut', '\\Temp\\shortcut\\cache', '\\Temp\\..\\data']) {
      refused(() => mapDevicePath(root, dest));
    }
    for (const dest of HOSTILE) {
      try {
        const p = mapDevicePath(root, dest);
        assert.ok(p === root || inside(root, p), `'${dest}' stays in the root`);
        assert.ok(!inside(data, p) && p !== data, `'${dest}' is not the data folder`);
      } catch (err) {
        assert.ok(err instanceof DockhandError && err.code === 'PATH_REFUSED', String(err));
      }
    }
  });

  test('install with hostile destinations and URL file names writes nothing of the station\'s', async () => {
    const src = path.join(work, 'pkg.bin');
    fs.writeFileSync(src, 'PACKAGE');
    const file = { path: src, size: 7, sha256: '0'.repeat(64) };
    const t = target();
    for (const dest of HOSTILE) {
      try {
        await t.checkDestination(dest, 'a.bin');
        const p = mapDevicePath(root, dest);
        assert.ok((p === root || inside(root, p)) && !inside(data, p), `'${dest}' → ${p}`);
      } catch (err) {
        assert.ok(err instanceof DockhandError && err.code === 'PATH_REFUSED', `'${dest}': ${String(err)}`);
      }
    }
    const installed: string[] = [];
    for (const dest of ['\\data', '\\DATA\\cache', '\\Temp\\shortcut', '\\Temp\\shortcut\\cache', '\\', '\\Inbox']) {
      for (const url of ['station.json', 'cache.sqlite', '..', '%2e%2e', '..%2fstation.json', '..%5cstation.json', 'a%00b', 'C%3A', '%2Fetc%2Fpasswd', 'STATION.JSON']) {
        const name = fileNameFromUrl(`http://h/p/${url}`);
        try {
          await t.checkDestination(dest, name);
          installed.push(path.relative(root, await t.install(file, dest, name)));
        } catch (err) {
          assert.ok(err instanceof DockhandError && err.code === 'PATH_REFUSED', `${dest} + ${url}: ${String(err)}`);
        }
      }
    }
    assert.deepEqual(installed.sort(), ['Inbox/STATION.JSON', 'Inbox/cache.sqlite', 'Inbox/station.json', 'STATION.JSON', 'cache.sqlite', 'station.json'],
      'only the device\'s own files of those names were written');
    untouched();
  });

  test('a saved path to delete is refused outside the root, on the station\'s files, on a folder', async () => {
    const t = target();
    for (const p of [path.join(data, 'station.json'), path.join(data, 'cache', 'cache.sqlite'), path.join(root, 'Temp', 'shortcut', 'station.json'),
      '/etc/passwd', root, path.join(root, '..'), path.join(root, 'Temp', '..', '..', 'x'), `${root}/../root2/x`, 'station.json', '..', 'a\u0000b']) {
      await assert.rejects(t.remove(p), `${p} must not be deleted`);
    }
    await assert.rejects(t.remove(path.join(root, 'Temp')), /folder/);
    untouched();
    const saved = path.join(root, 'Temp', 'gone.txt');
    fs.writeFileSync(saved, 'x');
    await t.remove(saved);
    assert.equal(fs.existsSync(saved), false, 'a file the target saved is deleted');
    assert.equal(confineSavedPath(root, path.join(root, 'Temp', 'a.txt')), path.join(root, 'Temp', 'a.txt'));
  });

  test('inventories and file collections never list or collect the station\'s files', async () => {
    const items = [filterItem('\\', '*', { Recursive: true }), filterItem('\\data', '*.*', { Recursive: true })];
    const collected = await selectFilesForCollection(root, items);
    assert.ok(collected.every((f) => !inside(data, f.hostPath)), collected.map((f) => f.devicePath).join(', '));
    const report = await softwareInventory(root, items);
    const names: string[] = [];
    const walk = (dirs: typeof report.Directories) => dirs.forEach((d) => { names.push(d.Name); walk(d.Directories); });
    walk(report.Directories);
    assert.ok(names.length > 0 && names.every((n) => !/^\\data/i.test(n) && !/shortcut/.test(n)), names.join(', '));
    assert.ok(report.warnings.some((w) => /\\data/.test(w)), 'the item naming the data folder is skipped with a warning');
  });

  test('a program named by a hostile command line is never made executable outside the package', async () => {
    const parent = path.join(work, 'mode-probe');
    fs.mkdirSync(path.join(parent, 'root'), { recursive: true });
    fs.chmodSync(parent, 0o700);
    const t = new LocalTarget({ id: 'P', root: path.join(parent, 'root'), bandwidth: () => 'high' });
    await assert.rejects(t.runCommand('.. x', '\\'));
    assert.equal(fs.statSync(parent).mode & 0o777, 0o700, 'the folder above the root kept its mode');
    fs.chmodSync(path.join(data, 'station.json'), 0o600);
    await assert.rejects(target().runCommand('station.json', '\\data'));
    await assert.rejects(target().runCommand('station.json', '\\Temp\\shortcut'));
    assert.equal(fs.statSync(path.join(data, 'station.json')).mode & 0o777, 0o600, 'station.json was not made executable');
    untouched();
  });
});

describe('names a device reports', () => {
  test('collected file names a device lists are checked; hostile ones are left out', async (t) => {
    const dir = tempDir(t);
    const store = new ClientStore(path.join(dir, 'client.sqlite'));
    t.after(() => store.close());
    const lines: string[] = [];
    const target = new TetheredTarget({ id: 'D', store, clock: systemClock, bandwidth: () => 'high', log: (l) => lines.push(l) });
    const file = (Name: string) => ({ Name, Size: 1 });
    // A test double for a hostile device: the listing a real agent would never send.
    const hostileDevice = {
      hello: { id: 'D', name: 'hostile', platform: '', processor: '', codePage: 0, lcid: 0, agentVersion: '', protocolVersion: 1, maxPayload: 1024, window: 1 },
      port: 'double', closed: false, onClose: () => undefined,
      listFiles: async () => ({ Directories: [
        { Name: '\\Logs', Directories: [{ Name: '\\..\\..\\etc', Directories: [], Files: [file('passwd')] }], Files: [file('ok.log'), file('..'), file('a\u0000b'), file('x\\..\\y'), file('C:')] },
        { Name: 'C:\\Windows', Directories: [], Files: [file('win.ini')] },
      ] }),
    } as unknown as DeviceLink;
    target.attach(hostileDevice);
    const files = await target.collectFiles([]);
    assert.deepEqual(files.map((f) => f.devicePath), ['\\Logs\\ok.log']);
    assert.equal(lines.filter((l) => l.startsWith('left out a file the device listed')).length, 6);
    await assert.rejects(target.remove('..\\..\\station.json'), (err: unknown) => err instanceof DockhandError && err.code === 'PATH_REFUSED');
  });
});

describe('the package cache', () => {
  async function fileServer(t: { after(fn: () => unknown): void }, body: Buffer): Promise<string> {
    const server = http.createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/p/setup.bin`;
  }

  test('a package used by two targets stays until the last one releases it', async (t) => {
    const dir = tempDir(t);
    const url = await fileServer(t, Buffer.alloc(1000, 1));
    const cache = new PackageCache(dir, new RateLimiter(0), new ManualClock(0));
    t.after(() => cache.close());
    const id = '9A437CA5-5B17-4486-9E87-260742074A72';
    await cache.fetch({ packageId: id, url, fileName: 'setup.bin', userId: 'STATION' });
    const reused = await cache.fetch({ packageId: id.toLowerCase(), url, fileName: 'setup.bin', userId: 'DEVICE' });
    assert.equal(reused.reused, true, 'the other spelling is the same package');
    const folder = cacheFolder(dir, id);
    await cache.release(id, 'STATION');
    assert.ok(fs.existsSync(path.join(folder, 'file')), 'kept while the device uses it');
    assert.deepEqual(cache.entries().map((e) => e.users), [['DEVICE']]);
    await cache.release(id.toLowerCase(), 'DEVICE');
    assert.equal(fs.existsSync(folder), false);
    assert.deepEqual(cache.entries(), []);
  });

  test('entries of the earlier layout move into their hashed folders; an entry naming the data folder is not followed', (t) => {
    const dir = tempDir(t);
    const cacheDir = path.join(dir, 'cache');
    const id = 'abc-123';
    fs.mkdirSync(path.join(cacheDir, id), { recursive: true });
    fs.writeFileSync(path.join(cacheDir, id, 'setup.bin'), 'DONE');
    fs.writeFileSync(path.join(dir, 'station.json'), 'settings');
    const store = new CacheStore(path.join(cacheDir, 'cache.sqlite'));
    store.saveCheckpoint({ packageId: id, fileName: 'setup.bin', url: 'http://h/setup.bin', validator: null, bytesDone: 4, expectedSize: 4, partPath: path.join(cacheDir, id, 'setup.bin.part') }, 1);
    store.markComplete(id, 'f'.repeat(64), 4, 1);
    store.saveCheckpoint({ packageId: '..', fileName: 'station.json', url: 'http://h/x', validator: null, bytesDone: 1, expectedSize: 8, partPath: path.join(cacheDir, '..', 'station.json.part') }, 1);
    store.close();

    const cache = new PackageCache(cacheDir, new RateLimiter(0), new ManualClock(0));
    t.after(() => cache.close());
    const moved = cacheFolder(cacheDir, id);
    assert.equal(fs.readFileSync(path.join(moved, 'file'), 'utf8'), 'DONE');
    assert.equal(fs.existsSync(path.join(cacheDir, id)), false);
    assert.deepEqual(cache.entries().map((e) => e.packageId).sort(), ['..', 'ABC-123']);
    assert.equal(fs.readFileSync(path.join(dir, 'station.json'), 'utf8'), 'settings', 'the data folder was not moved or touched');
  });
});
