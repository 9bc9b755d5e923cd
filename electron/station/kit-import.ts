// Reading a field-kit file (docs/field-kit.md "Kit files"). The file is hostile data. It is read once, by
// tar's parser in strict mode: an entry that is not a regular file (a link, a device, a folder), or whose
// name is not one the manifest lists (absolute, `..`, anything else), or that comes before the manifest, is
// refused. Each listed part is written by this module — under a name of its own making, in a temporary
// folder inside the data folder — and its size and SHA-256 checked; every answer must parse with the normal
// parse* functions. Only when every part is good do the package files move into the station cache (by
// rename) and the kit's index get replaced, in one transaction. A refused file leaves nothing behind, and
// the message names the part that was bad.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdir, readFile, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import { documentText, parseInstructions, parsePackageLocation, parsePollResponse } from '../../shared/protocol/index.js';
import { DockhandError, describeError } from '../../shared/model/errors.js';
import { formatBytes } from '../../shared/model/units.js';
import { kitWorkFolder, packageKey } from '../engine/confine.js';
import type { KitContents, KitStore } from '../store/kit-store.js';
import type { PackageCache } from '../engine/package-cache.js';
import { KIT_USER } from '../engine/kit/refresh.js';
import {
  describePart, MANIFEST_ENTRY, ManifestSchema, MAX_MANIFEST_BYTES, partNumber, removeWorkLeftovers,
  type KitFileSummary, type KitManifest, type ManifestPart,
} from './kit-manifest.js';


export interface ImportTarget {
  dataDir: string;
  store: KitStore;
  cache: PackageCache;
}

/** One part as it arrives: counted and hashed on the way to its file in the work folder. */
interface Received {
  file: string;
  size: number;
  hash: ReturnType<typeof createHash>;
  ended: boolean;
  stream: WriteStream;
  closed: Promise<void>;
}

/** What reading the archive found, entry by entry. */
interface Reading {
  manifest: KitManifest | null;
  /** Bytes written per manifest entry, and the file each went to. */
  received: Map<string, Received>;
  refusal: string | null;
}

const refuse = (file: string, why: string) =>
  new DockhandError('PROTOCOL', `the field-kit file ${file} is refused: ${why}; nothing of it was kept`);

