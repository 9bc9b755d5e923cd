// The machine inventory report (spec §12) of the local target. Item and property names are exactly those of
// §12.3 (a server may match on them); the values come from the host:
// - Device_System: PlatformType `Dockhand station (<os type>)`; OEMInfo the DMI vendor and product when Linux
//   exposes them, else the OS type and machine; processor numbers as in host-processor.ts.
// - Device_OS: Platform is a number, as a real client writes it (a CE 4.21 device sends 3). The codes are
//   those of .NET's System.PlatformID, whose first four are the Win32 VER_PLATFORM_* values a CE client takes
//   them from: 2 Windows (NT), 3 Windows CE, 4 Unix (Linux and the BSDs), 6 macOS, 7 anything else. A Linux
//   device running the agent reports 4: claiming 3 would invite CE packages a Linux device cannot run.
//   Versions are the numbers of os.release().
// - Device_Network: one item per active non-internal IPv4 adapter; Bandwidth in bits/s from the Linux link
//   speed, 0 when the host does not say.
// - Device_Power: Linux /sys/class/power_supply. AC 0/1; Battery is the CE battery flag (1 high > 66 %,
//   2 low < 33 %, 4 critical < 5 %, 8 charging, 128 no battery); percentages 0–100. 255 means unknown, as on
//   CE: everything is 255 where the host has no power_supply class, and the backup battery always is.
//   A station that lists no battery and no mains supply is taken to run on mains (AC 1).
// - Device_Display: a headless engine cannot see a screen; the Electron shell may pass `display`, otherwise
//   every value is 0 (unknown).
// - Device_Memory (KB): Total and Program are the host RAM, ProgramFree its available part; Storage and
//   StorageFree are the volume holding the station's folder (what a package can fill).
// - Device_FileSystem (KB): one item per volume, the first named `root` as a CE client names its object store
//   (a real device then lists `Storage Card`, `ResidentFlash`): the volume of the station's folder, which
//   plays the device's root.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Inventory, InventoryItem } from '../../../shared/protocol/types.js';
import { DockhandError, describeError } from '../../../shared/model/errors.js';
import { activeIPv4Adapters, linkSpeedBitsPerSecond } from './host-network.js';
import { instructionSet, processorArchitecture, processorLevelAndRevision, processorType } from './host-processor.js';

export interface MachineInventoryOptions {
  /** The station's folder. */
  root: string;
  /** The primary screen, when the caller knows it (Electron's screen module). */
  display?: { horizontalResolution: number; verticalResolution: number; colorDepthBits: number };
  /** Where sysfs is mounted; tests point it at a prepared folder. */
  sysRoot?: string;
  /** Where the CPU description is; tests point it at a prepared file. */
  cpuinfoPath?: string;
}

const UNKNOWN = 255;

/** Device_OS/Platform codes (System.PlatformID; 0–3 are Win32's VER_PLATFORM_* values). */
export const PLATFORM_CODES = { windows: 2, windowsCE: 3, unix: 4, macOS: 6, other: 7 } as const;

/** The Device_OS/Platform code of a Node `process.platform`. */
export function platformCode(platform: NodeJS.Platform = process.platform): number {
  switch (platform) {
    case 'win32': return PLATFORM_CODES.windows;
    case 'darwin': return PLATFORM_CODES.macOS;
    case 'linux': case 'freebsd': case 'openbsd': case 'netbsd': case 'sunos': case 'aix': case 'android':
      return PLATFORM_CODES.unix;
    default: return PLATFORM_CODES.other;
  }
}

