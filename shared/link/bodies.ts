// The JSON bodies of the control messages, as runtime schemas: each side validates what it receives, so a
// peer that sends a wrong shape gets a clear complaint instead of an `undefined` deep in the code.
// Field names are those of docs/link-protocol.md §Messages; Inventory and FileReport are the WinCE-DM
// report types (shared/protocol/types.ts), so the station forwards them to the server as they are.
import { z } from 'zod';
import type { FileReport, Inventory, InventoryDirectory } from '../protocol/types.js';
import { MAX_COMMAND_LINE_CHARS, MAX_PATH_CHARS } from './limits.js';
import { parseJsonBody } from './messages.js';
import { answerLimitProblem } from './answer-limits.js';

const size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const path = z.string().max(MAX_PATH_CHARS);
const sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'a SHA-256 is 64 hexadecimal digits');

export const FileFilterItemBody = z.object({
  Filter: z.string().max(MAX_PATH_CHARS),
  Path: path,
  Recursive: z.boolean(),
  ExcludeCompressed: z.boolean(),
  ExcludeEncrypted: z.boolean(),
});

const inventoryFile = z.object({
  Name: z.string(),
  Version: z.string().optional(),
  Company: z.string().optional(),
  Description: z.string().optional(),
  Size: size,
  Created: z.string().optional(),
  LastModified: z.string().optional(),
  LastAccessed: z.string().optional(),
  Attributes: z.string().optional(),
});

const inventoryDirectory: z.ZodType<InventoryDirectory> = z.lazy(() =>
  z.object({
    Name: z.string(),
    Created: z.string().optional(),
    LastAccessed: z.string().optional(),
    Attributes: z.string().optional(),
    Directories: z.array(inventoryDirectory),
    Files: z.array(inventoryFile),
  }),
);

export const InventoryBody: z.ZodType<Inventory> = z.object({
  type: z.string(),
  Items: z.array(z.object({ name: z.string(), Properties: z.array(z.object({ name: z.string(), value: z.string() })) })),
});

export const FileReportBody: z.ZodType<FileReport> = z.object({ Directories: z.array(inventoryDirectory) });

const runId = z.string().min(1).max(64);
const runReply = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  output: z.string(),
  outputTruncated: z.boolean(),
  durationMs: z.number().min(0),
  timedOut: z.boolean().optional(),
});

/** Requests (station → device) and their replies, by message name. */
export const Bodies = {
  MACHINE_INVENTORY: z.object({}),
  MACHINE_INVENTORY_REPLY: z.object({ inventory: InventoryBody }),
  LIST_FILES: z.object({ items: z.array(FileFilterItemBody).max(256) }),
  LIST_FILES_REPLY: z.object({ report: FileReportBody, truncated: z.boolean(), warnings: z.array(z.string()) }),
  PUT_QUERY: z.object({ directory: path, fileName: path, size, sha256 }),
  PUT_QUERY_REPLY: z.object({ offset: size }),
  PUT_BEGIN: z.object({ directory: path, fileName: path, size, sha256, offset: size }),
  PUT_BEGIN_REPLY: z.object({ offset: size }),
  PUT_END: z.object({}),
  PUT_END_REPLY: z.object({ path: z.string() }),
  REMOVE_FILE: z.object({ path }),
  REMOVE_FILE_REPLY: z.object({}),
  RUN: z.object({
    commandLine: z.string().min(1).max(MAX_COMMAND_LINE_CHARS),
    directory: path,
    timeoutMs: z.number().int().min(1),
    maxOutputBytes: z.number().int().min(0),
    /** The station's name for this run ('run-status' agents): a run ID is never started twice. */
    runId: runId.optional(),
  }),
  RUN_REPLY: runReply,
  RUN_STATUS: z.object({ runId, wait: z.boolean() }),
  RUN_STATUS_REPLY: z.object({
    state: z.enum(['running', 'finished', 'interrupted', 'unknown']),
    result: runReply.optional(),
    reason: z.string().max(1024).optional(),
  }),
  GET_FILE: z.object({ path, maxBytes: size }),
  GET_FILE_REPLY: z.object({ size }),
  GET_END: z.object({ sha256 }),
  CANCEL: z.object({}),
  BYE: z.object({ reason: z.string().max(1024).optional() }),
  BYE_REPLY: z.object({}),
  ERROR: z.object({ code: z.string().max(64), message: z.string().max(4096) }),
} as const;

export type BodyName = keyof typeof Bodies;
export type Body<N extends BodyName> = z.infer<(typeof Bodies)[N]>;

/**
 * Validates a parsed JSON body; returns the typed value or a one-line description of what is wrong
 * (`offset: expected number, received string`), for the error the receiver raises.
 */
export type BodyCheck<N extends BodyName> = { ok: true; value: Body<N> } | { ok: false; problem: string; overLimit?: true };

export function checkBody<N extends BodyName>(name: N, value: unknown): BodyCheck<N> {
  // The answer limits first: they bound the schema's work, and their breach is not a malformed message.
  const limit = answerLimitProblem(name, value);
  if (limit !== undefined) return { ok: false, problem: limit, overLimit: true };
  const result = Bodies[name].safeParse(value);
  if (result.success) return { ok: true, value: result.data as Body<N> };
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return { ok: false, problem: `${where}${issue?.message ?? 'invalid'}` };
}

/** A received message body: JSON parsed and checked against `name`'s schema, or what is wrong with it. */
export function readBody<N extends BodyName>(name: N, body: Uint8Array): BodyCheck<N> {
  let value: unknown;
  try {
    value = parseJsonBody(body);
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  return checkBody(name, value);
}
