// The XML layer: the only importer of fast-xml-parser. It turns text into a small, namespace-resolved element
// tree (see element.ts for the accessor the document modules use) and refuses, before anything else runs,
// the inputs that make XML dangerous: oversize documents, DOCTYPE/entity declarations (billion laughs, XXE),
// characters XML forbids, and undeclared entities. Whatever the library throws is turned into a ProtocolError.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DM_NAMESPACE } from './types.js';
import { ProtocolError, quote } from './errors.js';

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

/** UTF-8 byte length of a string, stopping early once `limit` is passed. */
export function utf8Length(text: string, limit = Infinity): number {
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

/** Line and column (1-based) of a string offset, for error messages. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/** Returns a problem description if `text` holds a character XML forbids, else undefined. */
export function forbiddenCharProblem(text: string): string | undefined {
  const m = FORBIDDEN_CHAR.exec(text);
  if (!m) return undefined;
  const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
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

type Raw = Record<string, unknown>;

interface Scope { [prefix: string]: string }

/**
 * Parses a whole document into its root element. `document` names it in errors (the expected root, or
 * `document` when any root is welcome). The root's namespace must be DM (http or https) or none.
 */
export function parseXml(xml: string, document: string, maxBytes: number): XmlNode {
  const fail = (path: string, problem: string): never => { throw new ProtocolError(document, path, problem); };
  if (typeof xml !== 'string') fail('', 'the document is not text');
  const size = utf8Length(xml, maxBytes);
  if (size > maxBytes) fail('', `the document is larger than the ${maxBytes}-byte limit`);
  const text = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml; // a UTF-8 byte order mark is harmless
  if (text.trim() === '') fail('', 'the document is empty');

  const doctype = /<!(DOCTYPE|ENTITY)/i.exec(text);
  if (doctype) {
    fail('', `DOCTYPE and ENTITY declarations are refused (${position(text, doctype.index)}): ` +
      'they can expand without bound or read local files');
  }
  const bad = FORBIDDEN_CHAR.exec(text);
  if (bad) fail('', `${forbiddenCharProblem(bad[0])} (${position(text, bad.index)})`);

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
 * tag, or with the root's own self-closing tag when the root is empty.
 */
function endsWithRoot(text: string, root: Raw): boolean {
  const qname = elementName(root) as string;
  let body = text.trimEnd();
  for (;;) {
    const tail = /(?:<!--(?:(?!<!--)[\s\S])*?-->|<\?(?:(?!<\?)[\s\S])*?\?>)$/.exec(body);
    if (!tail) break;
    body = body.slice(0, tail.index).trimEnd();
  }
  const name = qname.replace(/\./g, '\\.');
  const lastTag = body.slice(body.lastIndexOf('<'));
  const empty = ((root[qname] ?? []) as Raw[]).length === 0;
  return new RegExp(`^</${name}\\s*>$`).test(lastTag) || (empty && new RegExp(`^<${name}(?:\\s[^<>]*)?/>$`).test(lastTag));
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
  return msg.length > 160 ? `${msg.slice(0, 160)}…` : msg;
}

function elementName(entry: Raw): string | undefined {
  return Object.keys(entry).find((k) => k !== ':@' && k !== '#text' && k !== '#cdata');
}

function convert(entry: Raw, parentScope: Scope, parentPath: string, fail: (p: string, m: string) => never, depth: number): XmlNode {
  const qname = elementName(entry) as string;
  const path = `${parentPath}/${qname}`;
  if (depth > MAX_ELEMENT_DEPTH) fail(path, `elements are nested more than ${MAX_ELEMENT_DEPTH} levels deep`);
  const rawAttrs = (entry[':@'] ?? {}) as Record<string, string>;
  const scope: Scope = Object.create(null) as Scope;
  Object.assign(scope, parentScope);
  const attrs = new Map<string, string>();
  const failHere = (problem: string): never => fail(path, problem);
  for (const [key, raw] of Object.entries(rawAttrs)) {
    const name = key.slice(2); // strip '@_'
    if (raw.includes('<')) failHere(`attribute ${name} contains a raw '<'`);
    const value = decodeEntities(raw, (problem) => fail(`${path}/@${name}`, problem));
    if (name === 'xmlns') scope[''] = value;
    else if (name.startsWith('xmlns:')) scope[name.slice(6)] = value;
    else if (!name.includes(':')) attrs.set(name, value);
    // Other prefixed attributes (xml:lang, foreign extensions) carry nothing a DM reader needs.
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const name = colon < 0 ? qname : qname.slice(colon + 1);
  const declared = scope[prefix];
  if (declared === undefined) failHere(`the namespace prefix '${prefix}' is not declared`);
  const ns = DM_NAMESPACES.includes(declared as string) ? '' : (declared as string);

  const children: XmlNode[] = [];
  let text = '';
  for (const child of (entry[qname] ?? []) as Raw[]) {
    if (typeof child['#text'] === 'string') text += decodeEntities(child['#text'], failHere);
    else if (Array.isArray(child['#cdata'])) {
      for (const part of child['#cdata'] as Raw[]) if (typeof part['#text'] === 'string') text += part['#text'];
    } else if (elementName(child) !== undefined) children.push(convert(child, scope, path, fail, depth + 1));
  }
  return { name, ns, attrs, children, text };
}
