// Parsing without holding the event loop. fast-xml-parser is synchronous and cannot pause, and a maximum-size
// document takes seconds to check and parse (a 32 MiB FileReport, a 4 MiB PollResponse). On the station's
// event loop that would starve every other device and the console; on the server, every other device. So:
//
//   - a document under OFF_THREAD_FROM (64 KiB: a few milliseconds of parsing) is parsed inline;
//   - a larger one goes to the parse worker (parse-worker.ts), one thread per process, started on first
//     use and reused; jobs queue on its port and run one after another. The worker sends back the typed
//     result — never the element tree — in pieces (result-pieces.ts), which are read here a slice at a
//     time, so the main thread's share of even the largest document is a few milliseconds at a time.
//
// Whoever runs long in a process (a station, a server) holds the worker with useParseWorker() and lets go
// when it closes; the worker ends when the last holder let go and its queue is empty. An idle worker never
// keeps the process alive.
//
// A deadline per job: fast-xml-parser cannot be interrupted, and one document that takes it unreasonably
// long (a pathological input, a bug) would hold every document queued behind it, every device's, for as
// long as it runs. A job that has been at the head of the queue (the oldest one not answered: the one the
// worker is at, or starting up for) for longer than its deadline (a base plus a time per MiB, far above what
// a maximum-size document and a worker's start take) fails with a ProtocolError saying so; the worker is
// ended and a new one takes the jobs that were waiting behind it, which lose nothing. It is a ProtocolError
// because a document the library cannot read in that time is, for whoever sent it, one it cannot read.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ProtocolError } from '../../shared/protocol/errors.js';
import { runInSlices } from '../../shared/protocol/work-slices.js';
import { runParse, type ParseJobOptions, type ParseKind, type ParseResults } from './parse-jobs.js';
import type { ParseAnswer, ParseJob } from './parse-worker.js';
import { ResultAssembler, type Piece } from './result-pieces.js';

/** Documents from this many bytes (or characters) on are parsed in the worker. */
export const OFF_THREAD_FROM = 64 * 1024;

/**
 * Set by the bundle builds (esbuild `define`, scripts/parse-worker-bundle.ts): where the bundled worker
 * sits, relative to the app folder. Unset when running from the TypeScript sources.
 */
declare const DOCKHAND_PARSE_WORKER: string | undefined;

function workerScript(): URL {
  // This file is two folders below the app folder, in the sources and, through the bundles' rewritten
  // import.meta (scripts/build-app.ts), in a bundle too.
  if (typeof DOCKHAND_PARSE_WORKER === 'string') return new URL(DOCKHAND_PARSE_WORKER, new URL('../../', import.meta.url));
  return new URL('./parse-worker-boot.mjs', import.meta.url);
}

interface Job {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  /** This job's channel to the worker that has it (null before it is posted). */
  port: MessagePort | null;
  /** What was posted, to post again to a new worker when an earlier job overran its deadline. */
  kind: ParseKind;
  body: string | Uint8Array;
  options: ParseJobOptions;
  deadline?: NodeJS.Timeout;
}

/** How long (ms) a job for a document of `bytes` may take once the worker has reached it. */
export type ParseDeadline = (bytes: number) => number;

// A maximum-size document (a 32 MiB FileReport) parses in a few seconds on this project's machines: 20 s plus
// 4 s per MiB is 148 s for it, room for a slow or busy machine, and still an end.
const DEFAULT_DEADLINE: ParseDeadline = (bytes) => 20_000 + (4_000 * bytes) / (1024 * 1024);

export interface ParseWorkerState {
  /** The worker thread runs now. */
  running: boolean;
  threadId: number | undefined;
  /** Worker threads started in this process so far. */
  started: number;
  parsedInline: number;
  parsedOffThread: number;
  /** Jobs that ran past their deadline and were set aside. */
  overran: number;
}

