// The least a Node process can do to download a package the way the station must keep it: one GET over a
// plain socket read into one reused buffer (net's onread: no per-read allocation, no HTTP parser, no stream
// events), the SHA-256 taken as the bytes go by, written with plain synchronous writes, then fdatasync.
// Used by bench/download-floor.ts; not part of Dockhand. FLOOR_HASH=0 and FLOOR_SYNC=0 leave out the hash
// and the flush, to show what each costs.
//   node raw-get.mjs URL OUTFILE
import net from 'node:net';
import fs from 'node:fs';
import { createHash } from 'node:crypto';

const url = new URL(process.argv[2]);
const fd = fs.openSync(process.argv[3], 'w');
const hashing = process.env.FLOOR_HASH !== '0';
const syncing = process.env.FLOOR_SYNC !== '0';
const hash = createHash('sha256');
let head = Buffer.alloc(0);
let length = -1;
let got = 0;

function take(view) {
  if (hashing) hash.update(view);
  for (let at = 0; at < view.length; ) at += fs.writeSync(fd, view, at, view.length - at);
  got += view.length;
}

const socket = net.connect({
  host: url.hostname, port: Number(url.port),
  onread: {
    buffer: Buffer.allocUnsafe(1024 * 1024),
    callback(n, buf) {
      let view = buf.subarray(0, n);
      if (length < 0) {
        head = Buffer.concat([head, view]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        if (!/^HTTP\/1\.1 200 /.test(text)) throw new Error(`not a 200: ${text.split('\r\n')[0]}`);
        length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? NaN);
        view = head.subarray(end + 4);
      }
      take(view);
      if (got >= length) {
        socket.destroy();
        if (syncing) fs.fdatasyncSync(fd);
        fs.closeSync(fd);
        process.stdout.write(`${got} ${hashing ? hash.digest('hex') : '-'}\n`);
      }
    },
  },
}, () => socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`));