function item(name: string, properties: Record<string, string | number>): InventoryItem {
  return { name, Properties: Object.entries(properties).map(([n, v]) => ({ name: n, value: String(v) })) };
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function oemInfo(sysRoot: string): string {
  const dmi = ['sys_vendor', 'product_name'].map((f) => readText(path.join(sysRoot, 'class', 'dmi', 'id', f))).filter((v) => v);
  return dmi.length > 0 ? dmi.join(' ') : `${os.type()} ${os.machine()}`;
}

function versionNumbers(): [number, number, number] {
  const parts = os.release().split(/[.-]/).map((p) => Number.parseInt(p, 10));
  const at = (i: number): number => (Number.isFinite(parts[i]) ? (parts[i] as number) : 0);
  return [at(0), at(1), at(2)];
}

export function powerStatus(sysRoot: string): { AC: number; Battery: number; BatteryPercent: number } {
  const dir = path.join(sysRoot, 'class', 'power_supply');
  let supplies: string[];
  try {
    supplies = fs.readdirSync(dir);
  } catch {
    return { AC: UNKNOWN, Battery: UNKNOWN, BatteryPercent: UNKNOWN };
  }
  const read = (s: string, f: string): string | undefined => readText(path.join(dir, s, f));
  const mains = supplies.filter((s) => ['Mains', 'USB'].includes(read(s, 'type') ?? ''));
  const batteries = supplies.filter((s) => read(s, 'type') === 'Battery' && read(s, 'present') !== '0');
  const battery = batteries[0];
  const status = battery === undefined ? undefined : read(battery, 'status');

  let AC: number;
  if (mains.length > 0) AC = mains.some((s) => read(s, 'online') === '1') ? 1 : 0;
  else if (battery === undefined) AC = 1;
  else AC = status === 'Discharging' ? 0 : status === 'Charging' || status === 'Full' ? 1 : UNKNOWN;

  if (battery === undefined) return { AC, Battery: 128, BatteryPercent: UNKNOWN };
  const capacity = Number.parseInt(read(battery, 'capacity') ?? '', 10);
  if (!Number.isFinite(capacity)) return { AC, Battery: UNKNOWN, BatteryPercent: UNKNOWN };
  const percent = Math.max(0, Math.min(100, capacity));
  let flag = percent > 66 ? 1 : percent < 5 ? 4 : percent < 33 ? 2 : 0;
  if (status === 'Charging') flag |= 8;
  return { AC, Battery: flag, BatteryPercent: percent };
}

/** statfs of the station folder, or of its nearest existing parent when the folder is not created yet. */
function volumeOf(root: string): fs.StatsFs {
  let probe = path.resolve(root);
  for (;;) {
    try {
      return fs.statfsSync(probe);
    } catch (err) {
      const parent = path.dirname(probe);
      if (parent === probe || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new DockhandError('STORAGE', `could not read the size of the disk holding the station's folder (${root}): ${describeError(err)}`, {
          cause: err,
        });
      }
      probe = parent;
    }
  }
}

/** The machine inventory of the station (type `machine`). */
export async function machineInventory(opts: MachineInventoryOptions): Promise<Inventory> {
  const sysRoot = opts.sysRoot ?? '/sys';
  const { level, revision } = processorLevelAndRevision(opts.cpuinfoPath);
  const [major, minor, build] = versionNumbers();
  const volume = volumeOf(opts.root);
  const kb = (blocks: number | bigint): number => Math.floor((Number(blocks) * Number(volume.bsize)) / 1024);
  const display = opts.display;

  const items: InventoryItem[] = [
    item('Device_System', {
      PlatformType: `Dockhand station (${os.type()})`,
      OEMInfo: oemInfo(sysRoot),
      NumberOfProcessors: Math.max(1, os.cpus().length),
      ProcessorArchitecture: processorArchitecture(),
      ProcessorType: processorType(),
      ProcessorLevel: level,
      ProcessorRevision: revision,
      ISA: instructionSet(),
    }),
    item('Device_OS', { Platform: platformCode(), MajorVersion: major, MinorVersion: minor, BuildNumber: build }),
    ...activeIPv4Adapters().map((a) =>
      item('Device_Network', { IPAddress: a.address, IPSubnet: a.netmask, MAC: a.mac, Bandwidth: linkSpeedBitsPerSecond(a.name, sysRoot) ?? 0 }),
    ),
    item('Device_Power', { ...powerStatus(sysRoot), Backup: UNKNOWN, BackupPercent: UNKNOWN }),
    item('Device_Display', {
      VerticalResolution: display?.verticalResolution ?? 0,
      HorizontalResolution: display?.horizontalResolution ?? 0,
      NumberOfColors: display ? 2 ** display.colorDepthBits : 0,
    }),
    item('Device_Memory', {
      Total: Math.floor(os.totalmem() / 1024),
      Program: Math.floor(os.totalmem() / 1024),
      ProgramFree: Math.floor(os.freemem() / 1024),
      Storage: kb(volume.blocks),
      StorageFree: kb(volume.bavail),
    }),
    item('Device_FileSystem', { Name: 'root', Size: kb(volume.blocks), UsedSpace: kb(Number(volume.blocks) - Number(volume.bfree)) }),
  ];
  return { type: 'machine', Items: items };
}
