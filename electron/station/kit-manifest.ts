// The manifest of a field-kit file (docs/field-kit.md "Kit files"): the archive's first entry, listing every
// part that follows with its size and SHA-256, and what each part is. Everything in it is data from another
// station, checked like server data before anything is kept: IDs through confine.ts, entry names against one
// pattern of the station's own making, sizes and counts bounded. Also what export and import share.
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { checkFileName, deviceIdProblem, KIT_WORK_LEFTOVER, packageIdProblem } from '../engine/confine.js';

export const MANIFEST_ENTRY = 'manifest.json';
export const KIT_FORMAT = 'dockhand-field-kit';
/** A manifest larger than this is not one (a kit of 200 profiles × 1,000 packages stays far below). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** A kept server answer larger than this is not one (the station reads at most 4 MiB from a server). */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const MAX_PARTS = 200_000;

/** Entry names the station gives parts: `parts/000001.xml` (an answer), `files/000002.bin` (package bytes). */
export const PART_ENTRY = /^(parts\/\d{6}\.xml|files\/\d{6}\.bin)$/;

const deviceId = z.string().superRefine((id, ctx) => {
  const problem = deviceIdProblem(id);
  if (problem) ctx.addIssue({ code: 'custom', message: `the device ID '${id.slice(0, 80)}' ${problem}` });
});
const packageId = z.string().superRefine((id, ctx) => {
  const problem = packageIdProblem(id);
  if (problem) ctx.addIssue({ code: 'custom', message: `the package ID '${id.slice(0, 80)}' ${problem}` });
});
const fileName = z.string().superRefine((name, ctx) => {
  try {
    checkFileName(name);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'is not a SHA-256 in lower-case hex');
const time = z.iso.datetime();

const common = { entry: z.string().regex(PART_ENTRY, 'is not a part name a station writes'), size: z.number().int().nonnegative(), sha256, fetchedAt: time };

export const ManifestPartSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('poll'), profile: deviceId, ...common }),
  z.object({ kind: z.literal('instructions'), profile: deviceId, packageId, ...common }),
  z.object({ kind: z.literal('location'), profile: deviceId, packageId, ...common }),
  z.object({ kind: z.literal('file'), packageId, name: z.string().max(1024).nullable(), fileName, url: z.string().max(4096), ...common }),
]);

export const ManifestSchema = z.object({
  format: z.literal(KIT_FORMAT),
  version: z.literal(1),
  createdAt: time,
  /** The station that wrote it (its device ID), for the technician's information. */
  station: z.string().max(256),
  /** The device ID of the default profile. */
  defaultProfile: deviceId.nullable(),
  profiles: z.array(z.object({
    deviceId, name: z.string().trim().min(1).max(256), timestamp: z.string().max(256), refreshedAt: time.nullable(), listed: z.array(packageId).max(MAX_PARTS),
  })).max(1000),
  parts: z.array(ManifestPartSchema).max(MAX_PARTS),
}).superRefine((m, ctx) => {
  const entries = new Set<string>();
  for (const p of m.parts) {
    if (entries.has(p.entry)) ctx.addIssue({ code: 'custom', message: `the entry ${p.entry} is listed twice` });
    entries.add(p.entry);
    if (p.kind !== 'file' && p.size > MAX_ANSWER_BYTES) ctx.addIssue({ code: 'custom', message: `${describePart(p, m)} is ${p.size} bytes, larger than any server answer` });
    if (p.kind !== 'file' && !m.profiles.some((x) => x.deviceId === p.profile)) {
      ctx.addIssue({ code: 'custom', message: `${describePart(p, m)} belongs to no profile the manifest lists` });
    }
  }
  if (m.defaultProfile !== null && !m.profiles.some((p) => p.deviceId === m.defaultProfile)) {
    ctx.addIssue({ code: 'custom', message: 'the default profile is not one of the profiles' });
  }
});

export type KitManifest = z.infer<typeof ManifestSchema>;
export type ManifestPart = z.infer<typeof ManifestPartSchema>;

/** A part in a technician's words: "the instructions of package X for profile scanner (parts/000003.xml)". */
export function describePart(p: ManifestPart, m?: Pick<KitManifest, 'profiles'>): string {
  const profile = (id: string) => m?.profiles.find((x) => x.deviceId === id)?.name ?? id;
  switch (p.kind) {
    case 'poll': return `the poll answer for profile ${profile(p.profile)} (${p.entry})`;
    case 'instructions': return `the instructions of package ${p.packageId} for profile ${profile(p.profile)} (${p.entry})`;
    case 'location': return `the location answer of package ${p.packageId} for profile ${profile(p.profile)} (${p.entry})`;
    case 'file': return `the file of package ${p.name ? `${p.name} (${p.packageId})` : p.packageId}, ${p.fileName} (${p.entry})`;
  }
}

/** What an export wrote or an import loaded. */
export interface KitFileSummary {
  file: string;
  profiles: string[];
  answers: number;
  files: number;
  bytes: number;
  /** Packages whose bytes the kit should hold but the cache does not (export), named. */
  missing: string[];
}

/** A part's number in entry names and work files: `000004`. */
export const partNumber = (n: number) => String(n).padStart(6, '0');

/** Work folders an earlier import or export left behind (a kill, a full disk) go before a new one starts. */
export async function removeWorkLeftovers(dataDir: string): Promise<void> {
  if (!existsSync(dataDir)) return;
  for (const name of readdirSync(dataDir)) if (KIT_WORK_LEFTOVER.test(name)) await rm(path.join(dataDir, name), { recursive: true, force: true });
}
