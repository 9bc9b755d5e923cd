// Kit files are hostile data (issue 9 item 2): a real kit (real SQLite index, real station cache) is exported,
// its archive taken apart and put back together with one hostile change at a time — an entry named `..` or
// absolute, a link, a device, an entry the manifest does not list, the manifest not first, a manifest that
// names a path or an ID no station writes, a part that is not the answer it claims — and each import is
// refused whole: the kit imported before stays as it was, no temporary folder is left, nothing lands where
// the archive's names point.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { tempDir } from '../helpers/tmp.js';
import { KitStore } from '../../electron/store/kit-store.js';
import { PackageCache } from '../../electron/engine/package-cache.js';
import { RateLimiter } from '../../electron/engine/transfer/rate-limiter.js';
import { ManualClock } from '../../electron/engine/clock.js';
import { KIT_USER } from '../../electron/engine/kit/refresh.js';
import { exportKit } from '../../electron/station/kit-export.js';
import { importKit } from '../../electron/station/kit-import.js';
import { buildInstructions, buildPackageLocation, buildPollResponse } from '../../shared/protocol/index.js';

const PKG = '9A437CA5-5B17-4486-9E87-260742074A72';
const PROFILE = 'SCANNER-TEMPLATE';
const BYTES = Buffer.from('the package bytes\n');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Opened {
  dir: string;
  store: KitStore;
  cache: PackageCache;
}

function open(t: TestContext, dir = tempDir(t)): Opened {
  const clock = new ManualClock(Date.UTC(2026, 11, 1, 14, 2));
  const store = new KitStore(path.join(dir, 'kit', 'kit.sqlite'));
  const cache = new PackageCache(path.join(dir, 'cache'), new RateLimiter(0), clock);
  t.after(() => {
    store.close();
    cache.close();
  });
  return { dir, store, cache };
}

/**
 * A station whose kit holds one profile with one package, exported to a file. `answer` writes each answer's
 * bytes as its server sent them (UTF-8 by default; a .NET server may send UTF-16).
 */
async function exportedKit(t: TestContext, answer: (xml: string) => Buffer = (xml) => Buffer.from(xml)): Promise<string> {
  const src = open(t);
  const now = Date.UTC(2026, 11, 1, 14, 2);
  src.store.upsertProfile(PROFILE, 'scanner', 'configured');
  src.store.setListed(PROFILE, [PKG]);
  src.store.putPart(PROFILE, 'poll', '', answer(buildPollResponse({ Settings: {}, ApplicablePackages: [PKG] })), now);
  src.store.putPart(PROFILE, 'instructions', PKG, answer(buildInstructions({ Packages: [{
    ID: PKG, Required: true, Name: 'Scanner app', PackageSize: BYTES.length, LocalDestination: '\\Temp', SourceFiles: true, SHA256: sha(BYTES),
  }] })), now);
  src.store.putPart(PROFILE, 'location', PKG, answer(buildPackageLocation({
    PackageID: PKG, Locations: [{ metric: 1, URL: `http://dm.example/packages/${PKG}/app.bin`, Subnets: [] }],
  })), now);
  const staged = path.join(src.dir, 'app.bin');
  writeFileSync(staged, BYTES);
  await src.cache.adopt(staged, { packageId: PKG, fileName: 'app.bin', url: `http://dm.example/packages/${PKG}/app.bin`, size: BYTES.length, sha256: sha(BYTES), userId: KIT_USER });
  src.store.putFile({ packageId: PKG, name: 'Scanner app', fileName: 'app.bin', size: BYTES.length, sha256: sha(BYTES), fetchedAt: now });
  const file = path.join(src.dir, 'kit.tar');
  const profiles = [{ deviceId: PROFILE, name: 'scanner', origin: 'configured' as const }];
  await exportKit({ dataDir: src.dir, store: src.store, cache: src.cache, profiles, defaultProfile: profiles[0]!, station: 'ST-1', now }, file);
  return file;
}

interface Entry {
  path: string;
  type: string;
  body: Buffer;
  linkpath?: string;
}

async function entriesOf(file: string): Promise<Entry[]> {
  const out: Entry[] = [];
  await tar.t({
    file, onReadEntry: (e) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () => out.push({ path: e.path, type: e.type, body: Buffer.concat(chunks) }));
    },
  });
  return out;
}

