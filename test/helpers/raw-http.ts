// Raw HTTP over a TCP socket, for requests `fetch` and `http.request` would tidy up first: `..` and
// `%2f` in a path, odd request targets, headers spelled exactly as written.
import net from 'node:net';

/** Writes `request` (latin1) and collects whatever comes back until the server closes the connection. */
export function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request, 'latin1'));
    let reply = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { reply += d; });
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  });
}

export interface RawReply {
  status: number;
  /** Everything after the header block (latin1). */
  body: string;
  head: string;
}

/** `GET target` with `Connection: close` and the given Host (127.0.0.1:port unless set). */
export async function rawGet(port: number, target: string, headers: Record<string, string> = {}): Promise<RawReply> {
  const all = { Host: `127.0.0.1:${port}`, ...headers, Connection: 'close' };
  const lines = Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const reply = await rawExchange(port, `GET ${target} HTTP/1.1\r\n${lines}\r\n`);
  const end = reply.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(reply)?.[1];
  if (status === undefined) throw new Error(`no HTTP status line in the reply to GET ${target}: ${JSON.stringify(reply.slice(0, 200))}`);
  return { status: Number(status), head: reply.slice(0, end), body: end < 0 ? '' : reply.slice(end + 4) };
}
