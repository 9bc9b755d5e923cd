// Poll (spec §4–§5): answer with every package assigned to this device or to '*' and the settings, and
// hand back X-Device-Timestamp, the time of this poll, which the device echoes next time (spec A15).
import type { ServerResponse } from 'node:http';
import { buildPollResponse, formatDmTimestamp, HEADER } from '../../shared/protocol/index.js';
import type { DevicePoll } from '../../shared/protocol/types.js';
import type { DeviceHeaders } from '../../shared/protocol/headers.js';
import type { ServerContext } from '../context.js';
import { applicablePackageIds } from '../catalog.js';
import { effectiveSettings, toPollResponseSettings } from '../settings.js';
import { appendReceived } from '../received-log.js';
import { sendXml } from '../http-io.js';

export function handlePoll(ctx: ServerContext, res: ServerResponse, headers: Partial<DeviceHeaders>, poll: DevicePoll): void {
  const deviceId = poll.Identification.ID;
  // Identification/ID and X-Device-UUID are the same value on real clients; honour assignments to either.
  const ids = headers.uuid && headers.uuid !== deviceId ? [deviceId, headers.uuid] : [deviceId];
  const now = ctx.now();
  const serverTimestamp = formatDmTimestamp(now, true);
  const applicable = applicablePackageIds(ctx.db, ids);
  const xml = buildPollResponse({
    Settings: toPollResponseSettings(effectiveSettings(ctx.db, deviceId)),
    ApplicablePackages: applicable,
  });
  appendReceived(ctx.db, deviceId, now.toISOString(), [{
    kind: 'poll',
    deviceName: poll.Identification.DeviceName,
    identification: poll.Identification,
    managementSystem: poll.ManagementSystem,
    deviceTimestamp: headers.timestamp ?? '',
    serverTimestamp,
    ...(headers.clientVersion !== undefined ? { clientVersion: headers.clientVersion } : {}),
    applicablePackages: applicable,
  }]);
  sendXml(res, xml, { [HEADER.Timestamp]: serverTimestamp });
}
