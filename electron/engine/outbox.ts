// The ordered outbox: status messages and reports wait here while the server cannot be reached and are
// delivered strictly in the order they were made (the seed: tasks are queued until the network is back).
// A message the server keeps refusing (non-2xx, FailureRetryCount times) is set aside as `rejected` —
// kept in the database and logged — so one bad message cannot block every later one.
import { DockhandError, describeError } from '../../shared/model/errors.js';
import type { ClientSession } from './session.js';
import { describeDelay } from './schedule.js';

export async function flushOutbox(session: ClientSession): Promise<boolean> {
  const { store } = session;
  let sent = false;
  for (let item = store.nextOutbox(); item; item = store.nextOutbox()) {
    try {
      await session.post(item.action, item.body, {
        ...(item.reportType ? { reportType: item.reportType } : {}),
        ...(item.fileName ? { fullyQualifiedFilename: item.fileName } : {}),
        contentType: item.contentType,
      });
      store.markOutbox(item.seq, 'sent', '', session.now());
      session.log('info', `sent ${item.summary}`);
      sent = true;
    } catch (err) {
      if (err instanceof DockhandError && (err.code === 'NETWORK' || err.code === 'CANCELLED')) return sent;
      const s = session.settings();
      const message = describeError(err);
      if (item.attempts + 1 > s.retryCount) {
        store.markOutbox(item.seq, 'rejected', message, session.now());
        session.log('error', `the server refused ${item.summary} ${item.attempts + 1} times; set aside: ${message}`);
        continue;
      }
      store.noteOutboxFailure(item.seq, message);
      store.set('outbox_retry_at', String(session.now() + s.retryIntervalMs));
      session.log('warn', `the server refused ${item.summary}: ${message}; retrying in ${describeDelay(s.retryIntervalMs)}`);
      return sent;
    }
  }
  return sent;
}
