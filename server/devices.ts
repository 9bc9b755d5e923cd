// The devices the server has seen, one row each, refreshed at every poll: when it last polled and which
// management system its poll said it runs (`ManagementSystem/Name`, spec §4.3). That name decides whether
// a device gets Dockhand's extensions: the stock client ("SMS Device Management") has a limited XML parser
// and is sent only the documented document, without namespace prefixes (spec §2.2).
import { prepared, type Db } from './db.js';

/** What Dockhand's station puts in `ManagementSystem/Name`. */
export const DOCKHAND_CLIENT_NAME = 'Dockhand';

export function recordPoll(db: Db, deviceId: string, system: { Name: string; Version: string }, at: string): void {
  prepared(db, `INSERT INTO devices (device_id, management_system, management_version, last_poll_at) VALUES (?, ?, ?, ?)
    ON CONFLICT(device_id) DO UPDATE SET management_system = excluded.management_system,
      management_version = excluded.management_version, last_poll_at = excluded.last_poll_at`)
    .run(deviceId, system.Name, system.Version, at);
}

/** True when the device's last poll named Dockhand as its management system. A device never seen is stock. */
export function speaksDockhand(db: Db, deviceId: string): boolean {
  const row = prepared(db, 'SELECT management_system FROM devices WHERE device_id = ?').get(deviceId) as
    { management_system: string } | undefined;
  return row !== undefined && row.management_system.trim().toLowerCase() === DOCKHAND_CLIENT_NAME.toLowerCase();
}
