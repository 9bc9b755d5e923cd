// `dockhand server …`: run the reference management server, or administer its data folder (which
// works while the server runs). Exit codes: 0 done, 1 something failed at run time, 2 bad usage or a
// bad value (with one line saying which).
import { ProtocolError } from '../shared/protocol/index.js';
import { parseArgs } from './cli-args.js';
import { InputError } from './input-error.js';
import { startServer } from './http-server.js';
import { seedDemoCatalog } from './demo.js';
import { assignCommand, logCommand, packageAdd, packageList, packageRemove, settingsCommand } from './cli-admin.js';

const usage = `usage:
  dockhand server --data DIR [--host 127.0.0.1] [--port N] [--public-url URL] [--demo]
                  [--max-collect-bytes N]
  dockhand server package add --data DIR --file F --name N [--id GUID] [--required yes|no]
                  [--flags "04 00 00 00"] [--start "YYYY-MM-DD hh:mm:ss"] [--utc]
                  [--recur DURATION [--behavior "Download and Execute"|"Execute Only"]]
                  [--dest '\\Temp'] [--command CMD] [--short TEXT] [--long TEXT] [--source-files yes|no]
  dockhand server package list --data DIR [--json]
  dockhand server package remove --data DIR --package ID
  dockhand server assign|unassign --data DIR --package ID --device DEVICE-ID|'*'
  dockhand server settings --data DIR [--device ID] [--poll-interval D] [--retry-count N]
                  [--retry-interval D] [--poll-server HOST] [--report-interval D]
                  [--software-inventory on|off [--filter '*.exe' --path '\\Windows' [--recursive yes|no]]…]
                  [--file-collection on|off [--filter F --path P [--recursive yes|no]]…]
                  [--machine-inventory on|off]
  dockhand server log --data DIR [--device ID] [--json]
durations D are DM durations, e.g. 0000-00-00 00:05:00 (five minutes), 0000-00-01 00:00:00 (a day)
`;

/** Where the command writes; tests pass their own to capture it. */
export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CommandIo = {
  out: (text) => { process.stdout.write(text); },
  err: (text) => { process.stderr.write(text); },
};

async function runServer(args: string[], { out, err }: CommandIo): Promise<number> {
  const a = parseArgs(args, {
    data: 'value', host: 'value', port: 'value', 'public-url': 'value', demo: 'flag', 'max-collect-bytes': 'value',
  });
  if (a.positionals.length) throw new InputError(`unknown subcommand '${a.positionals[0]}'`);
  const dataDir = a.require('data', 'DIR');
  const portText = a.get('port') ?? '0';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new InputError(`--port must be 0–65535, not '${portText}'`);
  const cap = a.get('max-collect-bytes');
  if (cap !== undefined && (!/^\d{1,15}$/.test(cap) || Number(cap) < 1)) {
    throw new InputError(`--max-collect-bytes must be a positive number of bytes, not '${cap}'`);
  }
  if (a.has('demo')) await seedDemoCatalog(dataDir);
  const publicUrl = a.get('public-url');
  const server = await startServer({
    dataDir,
    host: a.get('host') ?? '127.0.0.1',
    port: Number(portText),
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    ...(cap !== undefined ? { maxCollectedFileBytes: Number(cap) } : {}),
    // stdout carries only the "listening on" line; request logs go to stderr
    log: (line) => err(`${line}\n`),
  });
  out(`listening on ${server.url}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  err(`${signal}: stopping\n`);
  await server.close();
  return 0;
}

async function dispatch(args: string[], io: CommandIo): Promise<number> {
  const [first, second, ...rest] = args;
  const { out } = io;
  switch (first) {
    case 'package':
      if (second === 'add') await packageAdd(rest, out);
      else if (second === 'list') packageList(rest, out);
      else if (second === 'remove') await packageRemove(rest, out);
      else throw new InputError(`'server package' needs add, list or remove${second ? `, not '${second}'` : ''}`);
      return 0;
    case 'assign':
    case 'unassign':
      assignCommand(args.slice(1), out, first === 'unassign');
      return 0;
    case 'settings':
      settingsCommand(args.slice(1), out);
      return 0;
    case 'log':
      logCommand(args.slice(1), out);
      return 0;
    default:
      return runServer(args, io);
  }
}

/** The usage lines of the subcommand asked about (`server package add --help`), else all of them. */
export function usageFor(args: string[]): string {
  const words = args.filter((a) => !a.startsWith('-')).slice(0, 2);
  const blocks = usage.replace(/^usage:\n/, '').split(/\n(?= {2}dockhand )/);
  for (let n = words.length; n > 0; n -= 1) {
    const prefix = `dockhand server ${words.slice(0, n).join(' ')}`;
    const chosen = blocks.filter((b) => b.trim().startsWith(prefix) || b.trim().startsWith(prefix.replace(/ (assign|unassign)$/, ' assign|unassign')));
    if (chosen.length) return `usage:\n${chosen.join('\n')}${chosen.some((b) => b.includes('DURATION') || b.includes(' D]')) ? `\n${usage.split('\n').at(-2)}\n` : '\n'}`;
  }
  return usage;
}

export async function serverCommand(args: string[], io: CommandIo = processIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h') || args[0] === 'help') {
    io.out(usageFor(args[0] === 'help' ? args.slice(1) : args));
    return 0;
  }
  try {
    return await dispatch(args, io);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof InputError || err instanceof ProtocolError) {
      io.err(`dockhand server: ${message} (see 'dockhand server --help')\n`);
      return 2;
    }
    io.err(`dockhand server: ${message}\n`);
    return 1;
  }
}
