// Splits a post-install CommandLine (spec §7) into a program and its arguments the way Windows'
// CommandLineToArgvW does, because that is how the program on a CE device would have received them.
// The result goes straight to the OS as an argument vector: no shell ever sees the line, so `;`, `&&`,
// `|`, `$(…)` and backquotes are plain characters inside an argument.
//
// Rules, as Windows applies them:
// - The program (first word) is special: if it starts with `"` it runs to the next `"` (backslashes are
//   literal, so `"C:\dir\"` works); otherwise it runs to the first space or tab. The next argument may start
//   right after a closing quote.
// - For every other argument, spaces and tabs separate arguments outside quotes.
// - Backslashes are literal unless a `"` follows the run: then 2n backslashes give n backslashes and the `"`
//   is a quote mark, while 2n+1 backslashes give n backslashes and a literal `"`.
// - Quote marks toggle quoting; a quote mark right after a closing quote is a literal `"` and leaves quoting
//   off (so `"a""b"` is `a"b`, and `"""` outside quotes is one literal `"`), as CommandLineToArgvW does
//   (the 2008 C runtime differs here; the Windows shell API is the reference for what a CE program got).
// Deliberate difference: leading and trailing white space (XML's: space, tab, CR, LF) is ignored (it comes
// from XML indentation).
import { DockhandError } from '../../../shared/model/errors.js';
import { trimXml } from '../../../shared/protocol/xml-space.js';

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';

function emptyLine(commandLine: string): DockhandError {
  return new DockhandError('COMMAND_FAILED', 'the command line is empty, so there is no program to run', { detail: { commandLine } });
}

/** The program and arguments of a Windows command line; throws COMMAND_FAILED when there is no program. */
export function splitCommandLine(commandLine: string): string[] {
  if (typeof commandLine !== 'string') throw emptyLine(String(commandLine));
  // Index scans, not /[ \t\r\n]+$/: the line comes from the server, and that expression is quadratic over an
  // inner run of blanks (xml-space.ts).
  const line = trimXml(commandLine);
  if (line === '') throw emptyLine(commandLine);
  if (line.includes('\u0000')) {
    throw new DockhandError('COMMAND_FAILED', 'the command line contains a NUL character, which no program can receive', { detail: { commandLine } });
  }

  // The program name.
  let i = 0;
  let program = '';
  if (line[0] === '"') {
    const close = line.indexOf('"', 1);
    program = close === -1 ? line.slice(1) : line.slice(1, close);
    i = close === -1 ? line.length : close + 1;
  } else {
    while (i < line.length && !isBlank(line[i])) program += line[i++];
  }
  if (program === '') {
    throw new DockhandError('COMMAND_FAILED', `the command line '${commandLine}' starts with an empty program name ("")`, { detail: { commandLine } });
  }
  const argv = [program];

  // The arguments. `quote`: 0 = outside quotes, 1 = inside, 2 = a quote was just closed (a further quote
  // mark right now is a literal one).
  let arg = '';
  let started = false;
  let quote = 0;
  while (isBlank(line[i])) i++;
  for (; i < line.length; i++) {
    const c = line[i] as string;
    if (c === '"') {
      started = true;
      if (quote === 2) {
        arg += '"';
        quote = 0;
      } else {
        quote += 1;
      }
      continue;
    }
    if (quote === 2) quote = 0;
    if (c === '\\') {
      let n = 0;
      while (line[i + n] === '\\') n++;
      started = true;
      if (line[i + n] === '"') {
        arg += '\\'.repeat(Math.floor(n / 2));
        if (n % 2 === 1) {
          arg += '"'; // an escaped quote mark: literal, quoting unchanged
          i += n; // also skips the quote mark
        } else {
          i += n - 1; // the quote mark itself is handled on the next turn
        }
      } else {
        arg += '\\'.repeat(n);
        i += n - 1;
      }
      continue;
    }
    if (isBlank(c) && quote === 0) {
      if (started) argv.push(arg);
      arg = '';
      started = false;
      continue;
    }
    arg += c;
    started = true;
  }
  if (started) argv.push(arg);
  return argv;
}
