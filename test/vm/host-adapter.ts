// The far end of the emulated USB-serial adapter: QEMU's `usb-serial` device (an FTDI FT232, 0403:6001)
// carries its bytes over a chardev socket, and here that socket becomes a pseudo-terminal the real
// `dockhand agent` serves, exactly as it would serve a UART. QEMU connects to our UNIX socket as a client
// when it starts (before the guest boots); socat makes the pty, and this process relays between the two.
//
// A real adapter's UART sends at its baud rate, but QEMU's chardev moves bytes as fast as the CPU allows (a
// 384 KiB push could end in well under a second, before the test can pull the plug mid-push). So the bytes
// towards the device are paced at the line rate of an FT232 at 921,600 baud 8N1 (92,160 bytes/s), with a
// UART's backpressure: the socket is not read while a few ticks' worth wait to be sent.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export interface AdapterBridge {
  /** The socket QEMU's chardev connects to. */
  socket: string;
  /** The pty the agent opens (a link; it appears once QEMU has connected). */
  pty: string;
  /** socat's own messages, for the log. */
  log(): string;
  close(): void;
}

const LINE_BYTES_PER_SECOND = 921_600 / 10;
const TICK_MS = 10;
const PER_TICK = Math.ceil((LINE_BYTES_PER_SECOND * TICK_MS) / 1000);

export function adapterBridge(runDir: string): AdapterBridge {
  const socketPath = path.join(runDir, 'adapter.sock');
  const pty = path.join(runDir, 'adapter-tty');
  let socat: ChildProcess | undefined;
  let pacer: ReturnType<typeof setInterval> | undefined;
  let log = '';
  // Paused: nothing may be read here before the pty is there to take it.
  const server = net.createServer({ pauseOnConnect: true }, (conn) => {
    server.close();
    const proc = spawn('socat', ['-d', '-d', 'STDIO', `PTY,link=${pty},raw,echo=0`], { stdio: ['pipe', 'pipe', 'pipe'] });
    socat = proc;
    proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    proc.stdout!.pipe(conn); // device → station: replies and acks, unpaced
    const waiting: Buffer[] = [];
    let queued = 0;
    conn.on('data', (c: Buffer) => {
      waiting.push(c);
      queued += c.length;
      if (queued > 4 * PER_TICK) conn.pause();
    });
    pacer = setInterval(() => {
      let budget = PER_TICK;
      while (budget > 0 && waiting.length > 0) {
        const head = waiting[0]!;
        const piece = head.subarray(0, budget);
        if (piece.length === head.length) waiting.shift();
        else waiting[0] = head.subarray(piece.length);
        budget -= piece.length;
        queued -= piece.length;
        proc.stdin!.write(piece);
      }
      if (queued <= 4 * PER_TICK && conn.isPaused()) conn.resume();
    }, TICK_MS);
    conn.on('error', (err) => (log += `adapter socket: ${err.message}\n`));
    proc.stdin!.on('error', (err) => (log += `socat stdin: ${err.message}\n`));
    conn.resume();
  });
  server.listen(socketPath);
  return {
    socket: socketPath,
    pty,
    log: () => log,
    close() {
      server.close();
      clearInterval(pacer);
      socat?.kill('SIGKILL');
    },
  };
}
