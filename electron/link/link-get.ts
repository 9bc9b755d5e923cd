// getFile on the station (file collection): GET_FILE names the file and the most the station will take; the
// device answers GET_FILE_REPLY with the size, streams GET_DATA chunks, and ends with GET_END carrying the
// SHA-256 of what it sent. Every step is checked against what the device announced, because the bytes end
// up in a report to the server: a size over the limit, a chunk at the wrong offset, more bytes than
// announced or a hash that does not match all fail with LINK, and the station never buffers more than
// `maxBytes`.
import { createHash } from 'node:crypto';
import { checkBody } from '../../shared/link/bodies.js';
import { decodeChunk, encodeJsonMessage, MessageType, messageTypeName } from '../../shared/link/messages.js';
import { DockhandError } from '../../shared/model/errors.js';
import { seconds } from '../../shared/link/limits.js';
import { linkFailure, misbehaving } from './link-failures.js';
import type { StreamContext } from './link-put.js';

export function getFileOverLink(ctx: Pick<StreamContext, 'requests' | 'requestTimeoutMs'>, devicePath: string, maxBytes: number): Promise<Buffer> {
  const { requests } = ctx;
  const { device, timers } = requests.ctx;
  const what = `send ${devicePath}`;
  const checked = checkBody('GET_FILE', { path: devicePath, maxBytes });
  if (!checked.ok) return Promise.reject(new DockhandError('LINK', `cannot ask ${device} for ${devicePath}: ${checked.problem}`));
  const id = requests.allocate();

  return new Promise<Buffer>((resolve, reject) => {
    let size: number | undefined;
    let data = Buffer.alloc(0);
    let received = 0;
    const hash = createHash('sha256');
    let timer: unknown;
    const arm = (): void => {
      timers.clearTimeout(timer);
      timer = timers.setTimeout(() => {
        requests.cancel(id);
        reject(linkFailure(`${device} stopped sending ${devicePath} (nothing for ${seconds(ctx.requestTimeoutMs)})`));
      }, ctx.requestTimeoutMs);
    };
    const settle = (): void => {
      timers.clearTimeout(timer);
      requests.close(id);
    };
    arm();
    requests.open(id, {
      handle: (message) => {
        arm();
        switch (message.type) {
          case MessageType.ERROR:
            settle();
            return reject(requests.refusal(message, what));
          case MessageType.GET_FILE_REPLY: {
            if (size !== undefined) throw misbehaving(device, `announced the size of ${devicePath} twice`);
            const announced = requests.read('GET_FILE_REPLY', message).size;
            if (announced > maxBytes) {
              requests.cancel(id);
              settle();
              return reject(linkFailure(`${device} announced ${devicePath} as ${announced} bytes, over the limit of ${maxBytes} asked for; not collected`));
            }
            size = announced;
            data = Buffer.alloc(size);
            return;
          }
          case MessageType.GET_DATA: {
            if (size === undefined) throw misbehaving(device, `sent data of ${devicePath} before its size`);
            const chunk = decodeChunk(message.body);
            if (!chunk) throw misbehaving(device, `sent a GET_DATA chunk too short to hold its offset`);
            if (chunk.offset !== received) throw misbehaving(device, `sent ${devicePath} at offset ${chunk.offset} where byte ${received} was next`);
            if (received + chunk.bytes.length > size) throw misbehaving(device, `sent more of ${devicePath} than the ${size} bytes it announced`);
            data.set(chunk.bytes, received);
            hash.update(chunk.bytes);
            received += chunk.bytes.length;
            return;
          }
          case MessageType.GET_END: {
            if (size === undefined || received !== size) {
              throw misbehaving(device, `ended ${devicePath} after ${received} bytes of the ${size ?? 'unannounced'} it announced`);
            }
            const end = requests.read('GET_END', message);
            settle();
            if (end.sha256.toLowerCase() !== hash.digest('hex')) {
              return reject(linkFailure(`the bytes of ${devicePath} from ${device} do not match the SHA-256 it reported; try collecting it again`));
            }
            return resolve(data);
          }
          default:
            throw misbehaving(device, `answered '${what}' with ${messageTypeName(message.type)}`);
        }
      },
      fail: (err) => {
        settle();
        reject(err);
      },
    });
    requests.ctx.send(encodeJsonMessage(MessageType.GET_FILE, id, checked.value)).catch((err: unknown) => {
      settle();
      reject(err as Error);
    });
  });
}
