// Download Event Status (spec §10): record every StatusMessage, answer an empty 200. Unknown message
// codes and packages are recorded too: the log is evidence, not a judgement. A message delivered a second
// time (at-least-once delivery after a client crash) is answered 200 like the first and logged as a
// duplicate, not stored again: the client must stop resending it, and the log must not count it twice.
import type { ServerResponse } from 'node:http';
import type { Status } from '../../shared/protocol/types.js';
import type { ServerContext } from '../context.js';
import { appendReceived, type StatusEntry } from '../received-log.js';
import { sendEmpty } from '../http-io.js';
import { printable } from '../input-error.js';

export async function handleStatus(ctx: ServerContext, res: ServerResponse, deviceId: string, status: Status): Promise<void> {
  const entries: StatusEntry[] = status.StatusMessages.map((m) => ({
    kind: 'status' as const,
    packageID: m.packageID,
    messageID: m.messageID,
    timestamp: m.timestamp,
    parameters: m.Parameters,
  }));
  const stored = await ctx.writes.run(() => appendReceived(ctx.db, deviceId, ctx.now().toISOString(), entries));
  entries.forEach((e, i) => {
    if (!stored[i]) {
      ctx.log(`duplicate status message from ${printable(deviceId)}: ${e.messageID} for ${printable(e.packageID)} at ` +
        `'${printable(e.timestamp)}' was recorded before; answered 200, not stored again`);
    }
  });
  sendEmpty(res);
}
