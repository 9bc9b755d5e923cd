// A small option parser for the server's subcommands. Options keep their command-line order because
// `server settings` pairs --filter/--path with the report block named before them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { unknownOption } from '../shared/model/did-you-mean.js';
import { InputError } from './input-error.js';
import { DATABASE_FILE } from './db.js';

export type OptionKind = 'value' | 'flag';

export interface ParsedOption {
  name: string;
  value: string;
}

export class ParsedArgs {
  constructor(readonly options: ParsedOption[], readonly positionals: string[]) {}

  has(name: string): boolean {
    return this.options.some((o) => o.name === name);
  }

  /** The value of an option that may appear at most once. */
  get(name: string): string | undefined {
    const found = this.options.filter((o) => o.name === name);
    if (found.length > 1) throw new InputError(`--${name} is given more than once`);
    return found[0]?.value;
  }

  /** --data DIR of a server that exists: commands that read or change one must not make an empty one. */
  serverData(): string {
    const dir = this.require('data', 'DIR');
    if (!existsSync(path.join(dir, DATABASE_FILE))) {
      throw new InputError(`${path.resolve(dir)} holds no server (no ${DATABASE_FILE}); check --data, or start one with 'dockhand server --data DIR'`);
    }
    return dir;
  }

  require(name: string, hint: string): string {
    const v = this.get(name);
    if (v === undefined) throw new InputError(`--${name} ${hint} is required`);
    return v;
  }
}

/** `--name value`, `--name=value` and bare `--flag`; anything unknown is an error naming it. */
export function parseArgs(args: string[], spec: Record<string, OptionKind>): ParsedArgs {
  const options: ParsedOption[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const kind = spec[name];
    if (kind === undefined) throw new InputError(unknownOption(name, Object.keys(spec)));
    if (kind === 'flag') {
      if (eq !== -1) throw new InputError(`--${name} takes no value`);
      options.push({ name, value: '' });
      continue;
    }
    if (eq !== -1) {
      options.push({ name, value: arg.slice(eq + 1) });
      continue;
    }
    const next = args[i + 1];
    if (next === undefined) throw new InputError(`--${name} needs a value`);
    options.push({ name, value: next });
    i += 1;
  }
  return new ParsedArgs(options, positionals);
}
