// The XML layer: the only importer of fast-xml-parser. It turns text into a small, namespace-resolved element
// tree (see element.ts for the accessor the document modules use) and refuses, before the library runs, the
// inputs that make XML dangerous or pointless to parse: oversize documents, HTML pages and plain text where a
// document was expected, DOCTYPE/entity declarations (billion laughs, XXE), characters XML forbids. The
// library's validator checks well-formedness (with line and column), its parser builds the tree, and
// undeclared entities are refused here. Whatever the library throws is turned into a ProtocolError.
//
// The library cannot pause, so a large document holds whatever thread parses it: the station and the server
// parse large documents in a worker thread (electron/protocol/parse-off-thread.ts), small ones inline.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DM_NAMESPACE } from './types.js';
import { ProtocolError, quote } from './errors.js';
import { htmlPageProblem, looksLikeHtml, oneLine } from './answer-text.js';

/** Control documents (poll, instructions, location, status) are small; 1 MiB is generous. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;
/** Software (FileReport) and machine (Inventory) reports list whole file systems. */
export const MAX_REPORT_BYTES = 32 * 1024 * 1024;
/** DM documents are shallow; a software report mirrors directories, which CE's MAX_PATH keeps under ~130. */
export const MAX_ELEMENT_DEPTH = 200;

/** The namespace spellings a receiver accepts on the root (spec §3.1, A10). Both mean "DM". */
export const DM_NAMESPACES: readonly string[] = [DM_NAMESPACE, 'https://www.microsoft.com/DeviceManagement.xsd'];

export interface ParseOptions {
  maxBytes?: number;
}

/** One element, namespace resolved. Elements in the DM namespace (either spelling) carry `ns: ''`. */
export interface XmlNode {
  name: string; // local name, prefix removed
  ns: string; // namespace URI; '' for none or DM
  attrs: Map<string, string>; // unprefixed attributes, entity-decoded; xmlns declarations removed
  children: XmlNode[];
  text: string; // the element's own character data, entity-decoded, untrimmed
}

// Characters XML 1.0 forbids anywhere in a document (§2.2), plus lone surrogates.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Any declaration a DTD is made of; none has a place in a DM document.
const DECLARATION = /<!(?:doctype|entity|element|attlist|notation)/i;

/** UTF-8 byte length of a string, stopping early once `limit` is passed. */
export function utf8Length(text: string, limit = Infinity): number {
  // A UTF-16 unit is at least one UTF-8 byte and at most three, so most answers need no counting at all.
  if (text.length > limit) return text.length;
  // Node's native count is linear and fast; elsewhere count by hand, stopping at the limit.
  return typeof Buffer === 'function' ? Buffer.byteLength(text, 'utf8') : countUtf8(text, limit);
}

function countUtf8(text: string, limit: number): number {
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= limit; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) { bytes += 4; i++; }
    else bytes += 3;
  }
  return bytes;
}

/** Line and column (1-based) of a string offset, for error messages; one pass up to the offset. */
function position(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at >= 0 && at < offset; at = text.indexOf('\n', at + 1)) {
    line += 1;
    lineStart = at + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** Returns a problem description if `text` holds a character XML forbids, else undefined. */
export function forbiddenCharProblem(text: string): string | undefined {
  const m = FORBIDDEN_CHAR.exec(text);
  return m === null ? undefined : describeForbidden(m[0]);
}

function describeForbidden(char: string): string {
  const code = char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `contains the character U+${code}, which XML does not allow`;
}

const parser = new XMLParser({
  preserveOrder: true, // keeps text and element order, and attributes separate from children
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false, // every value stays text: the codecs decide what a number is
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false, // decoded here, so that only the five XML entities and char refs exist
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata', // CDATA content is literal: it must not be entity-decoded
  maxNestedTags: MAX_ELEMENT_DEPTH,
});

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five XML entities and character references; anything else is an error, never a lookup. */
function decodeEntities(raw: string, fail: (problem: string) => never): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{0,32});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) fail(`a bare '&' must be written as &amp;`);
    let code: number | undefined;
    if (/^#x[0-9a-fA-F]{1,6}$/.test(ref)) code = parseInt(ref.slice(2), 16);
    else if (/^#[0-9]{1,7}$/.test(ref)) code = parseInt(ref.slice(1), 10);
    else {
      const named = Object.hasOwn(NAMED_ENTITIES, ref) ? NAMED_ENTITIES[ref] : undefined;
      if (named === undefined) fail(`the entity &${ref}; is not defined (only &lt; &gt; &amp; &quot; &apos; are)`);
      return named;
    }
    const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) fail(`the character reference &${ref}; names a character XML does not allow`);
    return String.fromCodePoint(code);
  });
}

