// Targets and packages by the names a technician knows: devices by their names, the station itself as
// "this station", packages by their catalog name when the station has one.
import type { Snapshot } from '../../../shared/contract/station-api.js';

export type Namer = (id: string) => string;

export function targetNamer(s: Snapshot): Namer {
  const names = new Map(s.devices.map((d) => [d.id, d.name]));
  for (const t of s.tasks) if (!names.has(t.target)) names.set(t.target, t.targetName);
  names.set(s.station.id, 'this station');
  return (id) => names.get(id) ?? id;
}

export function packageNamer(s: Snapshot): Namer {
  const names = new Map<string, string>();
  for (const p of s.packages) if (p.name) names.set(p.id, p.name);
  for (const t of s.tasks) if (t.packageName) names.set(t.package, t.packageName);
  for (const t of s.transfers) if (t.packageName) names.set(t.package, t.packageName);
  return (id) => names.get(id) ?? id;
}
