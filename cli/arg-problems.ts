// node:util parseArgs errors in a technician's words: "unknown option --sever; did you mean --server?",
// "--data needs a value", "unexpected argument 'x'", instead of Node's developer-facing messages.
import { unknownOption } from '../shared/model/did-you-mean.js';

export function argProblem(err: unknown, known: readonly string[]): string {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const name = /Unknown option '([^']+)'/.exec(message)?.[1] ?? '';
      return unknownOption(name, known);
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = /Option '(-[^' ]+|--[^' ]+)/.exec(message)?.[1];
      return name ? (/argument missing/.test(message) ? `${name} needs a value` : `${name} takes no value`) : message;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /Unexpected argument '([^']+)'/.exec(message)?.[1];
      return arg ? `unexpected argument '${arg}' (options start with --)` : message;
    }
    default:
      return message;
  }
}
