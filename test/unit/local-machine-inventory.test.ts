import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Inventory } from '../../shared/protocol/types.js';
import { machineInventory, platformCode, powerStatus } from '../../electron/engine/local/machine-inventory.js';
import { activeIPv4Adapters } from '../../electron/engine/local/host-network.js';
import { instructionSet, processorArchitecture, processorLevelAndRevision, processorType } from '../../electron/engine/local/host-processor.js';

// Spec §12.3, spelled exactly.
const SPEC: Record<string, string[]> = {
  Device_System: ['PlatformType', 'OEMInfo', 'NumberOfProcessors', 'ProcessorArchitecture', 'ProcessorType', 'ProcessorLevel', 'ProcessorRevision', 'ISA'],
  Device_OS: ['Platform', 'MajorVersion', 'MinorVersion', 'BuildNumber'],
  Device_Network: ['IPAddress', 'IPSubnet', 'MAC', 'Bandwidth'],
  Device_Power: ['AC', 'Battery', 'BatteryPercent', 'Backup', 'BackupPercent'],
  Device_Display: ['VerticalResolution', 'HorizontalResolution', 'NumberOfColors'],
  Device_Memory: ['Total', 'Program', 'ProgramFree', 'Storage', 'StorageFree'],
  Device_FileSystem: ['Name', 'Size', 'UsedSpace'],
};

const items = (inv: Inventory, name: string): Array<Record<string, string>> =>
  inv.Items.filter((i) => i.name === name).map((i) => Object.fromEntries(i.Properties.map((p) => [p.name, p.value])));
const one = (inv: Inventory, name: string): Record<string, string> => {
  const found = items(inv, name);
  assert.equal(found.length, 1, `exactly one ${name}`);
  return found[0] as Record<string, string>;
};
const isCount = (v: string | undefined): boolean => /^\d+$/.test(v ?? '');

let work: string;
let root: string;

