// Reads one frame from the web console's WebSocket and checks it against the contract's schemas, so the
// UI only ever sees data of the declared shape. The contract declares the frame union as a type
// (`WsMessage`); its parts (snapshot, change, command result) have schemas, which are used here piece by
// piece, keyed on `op`.
import {
  ChangeSchema, CommandResultSchema, SnapshotSchema, type WsMessage,
} from '../../../shared/contract/station-api.js';

export type ParsedFrame = { ok: true; message: WsMessage } | { ok: false; problem: string };

function requestId(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

function firstIssue(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  if (!issue) return 'unknown problem';
  return `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
}

export function parseFrame(text: string): ParsedFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'the station sent a frame that is not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, problem: 'the station sent a frame that is not an object' };
  const frame = raw as Record<string, unknown>;
  const id = requestId(frame.id);
  switch (frame.op) {
    case 'snapshot': {
      const r = SnapshotSchema.safeParse(frame.snapshot);
      if (!r.success || id === null) return { ok: false, problem: `the station's snapshot does not match the contract (${r.success ? 'id' : firstIssue(r.error)})` };
      return { ok: true, message: { op: 'snapshot', id, snapshot: r.data } };
    }
    case 'result': {
      const r = CommandResultSchema.safeParse(frame.result);
      if (!r.success || id === null) return { ok: false, problem: `the station's command result does not match the contract (${r.success ? 'id' : firstIssue(r.error)})` };
      return { ok: true, message: { op: 'result', id, result: r.data } };
    }
    case 'change': {
      const r = ChangeSchema.safeParse(frame.change);
      if (!r.success) return { ok: false, problem: `the station sent a change that does not match the contract (${firstIssue(r.error)})` };
      return { ok: true, message: { op: 'change', change: r.data } };
    }
    case 'error':
      if (typeof frame.message !== 'string') return { ok: false, problem: 'the station sent an error without a message' };
      return { ok: true, message: { op: 'error', id, message: frame.message } };
    default:
      return { ok: false, problem: `the station sent a frame of unknown kind '${String(frame.op)}'` };
  }
}
