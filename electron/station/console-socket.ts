// One console WebSocket: requests in, answers and the change stream out. Nothing a page sends may take the
// station down — it carries every docked device's session — so every text frame gets exactly one answer
// (a result, a snapshot or an error naming the problem), protocol violations (bad UTF-8, oversize frames,
// bad opcodes) close this one connection, and no exception or rejection leaves the handler.
import type { RawData, WebSocket } from 'ws';
import { WsRequestSchema, type StationClient, type WsMessage } from '../../shared/contract/station-api.js';

export interface SocketLimits {
  /** Requests of one connection waiting for the station at once; more are answered "busy". */
  maxInFlight: number;
  /** Bytes queued for a client that does not read; past this the connection is dropped. */
  maxBufferedBytes: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = { maxInFlight: 8, maxBufferedBytes: 16 * 1024 * 1024 };

/** The id of a refused request, echoed so the caller's promise settles, when it is a usable one. */
function idOf(raw: unknown): number | null {
  if (typeof raw !== 'object' || raw === null || !Object.hasOwn(raw, 'id')) return null;
  const id = (raw as { id: unknown }).id;
  return Number.isSafeInteger(id) ? id as number : null;
}

/** A text frame's payload; ws has already checked that it is UTF-8. */
function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function serveSocket(ws: WebSocket, service: StationClient, limits: SocketLimits, log: (line: string) => void): void {
  const send = (m: WsMessage): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      // a client that stopped reading would otherwise hold the station's memory without bound
      log(`web console: dropped a client that is not reading (${ws.bufferedAmount} bytes waiting)`);
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(m));
  };
  let inFlight = 0;

  const handle = async (text: string): Promise<void> => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      send({ op: 'error', id: null, message: 'a message was not JSON' });
      return;
    }
    const parsed = WsRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      send({ op: 'error', id: idOf(raw), message: `a request was refused: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}` });
      return;
    }
    const req = parsed.data;
    if (inFlight >= limits.maxInFlight) {
      send({ op: 'error', id: req.id, message: `the station is still working on ${inFlight} requests from this console; send this one again after their answers` });
      return;
    }
    inFlight += 1;
    try {
      if (req.op === 'getSnapshot') send({ op: 'snapshot', id: req.id, snapshot: await service.getSnapshot() });
      else send({ op: 'result', id: req.id, result: await service.execute(req.command) });
    } catch (err) {
      send({ op: 'error', id: req.id, message: messageOf(err) });
    } finally {
      inFlight -= 1;
    }
  };

  const unsubscribe = service.subscribe((change) => send({ op: 'change', change }));
  ws.on('close', unsubscribe);
  // ws closes the connection itself (1007 bad UTF-8, 1009 too large, 1002 bad frame) and then emits this;
  // without a listener the emitter would throw and end the process
  ws.on('error', (err) => log(`web console: closed a connection: ${err.message}`));
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      send({ op: 'error', id: null, message: 'binary frames are not accepted: send each request as JSON text' });
      return;
    }
    handle(textOf(data)).catch((err: unknown) => {
      // a failure in the answer itself (the socket went away mid-send): this connection's problem only
      log(`web console: a request failed: ${messageOf(err)}`);
      try {
        send({ op: 'error', id: null, message: 'the station could not answer a request' });
      } catch {
        ws.terminate();
      }
    });
  });
}