/**
 * The checks before the library runs, each one pass over the text: it is text, within the limit, not empty,
 * not an HTML page or a line of plain text, free of DTD declarations and of forbidden characters. Returns
 * the text without a byte order mark.
 */
function screen(xml: string, document: string, maxBytes: number): string {
  const fail = (problem: string): never => { throw new ProtocolError(document, '', problem); };
  if (typeof xml !== 'string') fail('the document is not text');
  if (utf8Length(xml, maxBytes) > maxBytes) fail(`the document is larger than the ${maxBytes}-byte limit`);
  const text = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml; // a UTF-8 byte order mark is harmless
  const start = text.search(/\S/);
  if (start < 0) fail('the document is empty');
  // A captive portal's login page or a proxy's error page: named as a page, not as a refused DOCTYPE. An
  // <html> root is named in the path, as any unexpected root is.
  if (looksLikeHtml(text)) {
    const head = text.slice(start, start + 4096);
    const root = /<!doctype/i.test(head) ? undefined : /<(html|head|body)\b/i.exec(head)?.[1];
    throw new ProtocolError(document, root === undefined ? '' : `/${root}`, htmlPageProblem(text));
  }
  if (text.charCodeAt(start) !== 0x3c /* < */) {
    fail(`not well-formed XML at ${position(text, start)}: the answer is text, not a document (it starts '${oneLine(text.slice(start, start + 200), 80)}')`);
  }
  const declaration = DECLARATION.exec(text);
  if (declaration) {
    fail(`DOCTYPE and ENTITY declarations are refused (${position(text, declaration.index)}): ` +
      'they can expand without bound or read local files');
  }
  const bad = FORBIDDEN_CHAR.exec(text);
  if (bad) fail(`${describeForbidden(bad[0])} (${position(text, bad.index)})`);
  return text;
}

type Raw = Record<string, unknown>;

interface Scope { [prefix: string]: string }

/**
 * Parses a whole document into its root element. `document` names it in errors (the expected root, or
 * `document` when any root is welcome). The root's namespace must be DM (http or https) or none.
 */
export function parseXml(xml: string, document: string, maxBytes: number): XmlNode {
  const fail = (path: string, problem: string): never => { throw new ProtocolError(document, path, problem); };
  const text = screen(xml, document, maxBytes);

  let verdict: ReturnType<typeof XMLValidator.validate>;
  let tree: Raw[];
  try {
    verdict = XMLValidator.validate(text, { allowBooleanAttributes: false });
    tree = verdict === true ? (parser.parse(text) as Raw[]) : [];
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const nested = /nested/i.test(why) ? `elements are nested more than ${MAX_ELEMENT_DEPTH} levels deep` : plainWords(why);
    throw new ProtocolError(document, '', `not well-formed XML: ${nested}`, { cause: err });
  }
  if (verdict !== true) {
    const { line, col, msg } = verdict.err;
    fail('', `not well-formed XML at line ${line}${col === undefined ? '' : `, column ${col}`}: ${plainWords(msg)}`);
  }

  const roots = tree.filter((entry) => elementName(entry) !== undefined);
  const strayText = tree.some((entry) => typeof entry['#text'] === 'string' && (entry['#text'] as string).trim() !== '') ||
    (roots.length === 1 && !endsWithRoot(text, roots[0] as Raw));
  if (roots.length !== 1 || strayText) {
    fail('', `not well-formed XML: a document must have exactly one root element (found ${roots.length}` +
      `${strayText ? ' and text outside it' : ''})`);
  }
  const root = convert(roots[0] as Raw, { '': '' }, '', fail, 1);
  if (root.ns !== '') {
    fail(`/${root.name}`, `the root element is in namespace ${quote(root.ns, 120)}; expected ${DM_NAMESPACE} ` +
      '(the https:// spelling and no namespace are accepted too)');
  }
  return root;
}

/**
 * The library silently drops text after the root element (`<A/>junk`), so check the tail: once trailing
 * comments, processing instructions and whitespace are removed, the document must end with the root's end
 * tag, or with the root's own self-closing tag when the root is empty. Read backwards from the end, so the
 * work is the tail's length, whatever the document's.
 */
