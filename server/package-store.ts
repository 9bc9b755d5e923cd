// Package bytes on disk: DIR/packages/<ID>/<file name>. A new file is copied into a staging folder on
// the same disk, hashed on the way, then renamed into place, so a download in progress never sees a
// half-written file; the catalog row records which file (size, mtime) its ETag describes.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError, hasControlChars, printable } from './input-error.js';

export function packagesDir(dataDir: string): string {
  return path.join(dataDir, 'packages');
}

export function packageFilePath(dataDir: string, id: string, fileName: string): string {
  return path.join(packagesDir(dataDir), id, fileName);
}

/**
 * The file name travels to the device and is saved under LocalDestination on Windows CE, and here it
 * becomes a path segment: it must be one plain name valid on both systems.
 */
export function checkPackageFileName(name: string): string {
  const problem =
    name.length === 0 ? 'is empty'
      : name.length > 200 ? 'is longer than 200 characters'
        : name === '.' || name === '..' ? 'is not a file name'
          : hasControlChars(name) ? 'contains control characters'
            : /[\\/:*?"<>|]/.test(name) ? 'contains one of \\ / : * ? " < > |'
              : /[. ]$/.test(name) ? 'ends with a dot or a space (Windows drops those)'
                : undefined;
  if (problem) throw new InputError(`package file name '${printable(name)}' ${problem}`);
  return name;
}

export interface StagedFile {
  stagingPath: string;
  size: number;
  sha256: string;
}

/** Copy `source` into the staging folder, computing size and SHA-256 as the bytes pass. */
export async function stageFile(dataDir: string, source: string): Promise<StagedFile> {
  let info;
  try {
    info = await stat(source);
  } catch {
    throw new InputError(`cannot read the package file '${source}': it does not exist or is not accessible`);
  }
  if (!info.isFile()) throw new InputError(`the package file '${source}' is not a regular file`);
  const staging = path.join(packagesDir(dataDir), '.staging');
  await mkdir(staging, { recursive: true });
  const stagingPath = path.join(staging, randomUUID());
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      createReadStream(source),
      async function* count(chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(stagingPath, { flags: 'wx', flush: true }),
    );
  } catch (err) {
    await rm(stagingPath, { force: true });
    throw err;
  }
  return { stagingPath, size, sha256: hash.digest('hex') };
}

/** Identity of the file now at `file`, to tell a download whether it still has the bytes the row describes. */
export async function fileStampOf(file: string): Promise<string> {
  const s = await stat(file, { bigint: true });
  return stampOf(s);
}

/**
 * Size and modification time, to the nanosecond. Not the inode: a data folder copied or restored from a
 * backup has new inodes but the same files. A copy that also changed the times is caught by the content
 * check when a download finds another stamp (package-files.ts), which then records the new one.
 */
export function stampOf(s: { size: bigint; mtimeNs: bigint }): string {
  return `${s.size}:${s.mtimeNs}`;
}

/** Move a staged file into the package folder (replacing a file of the same name); returns its stamp. */
export async function installStaged(dataDir: string, staged: StagedFile, id: string, fileName: string): Promise<string> {
  const target = packageFilePath(dataDir, id, fileName);
  await mkdir(path.dirname(target), { recursive: true });
  await rename(staged.stagingPath, target);
  return fileStampOf(target);
}

/** After the catalog points at `keep`, drop the older files of the package (a re-add under a new name). */
export async function removeOtherFiles(dataDir: string, id: string, keep: string): Promise<void> {
  const dir = path.join(packagesDir(dataDir), id);
  for (const name of await readdir(dir)) {
    if (name !== keep) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

export async function removePackageFiles(dataDir: string, id: string): Promise<void> {
  await rm(path.join(packagesDir(dataDir), id), { recursive: true, force: true });
}