/** Loads a kit file into the station's data folder, replacing its field kit; refuses any bad file whole. */
export async function importKit(target: ImportTarget, file: string): Promise<KitFileSummary> {
  const source = path.resolve(file);
  if (!existsSync(source)) throw new DockhandError('STORAGE', `there is no file ${source}`);
  await removeWorkLeftovers(target.dataDir);
  const work = kitWorkFolder(target.dataDir, 'import', randomBytes(8).toString('hex'));
  await mkdir(work, { recursive: true });
  try {
    const reading = await readArchive(source, work);
    const manifest = checkReading(source, reading);
    await checkParts(source, manifest, reading);
    await checkRoom(target.dataDir, manifest, source);
    return await moveIntoPlace(target, manifest, reading, source);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** One pass of tar's strict parser: the manifest into memory, each listed part into `work`, nothing else. */
async function readArchive(source: string, work: string): Promise<Reading> {
  const reading: Reading = { manifest: null, received: new Map(), refusal: null };
  const refuseOnce = (why: string) => {
    reading.refusal ??= why;
  };
  let first = true;
  const listed = () => new Map((reading.manifest?.parts ?? []).map((p, i) => [p.entry, i]));
  let entries = new Map<string, number>();
  /** Why an entry is refused (its header alone decides), or null when it is a part to read. */
  const entryProblem = (name: string, type: string, isFirst: boolean): string | null => {
    if (type !== 'File') return `it holds ${name} as a ${type}, and a kit holds only files`;
    if (isFirst) return name === MANIFEST_ENTRY ? null : `its first entry is ${name}, not the manifest`;
    if (!reading.manifest) return `its entry ${name} comes before a readable manifest`;
    if (!entries.has(name)) return `it holds ${name}, which its manifest does not list`;
    if (reading.received.has(name)) return `it holds ${name} twice`;
    return null;
  };
  try {
    await tar.t({
      file: source, strict: true,
      // tar's own filter: only regular files the manifest names reach onReadEntry; the rest is refused.
      filter: (name, entry) => {
        const problem = entryProblem(name, 'type' in entry ? entry.type : 'File', first);
        first = false;
        if (problem) refuseOnce(problem);
        return problem === null;
      },
      onReadEntry: (entry) => {
        if (entry.path === MANIFEST_ENTRY && !reading.manifest && !reading.received.size) {
          const chunks: Buffer[] = [];
          let size = 0;
          entry.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_MANIFEST_BYTES) chunks.push(c);
          });
          // The parser reads the next header only after this entry's last byte, so the manifest is known by then.
          entry.on('end', () => {
            if (size > MAX_MANIFEST_BYTES) return refuseOnce(`its manifest is larger than ${formatBytes(MAX_MANIFEST_BYTES)}`);
            reading.manifest = parseManifest(Buffer.concat(chunks), refuseOnce);
            entries = listed();
          });
          return;
        }
        const index = entries.get(entry.path);
        const part = index === undefined ? undefined : reading.manifest?.parts[index];
        if (index === undefined || !part || reading.received.has(entry.path) || entry.type !== 'File') {
          // The filter let nothing else through; should a tar version pass more, it is still only refused.
          refuseOnce(entry.type !== 'File' ? `it holds ${entry.path} as a ${entry.type}, and a kit holds only files` : `it holds ${entry.path}, which its manifest does not list`);
          entry.resume();
          return;
        }
        const out = path.join(work, `part-${partNumber(index + 1)}`);
        const stream = createWriteStream(out, { flags: 'wx' });
        const record: Received = {
          file: out, size: 0, hash: createHash('sha256'), ended: false, stream,
          closed: new Promise((resolve) => stream.once('close', () => resolve())),
        };
        stream.on('error', (err) => refuseOnce(`${describePart(part, reading.manifest ?? undefined)} could not be written: ${describeError(err)}`));
        entry.on('data', (c: Buffer) => {
          record.size += c.length;
          record.hash.update(c);
        });
        entry.on('end', () => {
          record.ended = true;
        });
        entry.pipe(stream);
        reading.received.set(entry.path, record);
      },
    });
  } catch (err) {
    refuseOnce(truncation(err, reading) ?? `it is not a readable kit file (${describeError(err)})`);
  }
  // A part the archive cut off never ends: its file is closed here, and it is refused above.
  for (const r of reading.received.values()) if (!r.ended) r.stream.destroy();
  await Promise.all([...reading.received.values()].map((r) => r.closed));
  return reading;
}

function parseManifest(bytes: Buffer, refuse: (why: string) => void): KitManifest | null {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    refuse('its manifest is not JSON (the file is damaged)');
    return null;
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    refuse(`its manifest ${issue.path.length ? `(${issue.path.join('.')}) ` : ''}is not one: ${issue.message}`);
    return null;
  }
  return parsed.data;
}

/** tar says the input ended early: which part it ended in, or before. */
function truncation(err: unknown, reading: Reading): string | null {
  if ((err as { code?: string })?.code !== 'TAR_BAD_ARCHIVE' || !reading.manifest) return null;
  const cut = reading.manifest.parts.find((p) => (reading.received.get(p.entry)?.size ?? -1) < p.size);
  if (!cut) return 'it is truncated (it ends after its last part)';
  const got = reading.received.get(cut.entry);
  return got ? `it is truncated: ${describePart(cut, reading.manifest)} has ${got.size} of its ${cut.size} bytes`
    : `it is truncated: it ends before ${describePart(cut, reading.manifest)}`;
}

