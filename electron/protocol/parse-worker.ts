// The parse worker: a thread that runs the shared/protocol parse functions (parse-jobs.ts) for documents
// too large to parse on the event loop. Each job arrives with its own port; the result goes back on that
// port in pieces (result-pieces.ts), then a line on the main channel says how many pieces there are. A
// ProtocolError travels as its document, path and problem, and is rebuilt as the same error on the other
// side. The receiver closes each job's port once it has read the pieces.
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { ProtocolError } from '../../shared/protocol/errors.js';
import { isParseKind, runParse, type ParseJobOptions } from './parse-jobs.js';
import { splitResult } from './result-pieces.js';

export interface ParseJob {
  id: number;
  kind: string;
  body: string | Uint8Array;
  options: ParseJobOptions;
  port: MessagePort;
}

export type ParseAnswer =
  | { id: number; ok: true; head: ReturnType<typeof splitResult>['head']; holes: ReturnType<typeof splitResult>['holes']; pieces: number }
  | { id: number; ok: false; protocol: { document: string; path: string; problem: string } }
  | { id: number; ok: false; failure: string };

function answer(job: ParseJob): ParseAnswer {
  try {
    if (!isParseKind(job.kind)) throw new Error(`no parser for '${String(job.kind)}'`);
    const { head, holes, pieces } = splitResult(runParse(job.kind, job.body, job.options));
    for (const piece of pieces) job.port.postMessage(piece);
    return { id: job.id, ok: true, head, holes, pieces: pieces.length };
  } catch (err) {
    if (err instanceof ProtocolError) return { id: job.id, ok: false, protocol: { document: err.document, path: err.path, problem: err.problem } };
    return { id: job.id, ok: false, failure: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

if (parentPort === null) throw new Error('parse-worker.ts runs as a worker thread (see parse-off-thread.ts)');
const main = parentPort;
main.on('message', (job: ParseJob) => main.postMessage(answer(job)));
