// Desktop notifications when work on a target ends: a package's download event (download, install
// command) turning `done` or `failed`. The task's state is the signal — it is exact, where a device's
// lastResult is free text — and the device's lastResult, when there is one, is the body of a success.
// Only transitions seen on the change stream notify: what was already finished in the first snapshot is
// old news. A burst (a rack of devices finishing together) becomes one summary instead of a stack.
import type { Notification } from 'electron';
import type { Snapshot, Task } from '../../shared/contract/station-api.js';

export interface Note { title: string; body: string; failed: boolean }

/** Task kinds whose end a technician waits for; polls and inventories end all the time. */
const WATCHED: ReadonlySet<Task['kind']> = new Set(['download']);
const BURST = 3;

function noteFor(task: Task, view: Snapshot): Note {
  const device = view.devices.find((d) => d.id === task.target);
  const where = device?.name || task.targetName || task.target;
  const what = task.packageName ?? task.package;
  if (task.state === 'failed') {
    return { title: `${where}: ${what} failed`, body: task.lastError || 'The package could not be installed.', failed: true };
  }
  const body = device?.lastResult ? device.lastResult : `${what} is installed.`;
  return { title: `${where}: ${what} finished`, body, failed: false };
}

/** The notes owed for the tasks that ended between `before` and `after`. */
export function finishNotes(before: Snapshot, after: Snapshot): Note[] {
  if (before.tasks === after.tasks) return [];
  const was = new Map(before.tasks.map((t) => [t.id, t.state]));
  const ended = after.tasks.filter((t) =>
    WATCHED.has(t.kind) && (t.state === 'done' || t.state === 'failed') && was.get(t.id) !== t.state);
  if (ended.length <= BURST) return ended.map((t) => noteFor(t, after));
  const failed = ended.filter((t) => t.state === 'failed').length;
  const done = ended.length - failed;
  const parts = [done ? `${done} finished` : '', failed ? `${failed} failed` : ''].filter(Boolean);
  return [{ title: `Dockhand: ${parts.join(', ')}`, body: 'Open Dockhand to see each device.', failed: failed > 0 }];
}

export interface Notifier { notify(note: Note): void }

/** Shows notes through Electron's Notification (silently a no-op where the OS has none). */
export function createNotifier(
  e: { Notification: typeof Notification },
  opts: { icon?: string; onClick(): void },
): Notifier {
  return {
    notify(note) {
      if (!e.Notification.isSupported()) return;
      const n = new e.Notification({
        title: note.title, body: note.body, urgency: note.failed ? 'critical' : 'normal',
        ...(opts.icon ? { icon: opts.icon } : {}),
      });
      n.on('click', () => opts.onClick());
      n.show();
    },
  };
}