function checkReading(source: string, reading: Reading): KitManifest {
  if (reading.refusal) throw refuse(source, reading.refusal);
  const manifest = reading.manifest;
  if (!manifest) throw refuse(source, 'it holds no manifest');
  for (const p of manifest.parts) {
    const got = reading.received.get(p.entry);
    if (!got) throw refuse(source, `it lacks ${describePart(p, manifest)} (truncated or incomplete)`);
    if (got.size !== p.size) throw refuse(source, `${describePart(p, manifest)} has ${got.size} bytes, not the ${p.size} its manifest lists`);
    if (got.hash.digest('hex') !== p.sha256) throw refuse(source, `${describePart(p, manifest)} does not match its SHA-256 in the manifest (altered or damaged)`);
  }
  return manifest;
}

/** Every answer must read as the document it is, for the package it names. */
async function checkParts(source: string, manifest: KitManifest, reading: Reading): Promise<void> {
  for (const p of manifest.parts) {
    if (p.kind === 'file') continue;
    const text = documentText(await readFile(reading.received.get(p.entry)!.file));
    try {
      if (p.kind === 'poll') parsePollResponse(text);
      else if (p.kind === 'instructions') parseInstructions(text, p.packageId);
      else if (packageKey(parsePackageLocation(text).PackageID) !== packageKey(p.packageId)) throw new Error(`it is for package ${parsePackageLocation(text).PackageID}`);
    } catch (err) {
      throw refuse(source, `${describePart(p, manifest)} is not a readable answer: ${describeError(err)}`);
    }
  }
}

/** The files only move (rename) from here on; the kit's answers are small. Refuse early rather than fill the disk. */
async function checkRoom(dataDir: string, manifest: KitManifest, source: string): Promise<void> {
  const needed = manifest.parts.reduce((n, p) => n + (p.kind === 'file' ? 0 : p.size), 0) * 2;
  const s = await statfs(dataDir);
  const free = Number(s.bavail) * Number(s.bsize);
  if (free < needed) throw refuse(source, `the disk of ${dataDir} has ${formatBytes(free)} free and the kit's index needs ${formatBytes(needed)}`);
}

async function moveIntoPlace(target: ImportTarget, manifest: KitManifest, reading: Reading, source: string): Promise<KitFileSummary> {
  const body = async (p: ManifestPart) => readFile(reading.received.get(p.entry)!.file);
  const contents: KitContents = {
    defaultProfile: manifest.defaultProfile,
    profiles: manifest.profiles.map((p) => ({
      deviceId: p.deviceId, name: p.name, origin: 'imported', auth: '', timestamp: p.timestamp,
      refreshedAt: p.refreshedAt ? Date.parse(p.refreshedAt) : null, listed: p.listed,
    })),
    parts: [],
    files: [],
  };
  for (const p of manifest.parts) {
    if (p.kind === 'file') {
      contents.files.push({ packageId: p.packageId, name: p.name, fileName: p.fileName, size: p.size, sha256: p.sha256, fetchedAt: Date.parse(p.fetchedAt) });
    } else {
      contents.parts.push({
        profile: p.profile, kind: p.kind, packageId: p.kind === 'poll' ? '' : p.packageId, body: await body(p), size: p.size,
        sha256: p.sha256, fetchedAt: Date.parse(p.fetchedAt),
      });
    }
  }
  // Files first, then the index in one transaction: the index is what makes them the kit.
  let bytes = 0;
  for (const p of manifest.parts) {
    if (p.kind !== 'file') continue;
    await target.cache.adopt(reading.received.get(p.entry)!.file, {
      packageId: p.packageId, fileName: p.fileName, url: p.url, size: p.size, sha256: p.sha256, userId: KIT_USER,
    });
    bytes += p.size;
  }
  target.store.replaceAll(contents);
  return {
    file: source, profiles: manifest.profiles.map((p) => p.name), answers: contents.parts.length, files: contents.files.length, bytes, missing: [],
  };
}
