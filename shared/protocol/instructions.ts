// §7 Instruction Response (`Instructions`, server → device): how, when and over which connections one
// package is downloaded and run. The seed sample (Package/ID child, Required=true, SourceFiles=YES) is the
// reference for both reading and writing.
import type { Instructions, PackageInstructions, RecurrenceBehavior, StartTime } from './types.js';
import { El, openDocument, quote } from './element.js';
import { parseBoolean, formatBoolean, formatYesNo } from './booleans.js';
import { formatDmDuration, formatDmTime, parseDmTime, parsePositiveDmDuration } from './dmtime.js';
import { parseFlags, formatFlags } from './flags.js';
import { formatDecimal, parseDecimal } from './numbers.js';
import { ProtocolError, inContext } from './errors.js';
import { el, need, serialize, textEl } from './writer.js';
import type { ParseOptions } from './xml.js';

const DOC = 'Instructions';
/** Dockhand's extension namespace: a stock client skips elements of a namespace it does not know. */
export const DOCKHAND_NAMESPACE = 'urn:dockhand:dm-extensions';
const BEHAVIORS: readonly RecurrenceBehavior[] = ['Download and Execute', 'Execute Only'];
const ROOT_CHILDREN = new Set(['Package']);
const PACKAGE_CHILDREN = new Set(['ID', 'Required', 'Name', 'ShortDescription', 'LongDescription', 'PackageSize', 'Flags',
  'StartTime', 'Recurrence', 'LocalDestination', 'CommandLine', 'SourceFiles']);

/**
 * `requestedId` is the package ID the instruction request asked about. It fills in a missing `Package/ID`
 * (older servers omit it) and wins over a different one, which is then reported in `warnings` (spec A4).
 */
export function parseInstructions(xml: string, requestedId?: string, options?: ParseOptions): Instructions {
  return readInstructions(openDocument(xml, DOC, options), requestedId);
}

export function readInstructions(root: El, requestedId?: string): Instructions {
  const packages = root.all('Package');
  if (packages.length === 0) root.fail('no <Package> element: the response carries no instructions');
  root.ignoreUnknown(ROOT_CHILDREN);
  const warnings: string[] = [];
  // Everything that decides where, when, over which connection and what to run is needed: a Package with one
  // of those unreadable is refused (a guessed Flags could run a cradled-only package over any network). When
  // the answer holds several, the readable ones are kept and the others noted; with none, the first problem.
  const read: PackageInstructions[] = [];
  let refused: unknown;
  for (const p of packages) {
    try {
      read.push(readPackage(p, requestedId, warnings));
    } catch (err) {
      if (!(err instanceof ProtocolError) || packages.length === 1) throw err;
      refused ??= err;
      p.ignore(`this Package is refused: ${err.path}: ${err.problem}`);
    }
  }
  if (read.length === 0) throw refused;
  const result: Instructions = { Packages: read };
  // What was left out reaches the technician through the warnings the engine already logs.
  for (const note of root.ignored) warnings.push(`${note.path}: ${note.problem}`);
  if (warnings.length > 0) result.warnings = warnings;
  return result;
}

