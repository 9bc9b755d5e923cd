// `dockhand protocol parse FILE`: reads one Device Management document and prints what Dockhand understands
// of it as JSON, or the one-line reason it cannot. Exit 0 = parsed, 2 = not parsed or bad usage.
import { readFile } from 'node:fs/promises';
import { documentText, parseDocument, ProtocolError } from '../shared/protocol/index.js';

const usage = `usage: dockhand protocol parse FILE

  Reads a WinCE Device Management XML document (any of DevicePoll, PollResponse, InstructionsRequest,
  Instructions, PackageLocationRequest, PackageLocation, Status, FileReport, Inventory) and prints
  { "kind": …, "value": … } as JSON. Durations are in milliseconds.
`;

export async function protocolCommand(args: string[]): Promise<number> {
  const [sub, file, ...extra] = args;
  const helpAsked = (a: string | undefined) => a === '--help' || a === '-h';
  if (sub === 'help' || helpAsked(sub) || (sub === 'parse' && helpAsked(file))) {
    process.stdout.write(usage);
    return 0;
  }
  if (sub !== 'parse' || file === undefined || extra.length > 0) {
    process.stderr.write(sub === undefined || sub === 'parse' ? usage : `dockhand protocol: unknown subcommand '${sub}'\n${usage}`);
    return 2;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    process.stderr.write(`dockhand protocol: cannot read ${file}: ${why}\n`);
    return 2;
  }
  let text: string;
  try {
    // UTF-8, or UTF-16 announced by its first bytes, as the station reads a server's answer; bytes that are
    // not valid in that encoding are refused rather than guessed at.
    text = documentText(bytes, { fatal: true });
  } catch {
    process.stderr.write(`dockhand protocol: ${file}: the file is not UTF-8 (or UTF-16) text\n`);
    return 2;
  }
  try {
    const doc = parseDocument(text);
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err; // a bug, not bad input: let it show its stack
    process.stderr.write(`dockhand protocol: ${file}: ${err.message}\n`);
    return 2;
  }
}
