// Writing documents. The stock CE client has its own limited XML parser (spec §2.2), so output stays plain:
// UTF-8, double-quoted attributes, no comments, CDATA or processing instructions, and only the five XML
// escapes. Values a parser would refuse (control characters) are refused here too, naming the element.
//
// The writer walks the tree with its own stack (no recursion), appends each line once and joins them once,
// so building is linear in the output; serializeAsync gives the event loop back between slices of a large
// report (work-slices.ts). Element paths for error messages are built only when there is an error.
import { ProtocolError } from './errors.js';
import { DM_NAMESPACE } from './types.js';
import { forbiddenCharProblem } from './xml.js';
import { runInSlices, runToEnd, SliceClock, type Stepper } from './work-slices.js';

export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8" ?>';

export interface XNode {
  name: string;
  attrs?: Array<[string, string | undefined]>; // undefined values are left out
  children?: Array<XNode | undefined>; // undefined children are left out
  /**
   * Children made one at a time as the writer reaches them, after `children`: for the long lists (files,
   * packages, inventory items), so a large report is never held twice in memory and its making is sliced too.
   */
  more?: LazyChildren;
  text?: string;
}

export interface LazyChildren {
  count: number;
  make(index: number): XNode;
}

export interface SerializeOptions {
  declaration: boolean;
  namespace: boolean;
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
  if (!/[&<>\r]/.test(text)) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

function escapeAttr(text: string): string {
  // Tabs and line breaks would be turned into spaces by a reader's attribute normalisation: keep them as refs.
  if (!/[&<>\r"\t\n]/.test(text)) return text;
  return escapeText(text).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

const isNode = (c: XNode | undefined): c is XNode => c !== undefined;
const NO_CHILDREN: XNode[] = [];

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff\ud800-\udfff]/;

/** A quick test; forbiddenCharProblem then tells a lone surrogate from a valid pair. */
function forbiddenChar(value: string): boolean {
  return FORBIDDEN.test(value) && forbiddenCharProblem(value) !== undefined;
}

/** One element being written: its children, how far the writer got, and how to name it in an error. */
interface Frame {
  node: XNode;
  children: XNode[];
  more: LazyChildren | undefined;
  next: number;
  indent: string;
  step: string; // `Name` or `Name[n]` when the name repeats among its siblings
  parent: Frame | undefined;
}

function pathOf(frame: Frame): string {
  let path = '';
  for (let f: Frame | undefined = frame; f !== undefined; f = f.parent) path = `/${f.step}${path}`;
  return path;
}

/** Names repeated among `children`, so that their paths carry `[n]` as the readers report them. */
function repeatedNames(children: XNode[]): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const c of children) {
    if (seen.has(c.name)) repeated.add(c.name);
    else seen.add(c.name);
  }
  return repeated;
}

function serializer(root: XNode, opts: SerializeOptions, out: (text: string) => void): Stepper {
  const document = root.name;
  const clock = new SliceClock();
  const check = (value: string, frame: Frame, attr?: string): string => {
    if (typeof value === 'string' && !forbiddenChar(value)) return value;
    const at = `${pathOf(frame)}${attr === undefined ? '' : `/@${attr}`}`;
    if (typeof value !== 'string') throw new ProtocolError(document, at, 'the value is not text');
    throw new ProtocolError(document, at, `the value ${forbiddenCharProblem(value) ?? ''}`);
  };
  const open = (node: XNode, parent: Frame | undefined, step: string): Frame => {
    const frame: Frame = {
      node, parent, step, next: 0,
      indent: parent === undefined ? '' : `${parent.indent}  `,
      children: node.children === undefined || node.children.length === 0 ? NO_CHILDREN : node.children.filter(isNode),
      more: node.more !== undefined && node.more.count > 0 ? node.more : undefined,
    };
    let attrText = parent === undefined && opts.namespace ? ` xmlns="${DM_NAMESPACE}"` : '';
    for (const [k, v] of node.attrs ?? []) if (v !== undefined) attrText += ` ${k}="${escapeAttr(check(v, frame, k))}"`;
    if (node.text !== undefined) out(`${frame.indent}<${node.name}${attrText}>${escapeText(check(node.text, frame))}</${node.name}>\n`);
    else if (frame.children.length === 0 && frame.more === undefined) out(`${frame.indent}<${node.name}${attrText} />\n`);
    else out(`${frame.indent}<${node.name}${attrText}>\n`);
    return frame;
  };

  if (opts.declaration) out(`${XML_DECLARATION}\n`);
  const stack: Frame[] = [];
  const repeats: Array<{ names: Set<string>; counts: Map<string, number> }> = [];
  const enter = (node: XNode, parent: Frame | undefined, step: string): void => {
    const frame = open(node, parent, step);
    if (node.text !== undefined || (frame.children.length === 0 && frame.more === undefined)) return;
    stack.push(frame);
    repeats.push({ names: repeatedNames(frame.children), counts: new Map() });
  };
  let started = false;
  return (deadline) => {
    if (!started) {
      started = true;
      enter(root, undefined, root.name);
    }
    while (stack.length > 0) {
      if (clock.due(deadline)) return false;
      const frame = stack[stack.length - 1] as Frame;
      const eager = frame.children.length;
      const lazy = frame.more?.count ?? 0;
      if (frame.next >= eager + lazy) {
        out(`${frame.indent}</${frame.node.name}>\n`);
        stack.pop();
        repeats.pop();
        continue;
      }
      const index = frame.next;
      frame.next += 1;
      if (index >= eager) {
        // Lazy children are the long lists: always indexed, counted per name.
        const child = (frame.more as LazyChildren).make(index - eager);
        const counts = (repeats[repeats.length - 1] as { counts: Map<string, number> }).counts;
        const n = (counts.get(child.name) ?? 0) + 1;
        counts.set(child.name, n);
        enter(child, frame, `${child.name}[${n}]`);
        continue;
      }
      const child = frame.children[index] as XNode;
      const names = repeats[repeats.length - 1] as { names: Set<string>; counts: Map<string, number> };
      let step = child.name;
      if (names.names.has(child.name)) {
        const n = (names.counts.get(child.name) ?? 0) + 1;
        names.counts.set(child.name, n);
        step = `${child.name}[${n}]`;
      }
      enter(child, frame, step);
    }
    return true;
  };
}

/**
 * Serialises a document. `namespace` puts the DM default namespace on the root (every document except
 * FileReport and Inventory); `declaration` starts with the XML declaration.
 */
export function serialize(root: XNode, opts: SerializeOptions): string {
  const parts: string[] = [];
  runToEnd(serializer(root, opts, (text) => parts.push(text)));
  return parts.join('');
}

/** serialize, giving the event loop back between slices (large reports). */
export async function serializeAsync(root: XNode, opts: SerializeOptions): Promise<string> {
  const parts: string[] = [];
  await runInSlices(serializer(root, opts, (text) => parts.push(text)));
  // Joining 100,000 lines at once is itself a long stretch: join them in groups first, in slices, so the
  // last join only copies a few hundred flat strings.
  const groups: string[] = [];
  let next = 0;
  await runInSlices((deadline) => {
    do {
      groups.push(parts.slice(next, next + JOIN_GROUP).join(''));
      next += JOIN_GROUP;
    } while (next < parts.length && performance.now() < deadline);
    return next >= parts.length;
  });
  return groups.join('');
}

const JOIN_GROUP = 1024;

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