function readPackage(p: El, requestedId: string | undefined, warnings: string[]): PackageInstructions {
  const recurrence = p.child('Recurrence');
  // LocalDestination and CommandLine belong to Package; two documentation pages put them under Recurrence
  // (errata 7), so a reader looks there as well. Package wins when both have one.
  const inEither = (name: string): string | undefined => p.optionalText(name) ?? recurrence?.optionalText(name);
  p.ignoreUnknown(PACKAGE_CHILDREN);
  // The requested ID wins anyway (A4), so an unreadable ID (repeated, say) only costs the cross-check.
  const id = requestedId === undefined ? p.optionalText('ID') : p.lenient(() => p.optionalText('ID'));
  if (requestedId !== undefined && id !== undefined && id.toLowerCase() !== requestedId.toLowerCase()) {
    warnings.push(`${p.path}/ID: the server answered with package ${quote(id)} to a request for ${quote(requestedId)}; ` +
      'the requested ID is kept');
  }
  const finalId = requestedId ?? id;
  // Fields are filled in the seed's element order, so printed values read like the document.
  const pkg = (finalId === undefined ? {} : { ID: finalId }) as PackageInstructions;
  pkg.Required = p.required('Required', parseBoolean);
  pkg.Name = p.requireText('Name');
  // Descriptions are shown, never acted on: a repeated one is noted and left out.
  const short = p.lenient(() => p.optionalText('ShortDescription'));
  if (short !== undefined) pkg.ShortDescription = short;
  const long = p.lenient(() => p.optionalText('LongDescription'));
  if (long !== undefined) pkg.LongDescription = long;
  const flags = p.optional('Flags', parseFlags);
  if (flags !== undefined) pkg.Flags = flags;
  const start = p.child('StartTime');
  if (start !== undefined && start.text() !== '') {
    // A StartTime without the UTC attribute is read as device local time, like the seed's UTC="false".
    pkg.StartTime = { time: start.read(parseDmTime), UTC: start.readAttr('UTC', parseBoolean) ?? false };
  }
  if (recurrence !== undefined) {
    const behavior = recurrence.require('Behavior');
    const word = behavior.text().replace(/\s+/g, ' ').toLowerCase();
    const match = BEHAVIORS.find((b) => b.toLowerCase() === word) ??
      behavior.fail(`${quote(behavior.text())} is not a recurrence behavior (expected 'Download and Execute' or 'Execute Only')`);
    pkg.Recurrence = { Interval: recurrence.required('Interval', parsePositiveDmDuration), Behavior: match };
  }
  pkg.SourceFiles = p.optional('SourceFiles', parseBoolean) ?? true;
  pkg.LocalDestination = inEither('LocalDestination') ?? p.fail('missing required element <LocalDestination>');
  const command = inEither('CommandLine');
  if (command !== undefined) pkg.CommandLine = command;
  const size = p.optional('PackageSize', parseDecimal);
  if (size !== undefined) pkg.PackageSize = size;
  const sha = p.foreign(DOCKHAND_NAMESPACE, 'SHA256');
  if (sha.length > 1) p.fail('the SHA-256 extension appears more than once');
  const hash = sha[0];
  if (hash !== undefined) {
    const hex = hash.text();
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) hash.fail(`${quote(hex)} is not a SHA-256 (64 hexadecimal digits)`);
    pkg.SHA256 = hex.toLowerCase();
  }
  return pkg;
}

export function buildInstructions(v: Instructions): string {
  if (v.Packages.length === 0) throw new ProtocolError(DOC, `/${DOC}`, 'there must be at least one package');
  return serialize(el(DOC, [], ...v.Packages.map((p, i) => {
    const at = `/${DOC}/Package[${i + 1}]`;
    const r = p.Recurrence;
    if (r !== undefined && !(r.Interval >= 1000)) throw new ProtocolError(DOC, `${at}/Recurrence/Interval`, `${String(r.Interval)} ms is not a positive duration of at least one second`);
    if (r !== undefined && !BEHAVIORS.includes(r.Behavior)) {
      throw new ProtocolError(DOC, `${at}/Recurrence/Behavior`, `${quote(String(r.Behavior))} is not a recurrence behavior`);
    }
    if (p.SHA256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(p.SHA256)) {
      throw new ProtocolError(DOC, `${at}/SHA256`, `${quote(p.SHA256)} is not a SHA-256 (64 hexadecimal digits)`);
    }
    // Element order follows the seed sample; readers do not depend on it.
    return el('Package', [],
      textEl('ID', p.ID),
      textEl('Required', formatBoolean(p.Required)),
      textEl('Name', need(p.Name, DOC, `${at}/Name`)),
      textEl('ShortDescription', p.ShortDescription),
      textEl('LongDescription', p.LongDescription),
      textEl('Flags', p.Flags === undefined ? undefined : inContext(DOC, `${at}/Flags`, () => formatFlags(p.Flags as number))),
      p.StartTime === undefined ? undefined : textEl('StartTime',
        inContext(DOC, `${at}/StartTime`, () => formatDmTime((p.StartTime as StartTime).time)),
        [['UTC', formatBoolean(p.StartTime.UTC)]]),
      textEl('SourceFiles', formatYesNo(p.SourceFiles)),
      r === undefined ? undefined
        : el('Recurrence', [],
          textEl('Interval', inContext(DOC, `${at}/Recurrence/Interval`, () => formatDmDuration(r.Interval))),
          textEl('Behavior', r.Behavior)),
      textEl('LocalDestination', need(p.LocalDestination, DOC, `${at}/LocalDestination`)),
      textEl('CommandLine', p.CommandLine),
      textEl('PackageSize', p.PackageSize === undefined ? undefined : formatDecimal(p.PackageSize, DOC, `${at}/PackageSize`)),
      textEl('dh:SHA256', p.SHA256?.toLowerCase(), [['xmlns:dh', DOCKHAND_NAMESPACE]]));
  })), { declaration: true, namespace: true });
}
