// DM times (`YYYY-MM-DD hh:mm:ss`, spec §3.2) in the station's local time zone, for the timestamps of the
// software inventory (§11: Created, LastModified, LastAccessed are device-local).
// A tiny local helper on purpose: shared/protocol/dmtime.ts did not exist when this folder was written;
// once it does, this can be replaced by its formatter without changing any caller's output.

const two = (n: number): string => String(n).padStart(2, '0');

/** `2024-03-09 07:05:01` for the given instant, read in the host's local time zone. */
export function formatDmLocalTime(at: Date): string {
  const year = String(at.getFullYear()).padStart(4, '0');
  return `${year}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}
