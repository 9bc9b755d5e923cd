// The shell's log: one timestamped line per event, to stderr (visible under `npm start`) and to a file
// in the OS's log folder for the app (visible after the fact, when a technician reports a problem).
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export type Log = (line: string) => void;

export function createLog(dir: string | null, echo: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Log {
  let file: string | null = null;
  if (dir) {
    try {
      mkdirSync(dir, { recursive: true });
      file = path.join(dir, 'dockhand.log');
    } catch {
      file = null; // an unwritable log folder must not stop the app
    }
  }
  return (line) => {
    const stamped = `${new Date().toISOString()} ${line}`;
    echo(stamped);
    if (!file) return;
    try {
      appendFileSync(file, `${stamped}\n`);
    } catch {
      file = null;
    }
  };
}
