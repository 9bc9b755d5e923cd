// Network facts of the station, shared by the poll identification (spec §4 NetworkAdapter), the location
// request (§8 IPAddress), the machine inventory (§12.3 Device_Network) and the bandwidth class (§15.4).
//
// "Active" adapters are the ones node:os lists with a non-internal IPv4 address: libuv only reports
// interfaces that are up and running. Link-local (169.254.x.x) addresses go last, since a server cannot
// reach a device by them; otherwise the order is the operating system's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface HostAdapter {
  /** The OS interface name, e.g. `eth0`. */
  name: string;
  address: string;
  netmask: string;
  /** `XX-XX-XX-XX-XX-XX`, as a CE inventory provider writes it. */
  mac: string;
}

/** `02:fc:00:00:00:01` → `02-FC-00-00-00-01`. */
export function formatMac(mac: string): string {
  return mac.split(/[:-]/).map((b) => b.padStart(2, '0').toUpperCase()).join('-');
}

function octets(dotted: string): number[] {
  return dotted.split('.').map((o) => Number.parseInt(o, 10) & 0xff);
}

/** The network ID of an IPv4 address and mask: `192.168.0.10` + `255.255.255.0` → `192.168.0.0` (spec A13). */
export function networkId(address: string, netmask: string): string {
  const mask = octets(netmask);
  return octets(address).map((o, i) => o & (mask[i] ?? 0)).join('.');
}

export function activeIPv4Adapters(): HostAdapter[] {
  const adapters: HostAdapter[] = [];
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    for (const a of addresses ?? []) {
      const family = a.family as string | number; // Node 18.0–18.3 reported the number 4
      if (a.internal || (family !== 'IPv4' && family !== 4)) continue;
      adapters.push({ name, address: a.address, netmask: a.netmask, mac: formatMac(a.mac) });
    }
  }
  const linkLocal = (a: HostAdapter): number => (a.address.startsWith('169.254.') ? 1 : 0);
  return adapters.sort((a, b) => linkLocal(a) - linkLocal(b));
}

/**
 * The adapter's link speed in bits/s from Linux's `/sys/class/net/<name>/speed` (Mb/s), or undefined when
 * the host does not say (other systems, Wi-Fi and virtual adapters, a link that is down: -1 or unreadable).
 */
export function linkSpeedBitsPerSecond(name: string, sysRoot = '/sys'): number | undefined {
  if (name.includes('/') || name.startsWith('.')) return undefined;
  try {
    const mbps = Number.parseInt(fs.readFileSync(path.join(sysRoot, 'class', 'net', name, 'speed'), 'utf8').trim(), 10);
    return Number.isFinite(mbps) && mbps > 0 ? mbps * 1_000_000 : undefined;
  } catch {
    return undefined;
  }
}
