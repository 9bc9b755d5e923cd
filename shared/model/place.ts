// Where a device sits, as a technician says it: the slot's name ("Slot 3") when the port has one, else the
// port's last path segment ("ttyACM2", "1-1.4").
export function placeOf(d: { slot: string; port: string }): string {
  return d.slot || d.port.split(/[\\/]/).filter(Boolean).at(-1) || 'no port';
}
