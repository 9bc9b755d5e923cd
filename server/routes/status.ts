// Download Event Status (spec §10): record every StatusMessage, answer an empty 200. Unknown message
// codes and packages are recorded too: the log is evidence, not a judgement.
import type { ServerResponse } from 'node:http';
import type { Status } from '../../shared/protocol/types.js';
import type { ServerContext } from '../context.js';
import { appendReceived } from '../received-log.js';
import { sendEmpty } from '../http-io.js';

export function handleStatus(ctx: ServerContext, res: ServerResponse, deviceId: string, status: Status): void {
  appendReceived(ctx.db, deviceId, ctx.now().toISOString(), status.StatusMessages.map((m) => ({
    kind: 'status' as const,
    packageID: m.packageID,
    messageID: m.messageID,
    timestamp: m.timestamp,
    parameters: m.Parameters,
  })));
  sendEmpty(res);
}