class ParseWorker {
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;
  /** Jobs not yet settled, the reading of their pieces included. */
  private busy = 0;
  private holders = 0;
  private closeWhenIdle = false;
  deadline: ParseDeadline = DEFAULT_DEADLINE;
  readonly counts = { started: 0, inline: 0, offThread: 0, overran: 0 };

  get thread(): Worker | undefined {
    return this.worker;
  }

  hold(): () => void {
    this.holders += 1;
    this.closeWhenIdle = false;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.holders -= 1;
      if (this.holders === 0) {
        this.closeWhenIdle = true;
        this.closeIfIdle();
      }
    };
  }

  async parse<K extends ParseKind>(kind: K, body: string | Uint8Array, options: ParseJobOptions): Promise<ParseResults[K]> {
    const id = this.nextId++;
    // A view into a larger buffer would send the whole buffer: send only the document's bytes.
    const sent = typeof body === 'string' || body.byteLength === body.buffer.byteLength ? body : new Uint8Array(body);
    this.busy += 1;
    this.counts.offThread += 1;
    try {
      return await new Promise<ParseResults[K]>((resolve, reject) => {
        const job: Job = { resolve: resolve as (v: unknown) => void, reject, port: null, kind, body: sent, options };
        this.jobs.set(id, job);
        try {
          this.post(id, job);
        } catch (err) {
          this.jobs.delete(id);
          job.port?.close();
          reject(err);
        }
        this.armHead();
      });
    } finally {
      this.busy -= 1;
      if (this.busy === 0) this.worker?.unref();
      this.closeIfIdle();
    }
  }

  /** Ends the worker now; jobs still queued fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker !== undefined) {
      this.forget(worker, new Error('the XML parse worker was closed before it answered'));
      await worker.terminate();
    }
    await this.exited;
  }

  /** Posts a job to the worker (starting one if needed), on a channel of its own. */
  private post(id: number, job: Job): void {
    const worker = this.worker ?? this.start();
    worker.ref(); // a parse in progress keeps the process alive, as any pending I/O does
    const { port1, port2 } = new MessageChannel();
    job.port = port1;
    const message: ParseJob = { id, kind: job.kind, body: job.body, options: job.options, port: port2 };
    worker.postMessage(message, [port2]);
  }

  /** Starts the deadline of the job the worker is at now: the oldest one it has not answered. */
  private armHead(): void {
    const head = this.jobs.entries().next();
    if (head.done) return;
    const [id, job] = head.value;
    if (job.deadline !== undefined) return;
    const ms = Math.round(this.deadline(documentBytes(job.body)));
    job.deadline = setTimeout(() => this.overran(id, ms), ms);
    job.deadline.unref();
  }

  /** A job ran past its deadline: it fails, the worker is ended, and the jobs behind it go to a new one. */
  private overran(id: number, ms: number): void {
    const job = this.jobs.get(id);
    const worker = this.worker;
    if (job === undefined || worker === undefined) return;
    this.jobs.delete(id);
    this.counts.overran += 1;
    job.port?.close();
    const mib = (documentBytes(job.body) / (1024 * 1024)).toFixed(1);
    const limit = ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
    job.reject(new ProtocolError(job.kind, '', `reading this ${mib} MiB document took longer than ${limit}, so it was set ` +
      'aside; the other documents waiting to be read were not affected'));
    this.worker = undefined; // forget() now ignores the old worker's exit
    void worker.terminate();
    for (const [waitingId, waiting] of this.jobs) {
      waiting.port?.close();
      try {
        this.post(waitingId, waiting);
      } catch (err) {
        this.jobs.delete(waitingId);
        waiting.reject(err);
      }
    }
    this.armHead();
  }

  private start(): Worker {
    const worker = new Worker(workerScript(), { name: 'dockhand-xml-parse' });
    this.worker = worker;
    this.counts.started += 1;
    // close() waits for every worker this one replaced too (one ended for overrunning may still be exiting).
    const before = this.exited;
    this.exited = Promise.all([before, new Promise<void>((resolve) => worker.once('exit', () => resolve()))]).then(() => undefined);
    // Only the current worker's answers count: one ended for overrunning may still have answers in flight.
    worker.on('message', (answer: ParseAnswer) => {
      if (this.worker === worker) this.settle(answer);
    });
    worker.on('error', (err) => this.forget(worker, new Error(`the XML parse worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.forget(worker, new Error(`the XML parse worker stopped (exit code ${code})`)));
    worker.unref();
    return worker;
  }

  private settle(answer: ParseAnswer): void {
    const job = this.jobs.get(answer.id);
    if (job === undefined) return;
    this.jobs.delete(answer.id);
    job.body = ''; // kept only to be posted again; the document may be tens of MiB
    clearTimeout(job.deadline);
    this.armHead(); // the worker goes on to the next job while this one's pieces are read
    const port = job.port!; // an answered job was posted
    if (!answer.ok) {
      port.close();
      job.reject('protocol' in answer
        ? new ProtocolError(answer.protocol.document, answer.protocol.path, answer.protocol.problem)
        : new Error(`the XML parse worker failed: ${answer.failure}`));
      return;
    }
    const assembler = new ResultAssembler(answer.head, answer.holes);
    let left = answer.pieces;
    runInSlices((deadline) => {
      while (left > 0) {
        if (performance.now() >= deadline) return false;
        // Every piece was posted before the answer, so each is waiting on the port.
        const next = receiveMessageOnPort(port);
        if (next === undefined) throw new Error(`the XML parse worker's answer lacks ${left} piece(s)`);
        assembler.add(next.message as Piece);
        left -= 1;
      }
      return true;
    }).then(() => job.resolve(assembler.value), job.reject).finally(() => port.close());
  }

  /** A worker that failed or was closed: its jobs fail, and the next parse starts a new one. */
  private forget(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const [id, job] of this.jobs) {
      this.jobs.delete(id);
      clearTimeout(job.deadline);
      job.port?.close();
      job.reject(err);
    }
  }

  private closeIfIdle(): void {
    if (!this.closeWhenIdle || this.holders > 0 || this.busy > 0) return;
    this.closeWhenIdle = false;
    if (this.worker !== undefined) void this.close();
  }
}

