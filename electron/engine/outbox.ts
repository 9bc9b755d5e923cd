// The ordered outbox: status messages and reports wait here while the server cannot be reached and are
// delivered strictly in the order they were made (the seed: tasks are queued until the network is back).
// One flusher per session delivers them: asking for a flush while one runs asks for one more pass after
// it, never a second flusher, so two messages can never overtake each other. A message the server keeps
// refusing (non-2xx, more than FailureRetryCount times) is set aside as `rejected` — kept in the database
// and logged — so one bad message cannot block every later one.
import { DockhandError, describeError } from '../../shared/model/errors.js';
import { describeDelay } from '../../shared/model/wait.js';
import type { ClientSession } from './session.js';
import { noteAnswerText } from './reception.js';

export class Outbox {
  private running: Promise<boolean> | null = null;
  private again: Promise<boolean> | null = null;

  constructor(private readonly session: ClientSession) {}

  /** A flush is under way (or asked for after the one under way). */
  get busy(): boolean {
    return this.running !== null;
  }

  /** When the next delivery attempt may happen (0: now); null when nothing waits. */
  nextAttempt(): number | null {
    const { store } = this.session;
    if (!store.nextOutbox() || this.session.outboxWaitsForPoll()) return null;
    return Math.max(this.session.offlineUntil, Number(store.get('outbox_retry_at') ?? 0));
  }

  /** Something waits and may be tried now. */
  due(): boolean {
    const at = this.nextAttempt();
    return at !== null && at <= this.session.now();
  }

  /** Neither an outage nor a refusal says to wait. */
  private mayTry(): boolean {
    const now = this.session.now();
    return !this.session.outboxWaitsForPoll() && this.session.offlineUntil <= now && Number(this.session.store.get('outbox_retry_at') ?? 0) <= now;
  }

  /**
   * Delivers what waits, in order. Resolves once a pass that began after this call has ended (so a caller
   * that just queued a message knows it was tried); true when that pass delivered anything.
   */
  flush(): Promise<boolean> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
        this.session.changed();
      });
      return this.running;
    }
    this.again ??= this.running.then(() => {
      this.again = null;
      return this.flush();
    });
    return this.again;
  }

  private async pass(): Promise<boolean> {
    const { session } = this;
    const { store } = session;
    let sent = false;
    for (let item = store.nextOutbox(); item && this.mayTry(); item = store.nextOutbox()) {
      try {
        const res = await session.post(item.action, item.body, {
          ...(item.reportType ? { reportType: item.reportType } : {}),
          ...(item.fileName ? { fullyQualifiedFilename: item.fileName } : {}),
          contentType: item.contentType,
        });
        store.markOutbox(item.seq, 'sent', '', session.now());
        session.log('info', `sent ${item.summary}`);
        // Any 2xx delivers, whatever its Content-Type or text; words in it are passed on to the technician.
        noteAnswerText(session, item, res.body);
        sent = true;
      } catch (err) {
        if (err instanceof DockhandError && (err.code === 'NETWORK' || err.code === 'CANCELLED')) break;
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
        break;
      }
    }
    return sent;
  }
}
