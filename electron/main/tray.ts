// The tray icon: the station keeps working with its window closed, so the tray is where a technician
// sees at a glance whether it is online, how many devices are docked and how many transfers run, and
// where the app is shown again or quit.
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import type { Snapshot } from '../../shared/contract/station-api.js';
import { summarize, type StationSummary } from './station-view.js';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The status lines, e.g. ["Online", "2 devices docked", "1 active transfer"]. */
export function statusLines(s: StationSummary): string[] {
  const lines = [s.online ? (s.demo ? 'Online (demo server)' : 'Online') : 'Offline — work is queued',
    `${plural(s.docked, 'device', 'devices')} docked`,
    plural(s.activeTransfers, 'active transfer', 'active transfers')];
  if (s.failedTasks > 0) lines.push(plural(s.failedTasks, 'failed task', 'failed tasks'));
  return lines;
}

export function trayTooltip(view: Snapshot): string {
  return `Dockhand — ${statusLines(summarize(view)).join(' · ')}`;
}

export interface TrayActions { show(): void; quit(): void }

export interface StationTray {
  update(view: Snapshot): void;
  destroy(): void;
}

export function createStationTray(
  e: { Tray: typeof Tray; Menu: Pick<typeof Menu, 'buildFromTemplate'>; nativeImage: { createFromPath(path: string): NativeImage } },
  iconPath: string,
  actions: TrayActions,
): StationTray {
  const tray = new e.Tray(e.nativeImage.createFromPath(iconPath));
  let shown = '';
  const update = (view: Snapshot) => {
    const tooltip = trayTooltip(view);
    if (tooltip === shown) return; // progress events arrive several times a second; the text rarely changes
    shown = tooltip;
    tray.setToolTip(tooltip);
    const template: MenuItemConstructorOptions[] = [
      ...statusLines(summarize(view)).map((label) => ({ label, enabled: false })),
      { type: 'separator' },
      { label: 'Show Dockhand', click: () => actions.show() },
      { label: 'Quit Dockhand', click: () => actions.quit() },
    ];
    tray.setContextMenu(e.Menu.buildFromTemplate(template));
  };
  tray.on('click', () => actions.show());
  return { update, destroy: () => tray.destroy() };
}