const shared = new ParseWorker();

function documentBytes(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}

/**
 * Parses a document of `kind` (bytes are read as UTF-8) without holding the event loop for long: inline
 * under OFF_THREAD_FROM, in the parse worker from there on. Rejects with the same ProtocolError (document,
 * element path, line and column) either way.
 */
export async function parseOffThread<K extends ParseKind>(kind: K, body: string | Uint8Array,
  options: ParseJobOptions = {}): Promise<ParseResults[K]> {
  if (body.length < OFF_THREAD_FROM) {
    shared.counts.inline += 1;
    return runParse(kind, body, options);
  }
  return shared.parse(kind, body, options);
}

/** Keeps the parse worker for a station or server that runs until closed; call the result when it closes. */
export function useParseWorker(): () => void {
  return shared.hold();
}

/** Ends the parse worker now (jobs still queued fail); the next large parse starts another. */
export function closeParseWorker(): Promise<void> {
  return shared.close();
}

export function parseWorkerState(): ParseWorkerState {
  const thread = shared.thread;
  return {
    running: thread !== undefined, threadId: thread?.threadId, started: shared.counts.started,
    parsedInline: shared.counts.inline, parsedOffThread: shared.counts.offThread, overran: shared.counts.overran,
  };
}

/** Sets how long a job may take in the worker (tests make it short); returns a function that restores it. */
export function setParseDeadline(deadline: ParseDeadline): () => void {
  const before = shared.deadline;
  shared.deadline = deadline;
  return () => {
    shared.deadline = before;
  };
}
