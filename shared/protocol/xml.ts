// The XML layer: text in, a small namespace-resolved element tree out (see element.ts for the accessor the
// document modules use). Before the reader runs, it refuses what makes XML dangerous or expensive: oversize
// documents and characters XML forbids; the reader itself (xml-scanner.ts) refuses DOCTYPE and entity
// declarations (billion laughs, XXE) and undeclared entities. Everything it throws is a ProtocolError.
//
// Two drivers over the same work: parseXml runs it to the end at once; parseXmlAsync gives the event loop
// back every few milliseconds (work-slices.ts), for documents that may be large (reports, long package lists).
import { ProtocolError, quote } from './errors.js';
import { DM_NAMESPACE } from './types.js';
import { runInSlices, runToEnd, type Stepper } from './work-slices.js';
import { position, XmlScanner, type XmlNode } from './xml-scanner.js';

export { DM_NAMESPACES, MAX_ELEMENT_DEPTH, type XmlNode } from './xml-scanner.js';

/** Control documents (poll, instructions, location, status) are small; 1 MiB is generous. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;
/** Software (FileReport) and machine (Inventory) reports list whole file systems. */
export const MAX_REPORT_BYTES = 32 * 1024 * 1024;

export interface ParseOptions {
  maxBytes?: number;
}

// Characters XML 1.0 forbids anywhere in a document (§2.2), plus lone surrogates.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

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

/** Returns a problem description if `text` holds a character XML forbids, else undefined. */
export function forbiddenCharProblem(text: string): string | undefined {
  const m = FORBIDDEN_CHAR.exec(text);
  return m === null ? undefined : describeForbidden(m[0]);
}

function describeForbidden(char: string): string {
  const code = char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `contains the character U+${code}, which XML does not allow`;
}

/** The checks before reading: text, size, emptiness. Returns the text without a byte order mark. */
function prepare(xml: string, document: string, maxBytes: number): string {
  if (typeof xml !== 'string') throw new ProtocolError(document, '', 'the document is not text');
  if (utf8Length(xml, maxBytes) > maxBytes) throw new ProtocolError(document, '', `the document is larger than the ${maxBytes}-byte limit`);
  const text = xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml; // a UTF-8 byte order mark is harmless
  if (text.trim() === '') throw new ProtocolError(document, '', 'the document is empty');
  return text;
}

/** Windows of the forbidden-character scan in the sliced driver; a window never splits a surrogate pair. */
const SCAN_WINDOW = 512 * 1024;

function forbiddenScan(text: string, document: string): Stepper {
  let from = 0;
  return (deadline) => {
    do {
      let to = Math.min(text.length, from + SCAN_WINDOW);
      const last = text.charCodeAt(to - 1);
      if (to < text.length && last >= 0xd800 && last <= 0xdbff) to += 1;
      const bad = FORBIDDEN_CHAR.exec(from === 0 && to === text.length ? text : text.slice(from, to));
      if (bad !== null) {
        throw new ProtocolError(document, '', `${describeForbidden(bad[0])} (${position(text, from + bad.index)})`);
      }
      from = to;
    } while (from < text.length && performance.now() < deadline);
    return from >= text.length;
  };
}

function rootNamespace(root: XmlNode, document: string): XmlNode {
  if (root.ns !== '') {
    throw new ProtocolError(document, `/${root.name}`, `the root element is in namespace ${quote(root.ns, 120)}; expected ${DM_NAMESPACE} ` +
      '(the https:// spelling and no namespace are accepted too)');
  }
  return root;
}

/**
 * Parses a whole document into its root element. `document` names it in errors (the expected root, or
 * `document` when any root is welcome). The root's namespace must be DM (http or https) or none.
 */
export function parseXml(xml: string, document: string, maxBytes: number): XmlNode {
  const text = prepare(xml, document, maxBytes);
  const bad = FORBIDDEN_CHAR.exec(text);
  if (bad !== null) throw new ProtocolError(document, '', `${describeForbidden(bad[0])} (${position(text, bad.index)})`);
  const scanner = new XmlScanner(text, document);
  runToEnd((deadline) => scanner.step(deadline));
  return rootNamespace(scanner.root(), document);
}

/** parseXml, yielding to the event loop between slices of work. */
export async function parseXmlAsync(xml: string, document: string, maxBytes: number): Promise<XmlNode> {
  const text = prepare(xml, document, maxBytes);
  await runInSlices(forbiddenScan(text, document));
  const scanner = new XmlScanner(text, document);
  await runInSlices((deadline) => scanner.step(deadline));
  return rootNamespace(scanner.root(), document);
}
