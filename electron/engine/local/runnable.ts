// A package downloaded over HTTP (or pushed over a link) arrives without its file mode. The program a
// command line names in the package's own folder is made executable before it runs, as any program file
// is runnable on the device (decision in docs/protocol-decisions.md). Paths with a separator are left alone:
// they name programs the package did not bring.
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { splitCommandLine } from './split-command-line.js';

export async function makeProgramRunnable(commandLine: string, cwd: string): Promise<void> {
  const program = splitCommandLine(commandLine)[0];
  if (program && !/[\\/]/.test(program)) await chmod(path.join(cwd, program), 0o755).catch(() => undefined);
}
