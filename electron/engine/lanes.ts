// A session's lanes of work (issue 7 item 5). A download event can take minutes (a slow server, a long
// push, a long command), and meanwhile the poll must go out at its interval and status messages must reach
// the server. So a session runs, side by side:
//   control lane   the poll, instruction requests, reports — one at a time, earliest due first
//   download lane  one download event at a time (a tethered device has one link), and over the whole
//                  station no more than the concurrency setting allows (SessionOptions.downloadSlot)
//   outbox         one flusher (outbox.ts), started as soon as a message is queued
// A lane finds its next task with one index search (ClientStore.dueTask); due tasks whose condition does
// not hold are held on the way, a slice at a time, and not read again until an event releases them.
import type { TaskLane } from '../store/client-store.js';
import type { TaskRecord } from '../../shared/model/client.js';
import { isHeld } from '../../shared/model/wait.js';
import type { ClientSession } from './session.js';
import { taskTransition, taskTransitionAll, type TaskEvent, type TransitionContext } from './transitions.js';
import { handleFailure } from './failures.js';
import { runPoll } from './poll.js';
import { runInstruction } from './instruction.js';
import { runDownloadEvent } from './download-event.js';
import { runReport } from './reports.js';

/** How many held or offline tasks a lane sets aside in one tick before it yields the event loop. */
const PICKS_PER_TICK = 50;
const LANES: readonly TaskLane[] = ['control', 'download'];

export class Lanes {
  private readonly running: Record<TaskLane, Promise<void> | null> = { control: null, download: null };
  /** The download event under way, by package: a pause or a cancel aborts it. */
  private readonly aborts = new Map<string, AbortController>();
  /** A lane stopped looking after PICKS_PER_TICK tasks: there may be more due at once. */
  private more = false;

  constructor(private readonly session: ClientSession) {}

  /** Starts what is due and may start now, without waiting for it; true when it started anything. */
  startDue(): boolean {
    const { session } = this;
    if (session.signal.aborted) return false;
    this.more = false;
    let started = false;
    if (!session.outbox.busy && session.outbox.due()) {
      session.kickOutbox();
      started = true;
    }
    for (const lane of LANES) {
      if (this.running[lane]) continue;
      const task = this.pick(lane);
      if (!task) continue;
      started = true;
      this.running[lane] = this.runLane(lane, task).catch((err: unknown) => session.internalError(err)).finally(() => {
        this.running[lane] = null;
        session.changed();
      });
    }
    return started;
  }

  /**
   * The lane's next task that may run now. Due tasks whose condition does not hold are held on the way
   * (their wait recorded, so they are not read again until an event releases them) — at most
   * PICKS_PER_TICK per call, written together, so a long list never holds the event loop.
   */
  private pick(lane: TaskLane): TaskRecord | null {
    const { session } = this;
    const now = session.now();
    const first = session.store.dueTask(lane, now);
    if (!first || this.mayRun(first)) return first;
    const moves: Array<{ task: TaskRecord; on: TaskEvent; ctx?: TransitionContext }> = [];
    const candidates = session.store.dueTasks(lane, now, PICKS_PER_TICK);
    let found: TaskRecord | null = null;
    for (const task of candidates) {
      const condition = session.conditionFor(task);
      if (condition.kind !== 'none') moves.push({ task, on: 'hold', ctx: { condition } });
      else if (session.isOffline() && session.needsNetwork(task)) {
        const detail = session.offlineDetail(task);
        moves.push({ task, on: 'offline', ...(detail ? { ctx: { detail } } : {}) });
      }
      else {
        found = task;
        break;
      }
    }
    if (moves.some((m) => m.on === 'offline')) session.waitsForServer = true;
    taskTransitionAll(session, moves);
    if (moves.length) session.emit({ type: 'changed', targetId: session.target.id });
    this.more = !found && candidates.length === PICKS_PER_TICK;
    return found;
  }

