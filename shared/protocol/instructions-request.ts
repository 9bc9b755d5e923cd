// §6 Instruction Request (`InstructionsRequest`, device → server): one per needed package.
import type { InstructionsRequest } from './types.js';
import { El, openDocument } from './element.js';
import { el, need, serialize } from './writer.js';
import type { ParseOptions } from './xml.js';

const DOC = 'InstructionsRequest';

export function parseInstructionsRequest(xml: string, options?: ParseOptions): InstructionsRequest {
  return readInstructionsRequest(openDocument(xml, DOC, options));
}

export function readInstructionsRequest(root: El): InstructionsRequest {
  // Exactly one Package: the device asks about one package per request (spec §6.3).
  return { PackageID: root.require('Package').requireAttr('ID') };
}

export function buildInstructionsRequest(v: InstructionsRequest): string {
  return serialize(el(DOC, [], el('Package', [['ID', need(v.PackageID, DOC, `/${DOC}/Package/@ID`)]])), { declaration: true, namespace: true });
}
