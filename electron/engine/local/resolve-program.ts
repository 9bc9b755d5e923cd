// Where the program of a post-install command line lives on the station (the local target).
//
// - A program written with a separator is a device path (`\Temp\setup.exe`, or `Temp\setup.exe`: CE has no
//   current folder, so every path counts from the device root) and is mapped into the station's folder,
//   with the same confinement as any other device path.
// - A bare name (`setup.exe`, `install.sh`) is looked for first in the package's destination folder, which
//   is where the download just put it. On the host PATH only when the name is in the host allow-list
//   (`hostPrograms`: empty by default on the station, set with `--allow-program NAME` or `allowPrograms` in
//   station.json), so a server cannot run `sh -c "…"` or any other host tool it likes. Allow-listing a shell
//   or an interpreter (`sh`, `python3`) allows a server to run anything: that is the technician's call.
//   The device agent passes 'any': on a device, its own programs are what a command line is for.
//   Only absolute PATH entries count: a relative one would depend on whatever folder the station started in.
// - Batch files (.bat, .cmd) are refused on every host. Windows can only run them through cmd.exe, which
//   reads the arguments again as shell syntax (`&`, `|`, `%VAR%`), and that is exactly what running without
//   a shell is meant to rule out. Quoting for cmd.exe is possible but subtle enough that refusing is safer;
//   a package can ship an .exe or a script with its own interpreter instead.
import fs from 'node:fs';
import path from 'node:path';
import { DockhandError } from '../../../shared/model/errors.js';
import { mapDevicePath, toDevicePath } from './device-path.js';

const BATCH = /\.(bat|cmd)$/i;

function refuseBatch(program: string): DockhandError {
  return new DockhandError(
    'COMMAND_REFUSED',
    `'${program}' is a batch file; Windows runs those through cmd.exe, which would interpret the arguments as ` +
      'shell syntax, so Dockhand does not run batch files. Ship an .exe or a script with its own interpreter instead',
    { detail: { program } },
  );
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

function isExecutableFile(p: string): boolean {
  if (!isFile(p)) return false;
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The host PATH of `env`, whatever its key is spelled like (Windows environments use `Path`). */
function hostPath(env: NodeJS.ProcessEnv): string {
  const key = Object.keys(env).find((k) => k.toUpperCase() === 'PATH');
  return (key === undefined ? undefined : env[key]) ?? '';
}

function searchHostPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const extensions = process.platform === 'win32' && path.extname(name) === ''
    ? (env.PATHEXT ?? '.COM;.EXE').split(';').filter((e) => e !== '' && !BATCH.test(e))
    : [''];
  for (const dir of hostPath(env).split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    for (const ext of extensions) {
      const candidate = path.join(dir, name + ext);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/** The destination folder the command runs in: inside the station's folder, and existing. */
export function checkWorkingFolder(root: string, cwd: string): string {
  const devicePath = toDevicePath(root, cwd); // PATH_REFUSED when outside the station's folder
  if (!(fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory() ?? false)) {
    throw new DockhandError('COMMAND_FAILED', `the package folder '${devicePath}' (${cwd}) does not exist, so the command has nowhere to run`, {
      detail: { cwd },
    });
  }
  // Same check on the resolved folder: a link inside the station's folder must not move the command out.
  toDevicePath(fs.realpathSync.native(root), fs.realpathSync.native(cwd));
  return devicePath;
}

/** Host programs a command line may name by a bare name: the allow-list, or every program on the PATH. */
export type HostPrograms = readonly string[] | 'any';

function allowListed(name: string, hostPrograms: HostPrograms): boolean {
  if (hostPrograms === 'any') return true;
  const fold = (n: string) => (process.platform === 'win32' ? n.toLowerCase().replace(/\.(exe|com)$/, '') : n);
  return hostPrograms.some((allowed) => fold(allowed) === fold(name));
}

/** The host file to start for `program`; COMMAND_FAILED says where it was looked for when it is not found. */
export function resolveProgram(program: string, cwd: string, root: string, env: NodeJS.ProcessEnv, hostPrograms: HostPrograms = []): string {
  if (BATCH.test(program)) throw refuseBatch(program);
  if (program.includes('\\') || program.includes('/')) {
    const mapped = mapDevicePath(root, program);
    if (!isFile(mapped)) {
      const what = fs.existsSync(mapped) ? 'is a folder, not a program' : 'does not exist';
      throw new DockhandError('COMMAND_FAILED', `the program '${program}' ${what} (looked for ${mapped})`, {
        detail: { program, lookedFor: [mapped] },
      });
    }
    return mapped;
  }

  const folder = toDevicePath(root, cwd);
  const local = mapDevicePath(root, `${folder === '\\' ? '' : folder}\\${program}`);
  if (isFile(local)) return local;
  if (!allowListed(program, hostPrograms)) {
    throw new DockhandError(
      'COMMAND_REFUSED',
      `the program '${program}' is not in the package folder '${folder}' (${cwd}), and programs of the station itself run only when ` +
        `allow-listed (start the station with --allow-program ${program}); nothing was run`,
      { detail: { program, lookedFor: [local] } },
    );
  }
  const found = searchHostPath(program, env);
  if (found !== undefined) {
    if (BATCH.test(found)) throw refuseBatch(found);
    return found;
  }
  const searched = hostPath(env) || '(empty)';
  throw new DockhandError(
    'COMMAND_FAILED',
    `the program '${program}' was not found: looked in the package folder '${folder}' (${cwd}) and on the station's PATH (${searched})`,
    { detail: { program, lookedFor: [local, searched] } },
  );
}
