// What a device's answers may hold, beyond the byte limit of a message (the negotiated maxMessage, 1 MiB
// from the station's HELLO): inventories and file listings are turned into XML reports and sent to the
// server, so their item counts and nesting are bounded too. docs/link-protocol.md §6.2 lists them. A
// device over a limit gets a clear refusal of that one answer; it is not a protocol violation, and the link
// (and every other request on it) stays up.
//
// The check runs on the parsed JSON before the schema does, walks iteratively (no recursion a deep listing
// could exhaust), and stops at the first limit, so a hostile answer costs no more than its size.

/** InventoryItem elements in one machine inventory (a CE device reports about ten). */
export const MAX_INVENTORY_ITEMS = 4096;
/** Property elements in one InventoryItem. */
export const MAX_INVENTORY_PROPERTIES = 256;
/** Directories plus files in one listing (the agent examines at most 20,000 folder entries). */
export const MAX_LISTED_ENTRIES = 50_000;
/** Directory nesting in one listing: CE paths have at most 260 characters, so at most 130 levels. */
export const MAX_LISTING_DEPTH = 130;
/** Warnings in one listing. */
export const MAX_LISTING_WARNINGS = 1000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const count = (n: number): string => n.toLocaleString('en-US');

/** A sentence naming the first limit `value` exceeds for the reply `name`, or undefined. */
export function answerLimitProblem(name: string, value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  if (name === 'MACHINE_INVENTORY_REPLY') return inventoryProblem(value.inventory);
  if (name === 'LIST_FILES_REPLY') return listingProblem(value);
  return undefined;
}

function inventoryProblem(inventory: unknown): string | undefined {
  if (!isObject(inventory) || !Array.isArray(inventory.Items)) return undefined;
  const items = inventory.Items as unknown[];
  if (items.length > MAX_INVENTORY_ITEMS) {
    return `a machine inventory of ${count(items.length)} items; the station takes at most ${count(MAX_INVENTORY_ITEMS)}`;
  }
  for (const item of items) {
    if (isObject(item) && Array.isArray(item.Properties) && item.Properties.length > MAX_INVENTORY_PROPERTIES) {
      return `an inventory item with ${count(item.Properties.length)} properties; the station takes at most ${MAX_INVENTORY_PROPERTIES} per item`;
    }
  }
  return undefined;
}

function listingProblem(reply: Record<string, unknown>): string | undefined {
  if (Array.isArray(reply.warnings) && reply.warnings.length > MAX_LISTING_WARNINGS) {
    return `a file listing with ${count(reply.warnings.length)} warnings; the station takes at most ${count(MAX_LISTING_WARNINGS)}`;
  }
  const report = reply.report;
  if (!isObject(report) || !Array.isArray(report.Directories)) return undefined;
  let entries = 0;
  const pending: Array<{ dirs: unknown[]; depth: number }> = [{ dirs: report.Directories, depth: 1 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const dir of next.dirs) {
      if (!isObject(dir)) continue;
      if (next.depth > MAX_LISTING_DEPTH) {
        return `a file listing nested more than ${MAX_LISTING_DEPTH} folders deep, deeper than any device path can be`;
      }
      entries += 1 + (Array.isArray(dir.Files) ? dir.Files.length : 0);
      if (entries > MAX_LISTED_ENTRIES) {
        return `a file listing of more than ${count(MAX_LISTED_ENTRIES)} folders and files; the station takes at most that many ` +
          '(narrow the software inventory filters)';
      }
      if (Array.isArray(dir.Directories) && dir.Directories.length > 0) pending.push({ dirs: dir.Directories, depth: next.depth + 1 });
    }
  }
  return undefined;
}
