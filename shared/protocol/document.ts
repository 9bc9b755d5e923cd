// Reading a document whose kind is not known in advance (a server endpoint that must also route on the root
// element when X-Device-Action is missing or unknown, spec A1; the `dockhand protocol parse` command).
import type { DmDocument, DmDocumentKind } from './types.js';
import { El, rootElement } from './element.js';
import { ProtocolError } from './errors.js';
import { DEFAULT_MAX_DOCUMENT_BYTES, MAX_REPORT_BYTES, parseXml, utf8Length, type ParseOptions } from './xml.js';
import { readPollRequest } from './poll-request.js';
import { MAX_POLL_RESPONSE_BYTES, readPollResponse } from './poll-response.js';
import { readInstructionsRequest } from './instructions-request.js';
import { readInstructions } from './instructions.js';
import { readPackageLocationRequest } from './package-location-request.js';
import { readPackageLocation } from './package-location.js';
import { readStatus, repairStatusStartTags } from './status.js';
import { readFileReport } from './file-report.js';
import { readInventory } from './inventory.js';

const READERS: { [K in DmDocumentKind]: (root: El) => Extract<DmDocument, { kind: K }>['value'] } = {
  DevicePoll: readPollRequest,
  PollResponse: readPollResponse,
  InstructionsRequest: readInstructionsRequest,
  Instructions: (root) => readInstructions(root),
  PackageLocationRequest: readPackageLocationRequest,
  PackageLocation: readPackageLocation,
  Status: readStatus,
  FileReport: readFileReport,
  Inventory: readInventory,
};

export const DOCUMENT_KINDS = Object.keys(READERS) as DmDocumentKind[];

const isKind = (name: string): name is DmDocumentKind => Object.hasOwn(READERS, name);

/**
 * Parses any DM document, dispatching on the root element name. Reports may be as large as
 * MAX_REPORT_BYTES, a poll response MAX_POLL_RESPONSE_BYTES; the other control documents keep the
 * DEFAULT_MAX_DOCUMENT_BYTES limit unless `maxBytes` is given.
 */
export function parseDocument(xml: string, options?: ParseOptions): DmDocument {
  const explicit = options?.maxBytes;
  // A first look at the root name, before parsing, names the document in errors and enables the Status repair.
  const first = typeof xml === 'string' ? /^\uFEFF?\s*(?:<\?[^>]*\?>\s*|<!--[\s\S]*?-->\s*)*<([A-Za-z_][\w.:-]*)/.exec(xml) : null;
  const guess = first?.[1]?.replace(/^[^:]*:/, '');
  const text = guess === 'Status' ? repairStatusStartTags(xml) : xml;
  const root = parseXml(text, guess ?? 'document', explicit ?? MAX_REPORT_BYTES);
  const kind = root.name;
  if (!isKind(kind)) {
    throw new ProtocolError(kind, `/${kind}`, `<${kind}> is not a Device Management document (expected one of ${DOCUMENT_KINDS.join(', ')})`);
  }
  const limit = kind === 'FileReport' || kind === 'Inventory' ? MAX_REPORT_BYTES
    : kind === 'PollResponse' ? MAX_POLL_RESPONSE_BYTES : DEFAULT_MAX_DOCUMENT_BYTES;
  if (explicit === undefined && utf8Length(xml, limit) > limit) {
    throw new ProtocolError(kind, '', `the document is larger than the ${limit}-byte limit`);
  }
  const reader = READERS[kind] as (root: El) => DmDocument['value'];
  return { kind, value: reader(rootElement(root, kind)) } as DmDocument;
}