  private mayRun(task: TaskRecord): boolean {
    const { session } = this;
    return session.conditionFor(task).kind === 'none' && !(session.isOffline() && session.needsNetwork(task));
  }

  private async runLane(lane: TaskLane, picked: TaskRecord): Promise<void> {
    const { session } = this;
    let task = picked;
    let release = (): void => undefined;
    if (lane === 'download' && session.opts.downloadSlot) {
      release = await session.opts.downloadSlot();
      // Time passed while waiting for a place: the task may have been paused, removed or held meanwhile.
      const fresh = session.store.taskById(task.id);
      if (session.signal.aborted || !fresh || fresh.state !== 'queued' || isHeld(fresh.wait) || !this.mayRun(fresh)) {
        release();
        return;
      }
      task = fresh;
    }
    try {
      await this.run(task);
    } finally {
      release();
    }
  }

  private async run(picked: TaskRecord): Promise<void> {
    const { session } = this;
    const { store } = session;
    const download = picked.kind === 'download';
    const abort = new AbortController();
    const onStop = () => abort.abort();
    session.signal.addEventListener('abort', onStop, { once: true });
    if (download) {
      this.aborts.set(picked.packageId, abort);
      store.set('current_package', store.package(picked.packageId)?.name ?? picked.packageId);
    }
    const task = taskTransition(session, picked, 'start').task!;
    try {
      switch (task.kind) {
        case 'poll': await runPoll(session, task); break;
        case 'instruction': await runInstruction(session, task); break;
        case 'download': await runDownloadEvent(session, task); break;
        case 'software-inventory':
        case 'machine-inventory':
        case 'file-collection': await runReport(session, task); break;
      }
    } catch (err) {
      handleFailure(session, task, err);
    } finally {
      session.signal.removeEventListener('abort', onStop);
      if (download) {
        if (this.aborts.get(task.packageId) === abort) this.aborts.delete(task.packageId);
        store.set('current_package', '');
      }
      session.emit({ type: 'changed', targetId: session.target.id });
    }
  }

  /** Aborts the package's download event under way, if any. */
  abort(packageId: string): void {
    this.aborts.get(packageId)?.abort();
  }

  /** Aborts the package's download event under way and waits until it has stopped. */
  async stop(packageId: string): Promise<void> {
    if (!this.aborts.has(packageId)) return;
    this.abort(packageId);
    await this.running.download?.catch(() => undefined);
  }

  /** The signal of the package's download event under way; undefined when none runs. */
  signalFor(packageId: string): AbortSignal | undefined {
    return this.aborts.get(packageId)?.signal;
  }

  /** Work is under way in a lane or the outbox. */
  busy(): boolean {
    return this.running.control !== null || this.running.download !== null || this.session.outbox.busy;
  }

  /** Waits for the work under way to end (after `stop()`, before the database closes). */
  async idle(): Promise<void> {
    while (this.busy()) await this.session.whenChanged();
  }

  /** The next time something of a free lane (or the outbox) may become due; null when nothing waits. */
  nextWake(): number | null {
    const { session } = this;
    if (this.more) return session.now();
    const times: number[] = [];
    for (const lane of LANES) {
      const at = this.running[lane] ? null : session.store.nextDue(lane);
      if (at !== null) times.push(at);
    }
    const outbox = session.outbox.busy ? null : session.outbox.nextAttempt();
    if (outbox !== null) times.push(outbox);
    return times.length ? Math.min(...times) : null;
  }

  /** Runs the session's due work, lanes side by side, until nothing more is due now. */
  async runUntilIdle(maxSteps = 1_000_000): Promise<void> {
    for (let step = 0; step < maxSteps; step += 1) {
      const started = this.startDue();
      if (started || this.busy()) await this.session.whenChanged();
      else if (this.more) await new Promise<void>((resolve) => setImmediate(resolve));
      else return;
    }
    throw new Error(`target ${this.session.target.id} did ${maxSteps} steps without becoming idle; a task is probably looping`);
  }
}