function fakeSys(name: string, files: Record<string, string>): string {
  const sys = path.join(work, name);
  fs.mkdirSync(sys, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(sys, ...rel.split('/'));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return sys;
}

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dockhand-machinv-'));
  root = path.join(work, 'station');
  fs.mkdirSync(root);
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('machineInventory', () => {
  test('has type machine and every §12.3 item with exactly its property names', async () => {
    const inv = await machineInventory({ root });
    assert.equal(inv.type, 'machine');
    for (const [name, properties] of Object.entries(SPEC)) {
      const found = inv.Items.filter((i) => i.name === name);
      if (name === 'Device_Network') {
        assert.equal(found.length, activeIPv4Adapters().length, 'one Device_Network per active IPv4 adapter');
      } else {
        assert.ok(found.length >= 1, `${name} is present`);
      }
      for (const i of found) assert.deepEqual(i.Properties.map((p) => p.name), properties, name);
    }
    assert.deepEqual([...new Set(inv.Items.map((i) => i.name))].filter((n) => !(n in SPEC)), []);
  });

  test('takes its values from the host', async () => {
    const inv = await machineInventory({ root });
    const system = one(inv, 'Device_System');
    assert.equal(system.NumberOfProcessors, String(Math.max(1, os.cpus().length)));
    assert.equal(system.ProcessorType, String(processorType()));
    assert.equal(system.ProcessorArchitecture, String(processorArchitecture()));
    assert.equal(system.ISA, String(instructionSet()));
    assert.ok(system.OEMInfo);

    const osItem = one(inv, 'Device_OS');
    assert.equal(osItem.MajorVersion, String(Number.parseInt(os.release(), 10)));
    // Changed by issue 7: a numeric code as a real device writes it (System.PlatformID: 4 = Unix on Linux).
    assert.equal(osItem.Platform, process.platform === 'win32' ? '2' : process.platform === 'linux' ? '4' : osItem.Platform);

    const memory = one(inv, 'Device_Memory');
    assert.equal(memory.Total, String(Math.floor(os.totalmem() / 1024)));
    assert.ok(Number(memory.ProgramFree) <= Number(memory.Program));
    const volume = fs.statfsSync(root);
    assert.equal(memory.Storage, String(Math.floor((volume.blocks * volume.bsize) / 1024)));
    assert.ok(Number(memory.StorageFree) <= Number(memory.Storage));

    // The first file-system item is the device root, named `root` as a real CE device names it (issue 7).
    assert.equal(inv.Items.find((i) => i.name === 'Device_FileSystem')?.Properties[0]?.name, 'Name');
    const fsItem = one(inv, 'Device_FileSystem');
    assert.equal(fsItem.Name, 'root');
    assert.equal(fsItem.Size, memory.Storage);
    assert.ok(isCount(fsItem.UsedSpace) && Number(fsItem.UsedSpace) <= Number(fsItem.Size));

    const adapters = activeIPv4Adapters();
    items(inv, 'Device_Network').forEach((n, i) => {
      assert.equal(n.IPAddress, adapters[i]?.address);
      assert.equal(n.IPSubnet, adapters[i]?.netmask);
      assert.match(n.MAC ?? '', /^([0-9A-F]{2}-){5}[0-9A-F]{2}$/);
      assert.ok(isCount(n.Bandwidth));
    });
  });

  test('an unknown display is all zeros; a known one is reported', async () => {
    assert.deepEqual(one(await machineInventory({ root }), 'Device_Display'), { VerticalResolution: '0', HorizontalResolution: '0', NumberOfColors: '0' });
    const inv = await machineInventory({ root, display: { horizontalResolution: 1920, verticalResolution: 1080, colorDepthBits: 16 } });
    assert.deepEqual(one(inv, 'Device_Display'), { VerticalResolution: '1080', HorizontalResolution: '1920', NumberOfColors: '65536' });
  });

  test('reads link speed and DMI from sysfs', async (t) => {
    const adapter = activeIPv4Adapters()[0];
    const sys = fakeSys('sys-net', {
      'class/dmi/id/sys_vendor': 'Contoso\n',
      'class/dmi/id/product_name': 'Dock 3000\n',
      ...(adapter ? { [`class/net/${adapter.name}/speed`]: '100\n' } : {}),
    });
    const inv = await machineInventory({ root, sysRoot: sys });
    assert.equal(one(inv, 'Device_System').OEMInfo, 'Contoso Dock 3000');
    if (!adapter) {
      t.diagnostic('this host has no active IPv4 adapter; link speed not checked');
      return;
    }
    assert.equal(items(inv, 'Device_Network')[0]?.Bandwidth, '100000000');
    const unknown = await machineInventory({ root, sysRoot: fakeSys('sys-down', { [`class/net/${adapter.name}/speed`]: '-1' }) });
    assert.equal(items(unknown, 'Device_Network')[0]?.Bandwidth, '0');
  });

  test('a station folder not created yet is measured on its parent volume', async () => {
    const inv = await machineInventory({ root: path.join(root, 'not', 'yet') });
    assert.equal(one(inv, 'Device_FileSystem').Size, one(await machineInventory({ root }), 'Device_FileSystem').Size);
  });
});

describe('powerStatus', () => {
  test('a charging laptop battery at 20 % on mains', () => {
    const sys = fakeSys('sys-laptop', {
      'class/power_supply/AC/type': 'Mains\n',
      'class/power_supply/AC/online': '1\n',
      'class/power_supply/BAT0/type': 'Battery\n',
      'class/power_supply/BAT0/present': '1\n',
      'class/power_supply/BAT0/capacity': '20\n',
      'class/power_supply/BAT0/status': 'Charging\n',
    });
    assert.deepEqual(powerStatus(sys), { AC: 1, Battery: 2 | 8, BatteryPercent: 20 });
  });

  test('a discharging battery, high and critical levels', () => {
    const high = fakeSys('sys-high', { 'class/power_supply/BAT1/type': 'Battery', 'class/power_supply/BAT1/capacity': '90', 'class/power_supply/BAT1/status': 'Discharging' });
    assert.deepEqual(powerStatus(high), { AC: 0, Battery: 1, BatteryPercent: 90 });
    const critical = fakeSys('sys-crit', { 'class/power_supply/BAT1/type': 'Battery', 'class/power_supply/BAT1/capacity': '3', 'class/power_supply/BAT1/status': 'Discharging' });
    assert.deepEqual(powerStatus(critical), { AC: 0, Battery: 4, BatteryPercent: 3 });
  });

  test('no battery means mains power; no power_supply class means unknown (255)', () => {
    const desktop = fakeSys('sys-desktop', {});
    fs.mkdirSync(path.join(desktop, 'class', 'power_supply'), { recursive: true });
    assert.deepEqual(powerStatus(desktop), { AC: 1, Battery: 128, BatteryPercent: 255 });
    assert.deepEqual(powerStatus(path.join(work, 'no-sysfs')), { AC: 255, Battery: 255, BatteryPercent: 255 });
  });
});

describe('host processor numbers', () => {
  test('dwProcessorType, architecture and instruction set per Node arch', () => {
    assert.deepEqual(['x64', 'ia32', 'arm', 'arm64', 'riscv64'].map((a) => processorType(a)), [8664, 586, 2577, 2577, 0]);
    assert.deepEqual(['x64', 'ia32', 'arm', 'arm64', 'riscv64'].map((a) => processorArchitecture(a)), [9, 0, 5, 12, 65535]);
    assert.deepEqual(['x64', 'arm64', 'riscv64'].map((a) => instructionSet(a)), [0x00010001, 0x05020001, 0]);
  });

  test('level and revision from a cpuinfo file', () => {
    const file = path.join(work, 'cpuinfo');
    fs.writeFileSync(file, 'processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\nmodel name\t: Xeon\nstepping\t: 7\n');
    assert.deepEqual(processorLevelAndRevision(file), { level: 6, revision: (85 << 8) | 7 });
    assert.deepEqual(processorLevelAndRevision(path.join(work, 'missing')), { level: 0, revision: 0 });
  });
});

test('Device_OS/Platform is a numeric code: 2 Windows, 3 is left to Windows CE, 4 Unix, 6 macOS, 7 other', () => {
  assert.equal(platformCode('win32'), 2);
  assert.equal(platformCode('linux'), 4);
  assert.equal(platformCode('freebsd'), 4);
  assert.equal(platformCode('darwin'), 6);
  assert.equal(platformCode('haiku'), 7);
  for (const p of ['win32', 'linux', 'darwin', 'freebsd', 'openbsd', 'sunos', 'aix', 'android', 'haiku', 'cygwin', 'netbsd'] as NodeJS.Platform[]) {
    assert.notEqual(platformCode(p), 3, `${p} must not claim Windows CE`);
  }
});
