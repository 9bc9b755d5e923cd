// Poll (spec §4–§5): answer with every package assigned to this device or to '*' and the settings, and
// hand back X-Device-Timestamp, the time of this poll, which the device echoes next time (spec A15).
// The poll also refreshes the device's row: which client it runs decides what later answers may carry.
import type { ServerResponse } from 'node:http';
import { formatDmTimestamp, HEADER } from '../../shared/protocol/index.js';
import type { DevicePoll } from '../../shared/protocol/types.js';
import type { DeviceHeaders } from '../../shared/protocol/headers.js';
import type { ServerContext } from '../context.js';
import { appendReceived } from '../received-log.js';
import { recordPoll } from '../devices.js';
import { sendXml } from '../http-io.js';

/** `uuid` is the X-Device-UUID header, which every later message of this device carries too. */
export async function handlePoll(ctx: ServerContext, res: ServerResponse, uuid: string, headers: Partial<DeviceHeaders>,
  poll: DevicePoll): Promise<void> {
  const deviceId = poll.Identification.ID;
  // Identification/ID and X-Device-UUID are the same value on real clients; honour assignments to either.
  const ids: [string] | [string, string] = uuid !== deviceId ? [deviceId, uuid] : [deviceId];
  const now = ctx.now();
  const serverTimestamp = formatDmTimestamp(now, true);
  const { applicable, xml } = ctx.pollAnswers.get(ids);
  await ctx.writes.run(() => {
    recordPoll(ctx.db, uuid, poll.ManagementSystem, now.toISOString());
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
  });
  sendXml(res, xml, { [HEADER.Timestamp]: serverTimestamp });
}