function endsWithRoot(text: string, root: Raw): boolean {
  const qname = elementName(root) as string;
  let end = trimmedEnd(text, text.length);
  for (;;) {
    const opener = text.startsWith('-->', end - 3) ? text.lastIndexOf('<!--', end - 4)
      : text.startsWith('?>', end - 2) ? text.lastIndexOf('<?', end - 3) : -1;
    if (opener < 0) break;
    end = trimmedEnd(text, opener);
  }
  const lastTag = text.slice(text.lastIndexOf('<', end - 1), end);
  const empty = ((root[qname] ?? []) as Raw[]).length === 0;
  if (lastTag.startsWith('</')) return lastTag.slice(2, -1).trimEnd() === qname && lastTag.endsWith('>');
  return empty && lastTag.endsWith('/>') && new RegExp(`^<${qname.replace(/\./g, '\\.')}(?:\\s[^<>]*)?/>$`).test(lastTag);
}

/** The offset after the last non-whitespace character before `end`. */
function trimmedEnd(text: string, end: number): number {
  let at = end;
  while (at > 0 && /\s/.test(text.charAt(at - 1))) at -= 1;
  return at;
}

/** The library's messages for unclosed elements are terse or print a JSON list; say it plainly. */
function plainWords(msg: string): string {
  const unclosed = /^Unclosed tag '([^']+)'\.?$/.exec(msg);
  if (unclosed) return `<${unclosed[1]}> is never closed`;
  const list = /^Invalid '\[([\s\S]*)\]' found\.?$/.exec(msg);
  if (list) {
    const names = (list[1] ?? '').split(',').map((n) => n.trim().replace(/^"|"$/g, '')).filter((n) => n !== '');
    return `${names.map((n) => `<${n}>`).join(', ')} ${names.length === 1 ? 'is' : 'are'} never closed`;
  }
  // Messages may quote the offending text; keep a log line a log line.
  return oneLine(msg, 160);
}

function elementName(entry: Raw): string | undefined {
  for (const k in entry) if (k !== ':@' && k !== '#text' && k !== '#cdata') return k;
  return undefined;
}

/** XML line-end normalisation: a raw CR LF or CR is a line break (a written &#13; stays a CR). */
const lineEnds = (raw: string): string => (raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw);
/** XML attribute-value normalisation: literal tab, CR and LF read as spaces (the builder writes references). */
const attributeSpaces = (raw: string): string => (/[\t\r\n]/.test(raw) ? raw.replace(/\r\n|[\t\r\n]/g, ' ') : raw);
const isLayout = (text: string): boolean => /^[ \t\r\n]*$/.test(text);

function convert(entry: Raw, parentScope: Scope, parentPath: string, fail: (p: string, m: string) => never, depth: number): XmlNode {
  const qname = elementName(entry) as string;
  const path = `${parentPath}/${qname}`;
  if (depth > MAX_ELEMENT_DEPTH) fail(path, `elements are nested more than ${MAX_ELEMENT_DEPTH} levels deep`);
  const rawAttrs = entry[':@'] as Record<string, string> | undefined;
  // A new scope only where an element declares a prefix: most elements share their parent's.
  let scope = parentScope;
  const attrs = new Map<string, string>();
  const failHere = (problem: string): never => fail(path, problem);
  if (rawAttrs !== undefined) {
    for (const key of Object.keys(rawAttrs)) {
      const raw = rawAttrs[key] as string;
      const name = key.slice(2); // strip '@_'
      if (raw.includes('<')) failHere(`attribute ${name} contains a raw '<'`);
      const value = decodeEntities(attributeSpaces(raw), (problem) => fail(`${path}/@${name}`, problem));
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        if (scope === parentScope) scope = Object.assign(Object.create(null) as Scope, parentScope);
        scope[name === 'xmlns' ? '' : name.slice(6)] = value;
      } else if (!name.includes(':')) attrs.set(name, value);
      // Other prefixed attributes (xml:lang, foreign extensions) carry nothing a DM reader needs.
    }
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const name = colon < 0 ? qname : qname.slice(colon + 1);
  const declared = Object.hasOwn(scope, prefix) ? scope[prefix] : undefined;
  if (declared === undefined) failHere(`the namespace prefix '${prefix}' is not declared`);
  const ns = DM_NAMESPACES.includes(declared as string) ? '' : (declared as string);

  const children: XmlNode[] = [];
  let text = '';
  for (const child of (entry[qname] ?? []) as Raw[]) {
    if (typeof child['#text'] === 'string') text += decodeEntities(lineEnds(child['#text']), failHere);
    else if (Array.isArray(child['#cdata'])) {
      for (const part of child['#cdata'] as Raw[]) if (typeof part['#text'] === 'string') text += lineEnds(part['#text']);
    } else if (elementName(child) !== undefined) children.push(convert(child, scope, path, fail, depth + 1));
  }
  // Layout between child elements (indentation, line breaks) is not a container's text.
  if (children.length > 0 && isLayout(text)) text = '';
  return { name, ns, attrs, children, text };
}
