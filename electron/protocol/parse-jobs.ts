// What can be parsed off the event loop: one table of the shared/protocol parse functions, by the kind of
// document, used on both sides of the parse worker — inline for small documents, in the worker for large
// ones — so a document reads the same wherever it was read.
import {
  documentText, parseDocument, parseFileReport, parseInstructions, parseInstructionsRequest, parseInventory, parsePackageLocation,
  parsePackageLocationRequest, parsePollRequest, parsePollResponse, parseStatus, type ParseOptions,
} from '../../shared/protocol/index.js';
import type {
  DevicePoll, DmDocument, FileReport, Instructions, InstructionsRequest, Inventory, PackageLocation,
  PackageLocationRequest, PollResponse, Status,
} from '../../shared/protocol/types.js';

/** The typed result of each kind; `document` is any DM document, dispatched on its root element. */
export interface ParseResults {
  DevicePoll: DevicePoll;
  PollResponse: PollResponse;
  InstructionsRequest: InstructionsRequest;
  Instructions: Instructions;
  PackageLocationRequest: PackageLocationRequest;
  PackageLocation: PackageLocation;
  Status: Status;
  FileReport: FileReport;
  Inventory: Inventory;
  document: DmDocument;
}

export type ParseKind = keyof ParseResults;

export interface ParseJobOptions extends ParseOptions {
  /** Instructions only: the package ID the client asked for (spec A4). */
  requestedId?: string;
}

const PARSERS: { [K in ParseKind]: (xml: string, o: ParseJobOptions) => ParseResults[K] } = {
  DevicePoll: (xml, o) => parsePollRequest(xml, o),
  PollResponse: (xml, o) => parsePollResponse(xml, o),
  InstructionsRequest: (xml, o) => parseInstructionsRequest(xml, o),
  Instructions: (xml, o) => parseInstructions(xml, o.requestedId, o),
  PackageLocationRequest: (xml, o) => parsePackageLocationRequest(xml, o),
  PackageLocation: (xml, o) => parsePackageLocation(xml, o),
  Status: (xml, o) => parseStatus(xml, o),
  FileReport: (xml, o) => parseFileReport(xml, o),
  Inventory: (xml, o) => parseInventory(xml, o),
  document: (xml, o) => parseDocument(xml, o),
};

export const isParseKind = (kind: unknown): kind is ParseKind => typeof kind === 'string' && Object.hasOwn(PARSERS, kind);

/** Runs one parse where it is called. Bytes are read by documentText (UTF-8, or UTF-16 as a real client reads it). Throws what the parse function throws. */
export function runParse<K extends ParseKind>(kind: K, body: string | Uint8Array, options: ParseJobOptions = {}): ParseResults[K] {
  const xml = typeof body === 'string' ? body : documentText(body);
  const parse = PARSERS[kind] as (xml: string, o: ParseJobOptions) => ParseResults[K];
  return parse(xml, options);
}
