// A small read-only view over the parsed element tree that remembers where it is, so that every problem a
// document module finds is reported with the document name and the element path, e.g.
// "Instructions: /Instructions/Package[1]/Recurrence/Interval: '0000-00-00 00:00:00' is not a positive duration".
// Lookups match DM-namespace (or unqualified) elements by local name, in any order, and skip elements of
// other namespaces, which is how a receiver ignores extensions it does not know.
//
// Paths are built only when asked for (a problem to report), so reading a 100,000-item report costs no string
// work per element. The reception rule (docs/protocol-decisions.md) lives here too: `lenient` reads a part
// the client can do without, and turns its problem into an Ignored note instead of refusing the document.
import { ProtocolError, inContext, quote } from './errors.js';
import { parseXml, DEFAULT_MAX_DOCUMENT_BYTES, type ParseOptions, type XmlNode } from './xml.js';
import type { Ignored } from './types.js';
import { trimXml } from './xml-space.js';

export class El {
  private pathText: string | undefined;

  constructor(
    readonly node: XmlNode,
    readonly document: string,
    private readonly parent: El | undefined,
    private readonly step: string,
    /** Where the reader notes what it left out; shared by every El of one document. */
    readonly ignored: Ignored[],
  ) {}

  get name(): string {
    return this.node.name;
  }

  get path(): string {
    this.pathText ??= `${this.parent === undefined ? '' : this.parent.path}/${this.step}`;
    return this.pathText;
  }

  fail(problem: string, at: string = this.path): never {
    throw new ProtocolError(this.document, at, problem);
  }

  /** Notes a part left out of the result, with its path, for the caller to log once. */
  ignore(problem: string, at: string = this.path): void {
    this.ignored.push({ path: at, problem });
  }

  /**
   * Reads a part the client can do without: its ProtocolError becomes an Ignored note and the result is
   * undefined, so the rest of the document still applies.
   */
  lenient<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.ignored.push({ path: err.path, problem: err.problem });
      return undefined;
    }
  }

  /** Runs a value parser on this element's text, reporting its failure at this element. */
  read<T>(parse: (text: string) => T): T {
    return inContext(this.document, this.path, () => parse(this.text()));
  }

  /** The element's own text, trimmed of XML whitespace. */
  text(): string {
    return trimXml(this.node.text);
  }

  /** All DM children with one of `names`, each path indexed `[n]` (1-based) as in a repeated element. */
  all(...names: string[]): El[] {
    const found: El[] = [];
    for (const c of this.node.children) {
      if (c.ns === '' && names.includes(c.name)) found.push(new El(c, this.document, this, `${c.name}[${found.length + 1}]`, this.ignored));
    }
    return found;
  }

  /** The DM child with one of `names` (alternative spellings), or undefined. Two of them is an error. */
  child(...names: string[]): El | undefined {
    let only: XmlNode | undefined;
    let count = 0;
    for (const c of this.node.children) {
      if (c.ns !== '' || !names.includes(c.name)) continue;
      count += 1;
      only ??= c;
    }
    if (count > 1) this.fail(`<${only?.name}> appears ${count} times; expected at most once`);
    return only === undefined ? undefined : new El(only, this.document, this, only.name, this.ignored);
  }

  require(...names: string[]): El {
    return this.child(...names) ?? this.fail(`missing required element <${names[0]}>`);
  }

  /** DM children whose names are not in `known`: elements this reader does not know, for an Ignored note. */
  unknownChildren(known: ReadonlySet<string>): string[] {
    const names = new Set<string>();
    for (const c of this.node.children) if (c.ns === '' && !known.has(c.name)) names.add(c.name);
    return [...names];
  }

  /** Notes every DM child this reader does not know as ignored (an older or newer peer's addition). */
  ignoreUnknown(known: ReadonlySet<string>): void {
    for (const name of this.unknownChildren(known)) this.ignore(`<${name}> is not an element Dockhand reads here; skipped`, `${this.path}/${name}`);
  }

  /** Children in a namespace other than DM (extensions), by namespace URI and local name. */
  foreign(ns: string, name: string): El[] {
    return this.node.children
      .filter((c) => c.ns === ns && c.name === name)
      .map((c) => new El(c, this.document, this, c.name, this.ignored));
  }

  /** Text of an optional child; an element that is present but empty counts as absent. */
  optionalText(...names: string[]): string | undefined {
    const el = this.child(...names);
    if (el === undefined) return undefined;
    const text = el.text();
    return text === '' ? undefined : text;
  }

  requireText(...names: string[]): string {
    const el = this.require(...names);
    const text = el.text();
    return text === '' ? el.fail(`<${el.name}> is empty`) : text;
  }

  /** Reads an optional child with a value parser; empty or absent gives undefined. */
  optional<T>(name: string | string[], parse: (text: string) => T): T | undefined {
    const el = this.child(...(Array.isArray(name) ? name : [name]));
    if (el === undefined || el.text() === '') return undefined;
    return el.read(parse);
  }

  required<T>(name: string | string[], parse: (text: string) => T): T {
    const names = Array.isArray(name) ? name : [name];
    const el = this.require(...names);
    if (el.text() === '') el.fail(`<${el.name}> is empty`);
    return el.read(parse);
  }

  attrPath(name: string): string {
    return `${this.path}/@${name}`;
  }

  /** An attribute's value, trimmed; absent gives undefined (an empty attribute gives ''). */
  attr(name: string): string | undefined {
    const value = this.node.attrs.get(name);
    return value === undefined ? undefined : trimXml(value);
  }

  requireAttr(name: string): string {
    const value = this.attr(name);
    if (value === undefined) this.fail(`missing required attribute ${name}`);
    if (value === '') this.fail(`attribute ${name} is empty`, this.attrPath(name));
    return value;
  }

  readAttr<T>(name: string, parse: (text: string) => T): T | undefined {
    const value = this.attr(name);
    if (value === undefined || value === '') return undefined;
    return inContext(this.document, this.attrPath(name), () => parse(value));
  }
}

/**
 * Parses `xml` and checks that its root is `document`. Used by every parse* function; parseDocument uses
 * parseXml directly and then hands the root to the right reader.
 */
export function openDocument(xml: string, document: string, options: ParseOptions | undefined,
  defaultMax = DEFAULT_MAX_DOCUMENT_BYTES): El {
  const root = parseXml(xml, document, options?.maxBytes ?? defaultMax);
  return rootElement(root, document);
}

export function rootElement(root: XmlNode, document: string): El {
  if (root.name !== document) {
    throw new ProtocolError(document, `/${root.name}`,
      `the root element is <${root.name}>; expected <${document}>`);
  }
  return new El(root, document, undefined, root.name, []);
}

export { quote };
