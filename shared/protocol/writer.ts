// Writing documents. The stock CE client has its own limited XML parser (spec §2.2), so output stays plain:
// UTF-8, double-quoted attributes, no comments, CDATA or processing instructions, and only the five XML
// escapes. Values a parser would refuse (control characters) are refused here too, naming the element.
import { ProtocolError } from './errors.js';
import { DM_NAMESPACE } from './types.js';
import { forbiddenCharProblem } from './xml.js';

export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8" ?>';

export interface XNode {
  name: string;
  attrs?: Array<[string, string | undefined]>; // undefined values are left out
  children?: Array<XNode | undefined>; // undefined children are left out
  text?: string;
}

/** An element; `undefined` attribute values and children are skipped, which keeps builders declarative. */
export function el(name: string, attrs: Array<[string, string | undefined]> = [], ...children: Array<XNode | undefined>): XNode {
  return { name, attrs, children };
}

/** A text-only element, or nothing when the value is undefined. */
export function textEl(name: string, text: string | undefined, attrs: Array<[string, string | undefined]> = []): XNode | undefined {
  return text === undefined ? undefined : { name, attrs, text };
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

function escapeAttr(text: string): string {
  // Tabs and line breaks would be turned into spaces by a reader's attribute normalisation: keep them as refs.
  return escapeText(text).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

/**
 * Serialises a document. `namespace` puts the DM default namespace on the root (every document except
 * FileReport and Inventory); `declaration` starts with the XML declaration.
 */
export function serialize(root: XNode, opts: { declaration: boolean; namespace: boolean }): string {
  const document = root.name;
  const check = (value: string, path: string): string => {
    if (typeof value !== 'string') throw new ProtocolError(document, path, 'the value is not text');
    const problem = forbiddenCharProblem(value);
    if (problem) throw new ProtocolError(document, path, `the value ${problem}`);
    return value;
  };
  const lines: string[] = opts.declaration ? [XML_DECLARATION] : [];
  const write = (node: XNode, depth: number, path: string, isRoot: boolean): void => {
    const indent = '  '.repeat(depth);
    const attrs = [...(isRoot && opts.namespace ? [['xmlns', DM_NAMESPACE] as [string, string]] : []), ...(node.attrs ?? [])];
    const attrText = attrs
      .filter((a): a is [string, string] => a[1] !== undefined)
      .map(([k, v]) => ` ${k}="${escapeAttr(check(v, `${path}/@${k}`))}"`)
      .join('');
    const children = (node.children ?? []).filter((c): c is XNode => c !== undefined);
    if (node.text !== undefined) {
      lines.push(`${indent}<${node.name}${attrText}>${escapeText(check(node.text, path))}</${node.name}>`);
    } else if (children.length === 0) {
      lines.push(`${indent}<${node.name}${attrText} />`);
    } else {
      lines.push(`${indent}<${node.name}${attrText}>`);
      const seen = new Map<string, number>();
      for (const child of children) {
        // Repeated elements are indexed [n] as the readers report them; single ones are not.
        const n = (seen.get(child.name) ?? 0) + 1;
        seen.set(child.name, n);
        const repeated = children.filter((c) => c.name === child.name).length > 1;
        write(child, depth + 1, `${path}/${child.name}${repeated ? `[${n}]` : ''}`, false);
      }
      lines.push(`${indent}</${node.name}>`);
    }
  };
  write(root, 0, `/${root.name}`, true);
  return `${lines.join('\n')}\n`;
}

/**
 * A value the reader requires: refused here when missing or blank, so a builder never emits a document its
 * own parser (or a device) would reject.
 */
export function need(value: string | undefined, document: string, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ProtocolError(document, path, 'a required value is missing or empty');
  }
  return value;
}
