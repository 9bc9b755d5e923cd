// The XML reader proper: one forward pass over the text, building the small namespace-resolved element tree
// the document modules read (element.ts). It reads the XML 1.0 a Device Management peer writes — elements,
// attributes, text, the five entities and character references, CDATA, comments and processing
// instructions — and refuses DOCTYPE (so no entity can expand or fetch anything). Every step moves forward
// with indexOf or a sticky regular expression, so the work is linear in the document's length, and the pass
// stops at a deadline and resumes where it stopped (work-slices.ts), so a large report never holds the
// event loop for long.
//
// Measured against fast-xml-parser (its validator plus its parser), which this replaced: about twenty
// times faster on a 1 MiB poll response, and it can pause; see bench/protocol.ts.
import { ProtocolError } from './errors.js';
import { DM_NAMESPACE } from './types.js';
import { htmlPageProblem, oneLine } from './answer-text.js';
import { SliceClock } from './work-slices.js';

/** DM documents are shallow; a software report mirrors directories, which CE's MAX_PATH keeps under ~130. */
export const MAX_ELEMENT_DEPTH = 200;

/** The namespace spellings a receiver accepts on the root (spec §3.1, A10). Both mean "DM". */
export const DM_NAMESPACES: readonly string[] = [DM_NAMESPACE, 'https://www.microsoft.com/DeviceManagement.xsd'];

/** One element, namespace resolved. Elements in the DM namespace (either spelling) carry `ns: ''`. */
export interface XmlNode {
  name: string; // local name, prefix removed
  ns: string; // namespace URI; '' for none or DM
  attrs: Map<string, string>; // unprefixed attributes, entity-decoded; xmlns declarations removed
  children: XmlNode[];
  text: string; // the element's own character data, entity-decoded, untrimmed
}

