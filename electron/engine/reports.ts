// Reports to the server (spec §11–§13, seed step 5): software inventory, machine inventory and file
// collection, each a scheduled task at the interval the poll response asks for. A report is built and put
// in the outbox (so it waits while offline and goes out in order), and the outbox's flusher is started.
//
// Decisions (spec §5.2 [UNSPEC]): an absent report block keeps the previous setting; a block without
// `Enabled` is enabled; without `Interval` the report is sent once after this poll.
import type { TaskRecord } from '../../shared/model/client.js';
import type { PollResponseSettings, ReportSettings } from '../../shared/protocol/types.js';
import { buildFileReportAsync, buildInventoryAsync } from '../../shared/protocol/index.js';
import type { ClientSession } from './session.js';
import { REPORT_KINDS, reportSettings, saveReportSettings, type ReportKind } from './client-settings.js';
import { taskTransition } from './transitions.js';
import { logOnce } from './reception.js';

/** Largest file the station uploads in one file-collection POST (spec §13 sets no limit; decision). */
export const MAX_COLLECTED_FILE_BYTES = 64 * 1024 * 1024;

const blockOf = (s: PollResponseSettings, kind: ReportKind): ReportSettings | undefined =>
  kind === 'software-inventory' ? s.SoftwareInventorySettings
    : kind === 'machine-inventory' ? s.MachineInventorySettings
      : s.FileCollectionSettings;

export function applyReportSettings(session: ClientSession, settings: PollResponseSettings): void {
  const { store } = session;
  const now = session.now();
  for (const kind of REPORT_KINDS) {
    const block = blockOf(settings, kind);
    if (!block) continue;
    const before = reportSettings(store, kind);
    saveReportSettings(store, kind, block);
    const task = store.task(kind);
    if (!block.Enabled) {
      if (task) {
        store.deleteTask(kind);
        session.log('info', `server turned ${kind} reports off`);
      }
      continue;
    }
    // Send after this poll when newly enabled, when the interval changed, or for a one-shot block.
    const changed = !before || !before.Enabled || before.Interval !== block.Interval ||
      JSON.stringify(before.FileFilterItems) !== JSON.stringify(block.FileFilterItems);
    if (!task || task.state !== 'queued' || changed || block.Interval === undefined) {
      store.scheduleTask(kind, '', now, now);
    }
  }
}

export async function runReport(session: ClientSession, task: TaskRecord): Promise<void> {
  const { store, target } = session;
  const kind = task.kind as ReportKind;
  const settings = reportSettings(store, kind) ?? { Enabled: true, FileFilterItems: [] };
  const now = session.now();
  const xml = { action: 'Report' as const, contentType: 'text/xml; charset=utf-8', fileName: null };
  switch (kind) {
    case 'software-inventory': {
      const report = await target.softwareInventory(settings.FileFilterItems);
      for (const warning of report.warnings ?? []) logOnce(session, 'warn', `software inventory: ${warning}`);
      store.enqueue({ ...xml, reportType: 'SoftwareInventory', body: Buffer.from(await buildFileReportAsync({ Directories: report.Directories }), 'utf8'), summary: 'software inventory report' }, now);
      break;
    }
    case 'machine-inventory': {
      const inventory = await target.machineInventory();
      store.enqueue({ ...xml, reportType: 'MachineInventory', body: Buffer.from(await buildInventoryAsync(inventory), 'utf8'), summary: 'machine inventory report' }, now);
      break;
    }
    case 'file-collection': {
      const files = await target.collectFiles(settings.FileFilterItems);
      for (const f of files) {
        if (f.size > MAX_COLLECTED_FILE_BYTES) {
          session.log('warn', `not collecting ${f.devicePath}: ${f.size} bytes is over the ${MAX_COLLECTED_FILE_BYTES}-byte limit`);
          continue;
        }
        store.enqueue({
          action: 'Report', reportType: 'FileCollection', fileName: f.devicePath, contentType: 'application/octet-stream',
          body: await f.read(), summary: `collected file ${f.devicePath}`,
        }, now);
      }
      break;
    }
  }
  // Every Interval, or once when the block gave none (the table's 'report' and 'one-shot report' rows).
  taskTransition(session, task, 'succeed');
  session.kickOutbox();
}
