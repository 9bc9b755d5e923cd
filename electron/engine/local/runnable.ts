// A package downloaded over HTTP (or pushed over a link) arrives without its file mode. The program a
// command line names in the package's own folder is made executable before it runs, as any program file
// is runnable on the device (decision in docs/protocol-decisions.md). Only a regular file the package folder
// holds under a valid name is touched: the name goes through the same confinement as every device path, so
// a line like `.. x` in `\` changes nothing (it would otherwise name the folder above the root). Paths with
// a separator are left alone: they name programs the package did not bring.
import { chmod, lstat } from 'node:fs/promises';
import { checkFileName, mapDevicePath, toDevicePath } from './device-path.js';
import { splitCommandLine } from './split-command-line.js';

export async function makeProgramRunnable(commandLine: string, cwd: string, root: string): Promise<void> {
  const program = splitCommandLine(commandLine)[0];
  if (!program || /[\\/]/.test(program)) return;
  let file: string;
  try {
    checkFileName(program);
    const folder = toDevicePath(root, cwd);
    file = mapDevicePath(root, `${folder === '\\' ? '' : folder}\\${program}`);
  } catch {
    return; // refused: running it reports why
  }
  if ((await lstat(file).catch(() => undefined))?.isFile()) await chmod(file, 0o755).catch(() => undefined);
}
