// A small read-only view over the parsed element tree that remembers where it is, so that every problem a
// document module finds is reported with the document name and the element path, e.g.
// "Instructions: /Instructions/Package[1]/Recurrence/Interval: '0000-00-00 00:00:00' is not a positive duration".
// Lookups match DM-namespace (or unqualified) elements by local name, in any order, and skip elements of
// other namespaces, which is how a receiver ignores extensions it does not know.
import { ProtocolError, inContext, quote } from './errors.js';
import { parseXml, DEFAULT_MAX_DOCUMENT_BYTES, type ParseOptions, type XmlNode } from './xml.js';

/** XML whitespace only: a no-break space inside a value is data, not layout. */
export function trimXml(text: string): string {
  return text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

export class El {
  constructor(readonly node: XmlNode, readonly document: string, readonly path: string) {}

  get name(): string {
    return this.node.name;
  }

  fail(problem: string, at: string = this.path): never {
    throw new ProtocolError(this.document, at, problem);
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
    const found = this.node.children.filter((c) => c.ns === '' && names.includes(c.name));
    return found.map((c, i) => new El(c, this.document, `${this.path}/${c.name}[${i + 1}]`));
  }

  /** The DM child with one of `names` (alternative spellings), or undefined. Two of them is an error. */
  child(...names: string[]): El | undefined {
    const found = this.node.children.filter((c) => c.ns === '' && names.includes(c.name));
    if (found.length > 1) this.fail(`<${found[0]?.name}> appears ${found.length} times; expected at most once`);
    const only = found[0];
    return only === undefined ? undefined : new El(only, this.document, `${this.path}/${only.name}`);
  }

  require(...names: string[]): El {
    return this.child(...names) ?? this.fail(`missing required element <${names[0]}>`);
  }

  /** Children in a namespace other than DM (extensions), by namespace URI and local name. */
  foreign(ns: string, name: string): El[] {
    return this.node.children
      .filter((c) => c.ns === ns && c.name === name)
      .map((c) => new El(c, this.document, `${this.path}/${c.name}`));
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
  return new El(root, document, `/${root.name}`);
}

export { quote };
