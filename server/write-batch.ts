// Group commit. Every device message the server records is written before it is answered (a 200 for a
// status message promises it is stored), but one transaction per request would make the commit — WAL
// frames written for every row and index touched — the largest cost of a poll. Requests that arrive in
// the same turn of the event loop therefore share one transaction: each one's writes run in a savepoint
// of their own (one failing write does not undo the others), the batch commits once, and only then is each
// request answered. Nothing is answered before it is committed, so the crash guarantees are those of one
// transaction per request.
import type { Db } from './db.js';

interface Pending {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class WriteBatch {
  private pending: Pending[] = [];

  constructor(private readonly db: Db) {}

  /** Runs `work` in the next group transaction; resolves with its result once that transaction committed. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // after the I/O callbacks of this turn: every request that arrived with this one joins the batch
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(item.work)() }); // nested: a savepoint
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      // the commit itself failed (disk full, the file locked for longer than the busy timeout): nothing of
      // the batch is stored, and every request of it is told so
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const o = outcomes[i]!;
      if (o.ok) item.resolve(o.value);
      else item.reject(o.error);
    });
  }
}
