// Slot labels: the technician's names for the places devices dock ("Slot 3" for /dev/ttyACM2, "Left
// cradle" for a USB path). A label belongs to the port or USB path, not to the device, so it stays when
// one device is swapped for the next. Kept in the station's own client database (key `slot_labels`), so
// the running station, its UI and `dockhand station record` read the same names across restarts.
import type { ClientStore } from '../store/client-store.js';

const KEY = 'slot_labels';
export const MAX_SLOT_LABEL = 40;

export function slotLabels(store: ClientStore): Record<string, string> {
  return store.getJson<Record<string, string>>(KEY) ?? {};
}

/** Names a port; an empty label forgets its name. Returns words for the result. */
export function renameSlot(store: ClientStore, port: string, label: string): string {
  const clean = label.replace(/\s+/g, ' ').trim();
  if (clean.length > MAX_SLOT_LABEL) throw new Error(`a slot label has at most ${MAX_SLOT_LABEL} characters`);
  const labels = slotLabels(store);
  if (clean) labels[port] = clean;
  else delete labels[port];
  store.setJson(KEY, labels);
  return clean ? `${port} is now called "${clean}" (whichever device docks there)` : `${port} has no name now`;
}

