// Writing a field-kit file (docs/field-kit.md "Kit files"): the whole kit as one tar archive, written with
// the `tar` package — `manifest.json` first (every part with its size and SHA-256), then the server's answers
// as they arrived (`parts/NNNNNN.xml`) and the package bytes (`files/NNNNNN.bin`), each checked against its
// recorded SHA-256 on the way out. Staged in a work folder inside the data folder (files hard-linked from
// the cache), written under a temporary name beside the target and renamed when complete.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import { DockhandError } from '../../shared/model/errors.js';
import { kitWorkFolder, packageKey } from '../engine/confine.js';
import { sha256Hex, type KitStore } from '../store/kit-store.js';
import type { PackageCache } from '../engine/package-cache.js';
import type { KitProfile } from '../engine/kit/refresh.js';
import {
  KIT_FORMAT, MANIFEST_ENTRY, partNumber, removeWorkLeftovers, type KitFileSummary, type KitManifest, type ManifestPart,
} from './kit-manifest.js';

const iso = (t: number) => new Date(t).toISOString();

async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}


export interface ExportSource {
  dataDir: string;
  store: KitStore;
  cache: PackageCache;
  profiles: KitProfile[];
  defaultProfile: KitProfile | null;
  /** The station's own device ID, written into the manifest for the reader's information. */
  station: string;
  now: number;
}

/** Writes the whole kit to `file` (atomically: a partial file is never left under that name). */
export async function exportKit(src: ExportSource, file: string): Promise<KitFileSummary> {
  const { store, cache } = src;
  const profiles = src.profiles.filter((p) => store.part(p.deviceId, 'poll'));
  if (profiles.length === 0) {
    throw new DockhandError('STORAGE', 'the field kit holds no answer for any profile yet; let the station reach the server ' +
      '(dock a device, or run dockhand kit refresh) before exporting it');
  }
  await removeWorkLeftovers(src.dataDir);
  const staging = kitWorkFolder(src.dataDir, 'export', randomBytes(8).toString('hex'));
  const out = path.resolve(file);
  const partial = `${out}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(path.join(staging, 'parts'), { recursive: true });
    await mkdir(path.join(staging, 'files'), { recursive: true });
    const parts: ManifestPart[] = [];
    const entry = (kind: 'parts' | 'files') => `${kind}/${partNumber(parts.length + 1)}.${kind === 'parts' ? 'xml' : 'bin'}`;
    const listed = new Set<string>();
    const kept = new Map(store.profiles().map((p) => [p.deviceId, p]));
    for (const p of profiles) {
      for (const id of kept.get(p.deviceId)?.listed ?? []) listed.add(packageKey(id));
      for (const part of store.parts(p.deviceId)) {
        if (sha256Hex(part.body) !== part.sha256) {
          throw new DockhandError('STORAGE', `the field kit's copy of the ${part.kind} answer ${part.packageId} for profile ${p.name} is damaged; ` +
            'refresh the kit (dockhand kit refresh) and export again');
        }
        const name = entry('parts');
        await writeFile(path.join(staging, name), part.body);
        const common = { entry: name, size: part.size, sha256: part.sha256, fetchedAt: iso(part.fetchedAt), profile: p.deviceId };
        parts.push(part.kind === 'poll' ? { kind: 'poll', ...common } : { kind: part.kind, packageId: part.packageId, ...common });
      }
    }
    const missing: string[] = [];
    let bytes = 0;
    for (const f of store.files()) {
      if (!listed.has(packageKey(f.packageId))) continue;
      const held = cache.verifiedCopy(f.packageId, f.size, f.sha256);
      if (!held) {
        missing.push(f.name ?? f.packageId);
        continue;
      }
      const name = entry('files');
      const staged = path.join(staging, name);
      await link(held.path, staged).catch(() => copyFile(held.path, staged));
      const got = await hashFile(staged);
      if (got.sha256 !== f.sha256 || got.size !== f.size) {
        throw new DockhandError('HASH_MISMATCH', `the station cache's copy of ${f.name ?? f.packageId} is damaged (it no longer matches its ` +
          'SHA-256); refresh the kit (dockhand kit refresh) and export again');
      }
      bytes += f.size;
      parts.push({ kind: 'file', packageId: f.packageId, name: f.name, fileName: f.fileName, url: held.url, entry: name, size: f.size, sha256: f.sha256, fetchedAt: iso(f.fetchedAt) });
    }
    const manifest: KitManifest = {
      format: KIT_FORMAT, version: 1, createdAt: iso(src.now), station: src.station,
      defaultProfile: src.defaultProfile && profiles.includes(src.defaultProfile) ? src.defaultProfile.deviceId : profiles[0]!.deviceId,
      // No X-Device-Auth goes into a file that travels on a USB stick; the timestamp is only echoed back.
      profiles: profiles.map((p) => {
        const k = kept.get(p.deviceId);
        return { deviceId: p.deviceId, name: p.name, timestamp: k?.timestamp ?? '', refreshedAt: k?.refreshedAt ? iso(k.refreshedAt) : null, listed: k?.listed ?? [] };
      }),
      parts,
    };
    await writeFile(path.join(staging, MANIFEST_ENTRY), `${JSON.stringify(manifest, null, 1)}\n`);
    await tar.c({ file: partial, cwd: staging, portable: true, strict: true }, [MANIFEST_ENTRY, ...parts.map((p) => p.entry)]);
    await rename(partial, out);
    return { file: out, profiles: profiles.map((p) => p.name), answers: parts.filter((p) => p.kind !== 'file').length, files: parts.length - parts.filter((p) => p.kind !== 'file').length, bytes, missing };
  } finally {
    await rm(partial, { force: true });
    await rm(staging, { recursive: true, force: true });
  }
}