// XML 1.0 (5th edition) name characters; astral characters as surrogate pairs.
const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040`;
const ASTRAL = '[\\uD800-\\uDB7F][\\uDC00-\\uDFFF]';
const NAME = `(?:[${NAME_START}]|${ASTRAL})(?:[${NAME_CHAR}]|${ASTRAL})*`;
const S = '[ \\t\\r\\n]';

// Sticky: each matches exactly at lastIndex, so a scan never looks back or ahead further than its token.
// (XML's name characters include combining marks and ZWJ/ZWNJ one by one, which the lint rule warns about.)
/* eslint-disable no-misleading-character-class */
const TAG_NAME = new RegExp(NAME, 'y');
const ATTRIBUTE = new RegExp(`${S}+(${NAME})${S}*=${S}*(?:"([^"]*)"|'([^']*)')`, 'y');
const TAG_CLOSE = new RegExp(`${S}*(/?)>`, 'y');
const END_TAG = new RegExp(`</(${NAME})${S}*>`, 'y');
/* eslint-enable no-misleading-character-class */
const SPACES = new RegExp(`${S}*`, 'y');
const DECLARATION = /<!(?:doctype|entity|element|attlist|notation)/iy;
const HTML_DOCTYPE = new RegExp(`<!doctype${S}+html\\b`, 'iy');

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five XML entities and character references; anything else is an error, never a lookup. */
export function decodeEntities(raw: string, fail: (problem: string) => never): string {
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

/** Line and column (1-based) of a string offset, for error messages. */
export function position(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at >= 0 && at < offset; at = text.indexOf('\n', at + 1)) {
    line += 1;
    lineStart = at + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

function isLayout(text: string): boolean {
  SPACES.lastIndex = 0;
  SPACES.exec(text);
  return SPACES.lastIndex === text.length;
}

/** Prefix → namespace bindings; a new scope only where an element declares some. */
interface Scope {
  bindings: Map<string, string>;
  parent: Scope | undefined;
}

const TOP_SCOPE: Scope = { bindings: new Map([['', ''], ['xml', 'http://www.w3.org/XML/1998/namespace']]), parent: undefined };

function lookup(scope: Scope | undefined, prefix: string): string | undefined {
  for (let s = scope; s !== undefined; s = s.parent) {
    const ns = s.bindings.get(prefix);
    if (ns !== undefined) return ns;
  }
  return undefined;
}

/** Shared by every element without attributes or children; the scanner replaces them before adding any. */
const NO_ATTRIBUTES: Map<string, string> = new Map();
const NO_CHILDREN: XmlNode[] = [];
const ATTR_NAMES: string[] = [];
const ATTR_VALUES: string[] = [];

interface Open {
  node: XmlNode;
  qname: string;
  scope: Scope;
  at: number;
}

/** Reads one document; `step` runs until done or the deadline, `root()` gives the tree. */
export class XmlScanner {
  private at: number;
  private readonly stack: Open[] = [];
  private top: XmlNode | undefined;
  private readonly clock = new SliceClock();

  constructor(private readonly text: string, private readonly document: string, start = 0) {
    this.at = start;
  }

  root(): XmlNode {
    if (this.top === undefined) throw new ProtocolError(this.document, '', 'not well-formed XML: there is no root element');
    return this.top;
  }

  step(deadline: number): boolean {
    const s = this.text;
    while (this.at < s.length) {
      if (this.clock.due(deadline)) return false;
      const open = this.stack[this.stack.length - 1];
      if (open === undefined) {
        this.outsideRoot();
        continue;
      }
      const lt = s.indexOf('<', this.at);
      if (lt !== this.at) {
        const end = lt < 0 ? s.length : lt;
        // Layout between child elements (indentation, line breaks) is nobody's value: skip it unread.
        SPACES.lastIndex = this.at;
        SPACES.exec(s);
        if (SPACES.lastIndex < end || open.node.children === NO_CHILDREN) this.characters(open, s.slice(this.at, end));
        this.at = end;
        continue;
      }
      this.markup(open);
    }
    const unclosed = this.stack[this.stack.length - 1];
    if (unclosed !== undefined) {
      throw this.malformed(undefined, `<${unclosed.qname}> is never closed (it opens at ${position(s, unclosed.at)})`);
    }
    return true;
  }

  private malformed(at: number | undefined, problem: string): ProtocolError {
    const where = at === undefined ? '' : ` at ${position(this.text, at)}`;
    return new ProtocolError(this.document, '', `not well-formed XML${where}: ${problem}`);
  }

  /** Element path for problems inside an element: `/Status/StatusMessage/Parameter`. */
  private pathTo(qname: string): string {
    return `${this.stack.map((o) => `/${o.qname}`).join('')}/${qname}`;
  }

  /** Before and after the root only markup and whitespace may appear. */
  private outsideRoot(): void {
    const s = this.text;
    SPACES.lastIndex = this.at;
    SPACES.exec(s);
    this.at = SPACES.lastIndex;
    if (this.at >= s.length) return;
    if (s.charCodeAt(this.at) !== 0x3c) {
      if (this.top !== undefined) {
        throw this.malformed(this.at, 'a document must have exactly one root element (found text after it)');
      }
      throw this.malformed(this.at, `the answer is text, not a document (it starts '${oneLine(s.slice(this.at, this.at + 200), 80)}')`);
    }
    this.markup(undefined);
  }

  private markup(open: Open | undefined): void {
    const s = this.text;
    const at = this.at;
    const next = s.charCodeAt(at + 1);
    if (next === 0x2f /* / */) return this.endTag(open);
    if (next === 0x3f /* ? */) {
      // Processing instructions, the XML declaration among them, carry nothing a DM reader needs.
      const end = s.indexOf('?>', at + 2);
      if (end < 0) throw this.malformed(at, 'a processing instruction is never closed (no ?>)');
      this.at = end + 2;
      return;
    }
    if (next === 0x21 /* ! */) return this.declaration(open);
    this.startTag(open);
  }

  private declaration(open: Open | undefined): void {
    const s = this.text;
    const at = this.at;
    if (s.startsWith('<!--', at)) {
      const end = s.indexOf('-->', at + 4);
      if (end < 0) throw this.malformed(at, 'a comment is never closed (no -->)');
      this.at = end + 3;
      return;
    }
    if (s.startsWith('<![CDATA[', at)) {
      if (open === undefined) throw this.malformed(at, 'a CDATA section outside the root element');
      const end = s.indexOf(']]>', at + 9);
      if (end < 0) throw this.malformed(at, 'a CDATA section is never closed (no ]]>)');
      open.node.text += s.slice(at + 9, end); // literal: no entity decoding
      this.at = end + 3;
      return;
    }
    HTML_DOCTYPE.lastIndex = at;
    if (HTML_DOCTYPE.test(s)) throw new ProtocolError(this.document, '', htmlPageProblem(s));
    DECLARATION.lastIndex = at;
    if (DECLARATION.test(s)) {
      throw new ProtocolError(this.document, '', `DOCTYPE and ENTITY declarations are refused (${position(s, at)}): ` +
        'they can expand without bound or read local files');
    }
    throw this.malformed(at, `'<!' starts neither a comment nor a CDATA section`);
  }

  private startTag(open: Open | undefined): void {
    const s = this.text;
    const at = this.at;
    TAG_NAME.lastIndex = at + 1;
    const name = TAG_NAME.exec(s);
    if (name === null) throw this.malformed(at, `'<' must start a tag (a literal '<' is written &lt;)`);
    const qname = name[0];
    if (open === undefined) {
      if (this.top !== undefined) throw this.malformed(at, `a document must have exactly one root element (found a second one, <${qname}>)`);
      if (qname.toLowerCase() === 'html') throw new ProtocolError(this.document, `/${qname}`, htmlPageProblem(s));
    }
    if (this.stack.length >= MAX_ELEMENT_DEPTH) {
      throw new ProtocolError(this.document, '', `not well-formed XML: elements are nested more than ${MAX_ELEMENT_DEPTH} levels deep`);
    }
    // Attribute names and raw values go to two scratch arrays, reused for every tag (no garbage per element).
    const names = ATTR_NAMES;
    const values = ATTR_VALUES;
    names.length = 0;
    values.length = 0;
    let cursor = TAG_NAME.lastIndex;
    for (;;) {
      ATTRIBUTE.lastIndex = cursor;
      const a = ATTRIBUTE.exec(s);
      if (a === null) break;
      names.push(a[1] as string);
      values.push(a[2] ?? a[3] ?? '');
      cursor = ATTRIBUTE.lastIndex;
    }
    TAG_CLOSE.lastIndex = cursor;
    const close = TAG_CLOSE.exec(s);
    if (close === null) {
      throw this.malformed(cursor, `the start tag <${qname}> is not written properly (attributes are name="value", and the tag ends with > or />)`);
    }
    this.at = TAG_CLOSE.lastIndex;
    const scope = this.scopeFor(qname, open, at);
    const colon = qname.indexOf(':');
    const prefix = colon < 0 ? '' : qname.slice(0, colon);
    const ns = lookup(scope, prefix);
    if (ns === undefined) throw new ProtocolError(this.document, this.pathTo(qname), `the namespace prefix '${prefix}' is not declared`);
    const node: XmlNode = {
      name: colon < 0 ? qname : qname.slice(colon + 1),
      ns: DM_NAMESPACES.includes(ns) ? '' : ns,
      attrs: this.attributes(qname),
      children: NO_CHILDREN,
      text: '',
    };
    if (open === undefined) this.top = node;
    else if (open.node.children === NO_CHILDREN) {
      open.node.children = [node];
      // An element with children is a container: the layout before its first child is not its text.
      if (isLayout(open.node.text)) open.node.text = '';
    } else open.node.children.push(node);
    if (close[1] !== '/') this.stack.push({ node, qname, scope, at });
  }

  /** The element's namespace scope: its parent's, or a new one when it declares prefixes (xmlns attributes). */
  private scopeFor(qname: string, open: Open | undefined, at: number): Scope {
    const names = ATTR_NAMES;
    let scope = open?.scope ?? TOP_SCOPE;
    if (names.length > 1) {
      const seen = new Set<string>();
      for (const n of names) {
        if (seen.has(n)) throw this.malformed(at, `the attribute ${n} of <${qname}> is repeated`);
        seen.add(n);
      }
    }
    for (let k = 0; k < names.length; k++) {
      const n = names[k] as string;
      if (n !== 'xmlns' && !n.startsWith('xmlns:')) continue;
      if (scope === (open?.scope ?? TOP_SCOPE)) scope = { bindings: new Map(), parent: scope };
      scope.bindings.set(n === 'xmlns' ? '' : n.slice(6), this.attributeValue(qname, k));
    }
    return scope;
  }

  /** Unprefixed attributes, decoded; xmlns declarations and other prefixed attributes are left out. */
  private attributes(qname: string): Map<string, string> {
    const names = ATTR_NAMES;
    if (names.length === 0) return NO_ATTRIBUTES;
    const attrs = new Map<string, string>();
    for (let k = 0; k < names.length; k++) {
      const n = names[k] as string;
      // Prefixed attributes (xml:lang, foreign extensions) carry nothing a DM reader needs.
      if (!n.includes(':') && n !== 'xmlns') attrs.set(n, this.attributeValue(qname, k));
    }
    return attrs;
  }

  /** XML attribute-value normalisation (literal tab, CR and LF read as spaces), then entity decoding. */
  private attributeValue(qname: string, k: number): string {
    const raw = ATTR_VALUES[k] as string;
    if (raw.includes('<')) throw new ProtocolError(this.document, this.pathTo(qname), `attribute ${ATTR_NAMES[k]} contains a raw '<'`);
    if (!raw.includes('&') && !/[\t\r\n]/.test(raw)) return raw;
    const flat = raw.replace(/\r\n|[\t\r\n]/g, ' ');
    try {
      return decodeEntities(flat, (problem) => { throw new ProtocolError(this.document, '', problem); });
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      throw new ProtocolError(this.document, `${this.pathTo(qname)}/@${ATTR_NAMES[k]}`, err.problem);
    }
  }

  private endTag(open: Open | undefined): void {
    const s = this.text;
    const at = this.at;
    END_TAG.lastIndex = at;
    const m = END_TAG.exec(s);
    if (m === null) throw this.malformed(at, 'an end tag is written </name>');
    const name = m[1] as string;
    if (open === undefined) throw this.malformed(at, `</${name}> closes no open element`);
    if (open.qname !== name) {
      throw this.malformed(at, `</${name}> comes while <${open.qname}> (${position(s, open.at)}) is still open`);
    }
    this.stack.pop();
    this.at = END_TAG.lastIndex;
  }

  private characters(open: Open, raw: string): void {
    // XML line-end normalisation before decoding: a raw CR is a line break, a written &#13; stays a CR.
    const text = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
    if (!text.includes('&')) {
      open.node.text += text;
      return;
    }
    open.node.text += decodeEntities(text, (problem) => {
      throw new ProtocolError(this.document, this.stack.map((o) => `/${o.qname}`).join(''), problem);
    });
  }
}
