import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  classifyBandwidth,
  detectBandwidthClass,
  hostIdentification,
  hostIPAddresses,
  lcidForLocale,
} from '../../electron/engine/local/host-identity.js';
import { activeIPv4Adapters, formatMac, linkSpeedBitsPerSecond, networkId } from '../../electron/engine/local/host-network.js';
import { processorType } from '../../electron/engine/local/host-processor.js';

let work: string;
before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dockhand-ident-'));
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

describe('hostIdentification', () => {
  test('describes the station in poll-request terms', () => {
    const id = hostIdentification('5A9C-STATION');
    assert.equal(id.ID, '5A9C-STATION');
    assert.equal(id.DeviceName, os.hostname());
    assert.match(id.Platform, new RegExp(`^${os.platform()} \\d+\\.\\d+ ${os.arch()}$`));
    assert.equal(id.Processor, String(processorType()));
    assert.equal(id.CodePage, 65001);
    assert.equal(id.SystemDefaultLCID, lcidForLocale(Intl.DateTimeFormat().resolvedOptions().locale));
    assert.equal(id.UserName, undefined);
    const adapter = activeIPv4Adapters()[0];
    if (adapter === undefined) {
      assert.equal(id.NetworkAdapter, undefined);
      return;
    }
    assert.deepEqual(id.NetworkAdapter, { IPAddress: adapter.address, IPSubnet: adapter.netmask, MAC: adapter.mac });
    assert.match(id.NetworkAdapter?.IPSubnet ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(id.NetworkAdapter?.MAC ?? '', /^([0-9A-F]{2}-){5}[0-9A-F]{2}$/);
  });

  test("the LCID follows the host's locale (LANG), as the calendar's locale would", () => {
    const program = "import { hostIdentification } from './electron/engine/local/host-identity.ts'; " +
      "console.log(JSON.stringify([hostIdentification('x').SystemDefaultLCID, Intl.DateTimeFormat().resolvedOptions().locale]))";
    for (const [lang, lcid] of [['de_AT.UTF-8', 3079], ['zh_TW.UTF-8', 1028], ['pt_BR.UTF-8', 1046], ['C', 1033]] as const) {
      const env = { ...process.env, LANG: lang, LC_ALL: lang };
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { env, encoding: 'utf8' });
      const [got, calendarLocale] = JSON.parse(out) as [number, string];
      assert.equal(got, lcid, `LANG=${lang}`);
      assert.equal(got, lcidForLocale(calendarLocale), `LANG=${lang}: the same LCID as DateTimeFormat's locale gives`);
    }
  });

  test('never reports the loopback adapter', () => {
    const id = hostIdentification('x');
    assert.ok(!id.NetworkAdapter?.IPAddress?.startsWith('127.'));
    assert.ok(hostIPAddresses().every((a) => !a.address.startsWith('127.')));
  });
});

describe('lcidForLocale', () => {
  test('maps common locales, falls back by language, then to 1033', () => {
    const cases: Array<[string, number]> = [
      ['en-US', 1033], ['en-GB', 2057], ['de-DE', 1031], ['de-AT', 3079], ['de', 1031], ['fr-CA', 3084], ['ru-RU', 1049],
      ['ja-JP', 1041], ['pt', 1046], ['pt-PT', 2070], ['zh-CN', 2052], ['zh-Hant-TW', 1028], ['zh-Hant', 1028],
      ['es-ES', 3082], ['en-XX', 1033], ['de-LU', 1031], ['xx', 1033], ['not a locale!', 1033],
    ];
    for (const [tag, lcid] of cases) assert.equal(lcidForLocale(tag), lcid, tag);
  });
});

describe('network facts', () => {
  test('location-request addresses carry the network ID as subnet (spec A13)', () => {
    const adapters = activeIPv4Adapters();
    assert.deepEqual(hostIPAddresses(), adapters.map((a) => ({ address: a.address, subnet: networkId(a.address, a.netmask) })));
    assert.equal(networkId('192.168.0.10', '255.255.255.0'), '192.168.0.0');
    assert.equal(networkId('10.1.2.3', '255.255.240.0'), '10.1.0.0');
    assert.equal(networkId('172.16.5.4', '255.255.255.255'), '172.16.5.4');
  });

  test('MAC addresses in the CE form', () => {
    assert.equal(formatMac('02:fc:00:00:00:01'), '02-FC-00-00-00-01');
    assert.equal(formatMac('0:8:22:5:26:cb'), '00-08-22-05-26-CB');
  });
});

describe('bandwidth class', () => {
  test('below or exactly 128 Kbps is low, above is high, unknown is high', () => {
    assert.equal(classifyBandwidth(56_000), 'low');
    assert.equal(classifyBandwidth(128_000), 'low');
    assert.equal(classifyBandwidth(128_001), 'high');
    assert.equal(classifyBandwidth(1_000_000_000), 'high');
    assert.equal(classifyBandwidth(undefined), 'high');
    assert.equal(classifyBandwidth(0), 'high');
    assert.equal(classifyBandwidth(Number.NaN), 'high');
  });

  test('link speed comes from /sys/class/net/<if>/speed in Mb/s', () => {
    const sys = path.join(work, 'sys');
    fs.mkdirSync(path.join(sys, 'class', 'net', 'eth9'), { recursive: true });
    fs.mkdirSync(path.join(sys, 'class', 'net', 'wlan9'), { recursive: true });
    fs.writeFileSync(path.join(sys, 'class', 'net', 'eth9', 'speed'), '1000\n');
    fs.writeFileSync(path.join(sys, 'class', 'net', 'wlan9', 'speed'), '-1\n');
    assert.equal(linkSpeedBitsPerSecond('eth9', sys), 1_000_000_000);
    assert.equal(linkSpeedBitsPerSecond('wlan9', sys), undefined);
    assert.equal(linkSpeedBitsPerSecond('missing0', sys), undefined);
    assert.equal(linkSpeedBitsPerSecond('../../etc', sys), undefined);
  });

  test('the automatic class follows the first active adapter', () => {
    const adapter = activeIPv4Adapters()[0];
    const sys = path.join(work, 'sys-auto');
    if (adapter) {
      fs.mkdirSync(path.join(sys, 'class', 'net', adapter.name), { recursive: true });
      fs.writeFileSync(path.join(sys, 'class', 'net', adapter.name, 'speed'), '10\n');
    }
    assert.equal(detectBandwidthClass(sys), 'high');
    assert.equal(detectBandwidthClass(path.join(work, 'no-sysfs')), 'high');
    assert.ok(['low', 'high'].includes(detectBandwidthClass()));
  });
});