/** A tar archive written header by header, so a test can put in it what no honest writer would. */
function tarOf(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const size = e.type === 'File' ? e.body.length : 0;
    const header = new tar.Header({ path: e.path, type: e.type as 'File', size, mode: 0o644, mtime: new Date(0), ...(e.linkpath ? { linkpath: e.linkpath } : {}) });
    const block = Buffer.alloc(512);
    header.encode(block);
    blocks.push(block);
    if (size) blocks.push(e.body, Buffer.alloc((512 - (size % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function withManifest(entries: Entry[], change: (m: Record<string, unknown> & { parts: Array<Record<string, unknown>> }) => void): Entry[] {
  const m = JSON.parse(entries[0]!.body.toString('utf8'));
  change(m);
  return [{ ...entries[0]!, body: Buffer.from(JSON.stringify(m)) }, ...entries.slice(1)];
}

test('answers a server sent in UTF-16 are kept as they came and import, as the station reads them live', async (t) => {
  const utf16 = (xml: string) => Buffer.from(`\ufeff${xml}`, 'utf16le');
  const file = await exportedKit(t, utf16);
  const dst = open(t);
  await importKit({ dataDir: dst.dir, store: dst.store, cache: dst.cache }, file);
  const poll = dst.store.part(PROFILE, 'poll');
  assert.ok(poll, 'the poll answer was imported');
  assert.deepEqual([...poll.body.subarray(0, 2)], [0xff, 0xfe], 'kept as the server sent it');
});

test('a kit file rebuilt entry by entry imports; every hostile change to it is refused whole', async (t) => {
  const good = await entriesOf(await exportedKit(t));
  assert.deepEqual(good.map((e) => e.path), ['manifest.json', 'parts/000001.xml', 'parts/000002.xml', 'parts/000003.xml', 'files/000004.bin']);
  const dst = open(t);
  const write = (name: string, entries: Entry[]) => {
    const file = path.join(dst.dir, '..', `${path.basename(dst.dir)}-${name}.tar`);
    writeFileSync(file, tarOf(entries));
    t.after(() => {
      if (existsSync(file)) writeFileSync(file, '');
    });
    return file;
  };
  // The honest rebuild first: the writer below is sound, and there is a kit for the refusals to leave alone.
  await importKit({ dataDir: dst.dir, store: dst.store, cache: dst.cache }, write('good', good));
  const before = JSON.stringify({ parts: dst.store.partTimes(), files: dst.store.files(), profiles: dst.store.profiles() });
  assert.equal(dst.cache.verifiedCopy(PKG, BYTES.length, sha(BYTES))?.fileName, 'app.bin');

  const file = good.find((e) => e.path === 'files/000004.bin')!;
  const cases: Array<[string, Entry[], RegExp]> = [
    ['a name with ..', [...good, { path: '../evil.xml', type: 'File', body: Buffer.from('x') }], /it holds \.\.\/evil\.xml, which its manifest does not list/],
    ['an absolute name', [...good, { path: '/tmp/evil.xml', type: 'File', body: Buffer.from('x') }], /it holds \/tmp\/evil\.xml, which its manifest does not list/],
    ['an entry the manifest does not list', [...good, { path: 'parts/000099.xml', type: 'File', body: Buffer.from('x') }], /parts\/000099\.xml, which its manifest does not list/],
    ['a link in place of a part', [...good.slice(0, 4), { path: file.path, type: 'SymbolicLink', body: Buffer.alloc(0), linkpath: '/etc/passwd' }], /it holds files\/000004\.bin as a SymbolicLink/],
    ['a hard link', [...good.slice(0, 4), { path: file.path, type: 'Link', body: Buffer.alloc(0), linkpath: 'parts/000001.xml' }], /as a Link/],
    ['a device', [...good, { path: 'parts/000005.xml', type: 'CharacterDevice', body: Buffer.alloc(0) }], /as a CharacterDevice/],
    ['a folder', [...good, { path: 'parts/', type: 'Directory', body: Buffer.alloc(0) }], /as a Directory/],
    ['the manifest second', [good[1]!, good[0]!, ...good.slice(2)], /its first entry is parts\/000001\.xml, not the manifest/],
    ['a part twice', [...good, good[1]!], /it holds parts\/000001\.xml twice/],
    ['a manifest naming ..', withManifest(good, (m) => {
      m.parts[0]!.entry = '../evil.xml';
    }).map((e) => (e.path === 'parts/000001.xml' ? { ...e, path: '../evil.xml' } : e)), /is not a part name a station writes/],
    ['a hostile package ID', withManifest(good, (m) => {
      m.parts[1]!.packageId = '..';
    }), /the package ID '\.\.' is not a safe identifier/],
    ['a hostile file name', withManifest(good, (m) => {
      m.parts[3]!.fileName = '../../station.json';
    }), /parts\.3\.fileName/],
    ['a part that is not its answer', withManifest(good, (m) => {
      m.parts[0]!.sha256 = sha(Buffer.from('<Garbage/>'));
      m.parts[0]!.size = 10;
    }).map((e) => (e.path === 'parts/000001.xml' ? { ...e, body: Buffer.from('<Garbage/>') } : e)),
    /the poll answer for profile scanner \(parts\/000001\.xml\) is not a readable answer/],
    ['a manifest that is not JSON', [{ ...good[0]!, body: Buffer.from('{not json') }, ...good.slice(1)], /its manifest is not JSON/],
  ];
  for (const [name, entries, words] of cases) {
    await assert.rejects(importKit({ dataDir: dst.dir, store: dst.store, cache: dst.cache }, write(name.replace(/\W+/g, '-'), entries)),
      (err: Error) => {
        assert.match(err.message, words, name);
        assert.match(err.message, /is refused: .*; nothing of it was kept$/, name);
        return true;
      }, name);
    assert.equal(JSON.stringify({ parts: dst.store.partTimes(), files: dst.store.files(), profiles: dst.store.profiles() }), before, `${name}: the kit is as it was`);
    assert.equal(readFileSync(dst.cache.verifiedCopy(PKG, BYTES.length, sha(BYTES))!.path, 'utf8'), BYTES.toString(), `${name}: the cached file is as it was`);
    assert.deepEqual(readdirSync(dst.dir).filter((n) => n.endsWith('.tmp')), [], `${name}: no work folder is left`);
    assert.equal(existsSync(path.join(dst.dir, '..', 'evil.xml')) || existsSync('/tmp/evil.xml'), false, `${name}: nothing was written where the archive pointed`);
  }
});
