// The far end of the emulated USB-serial adapter: QEMU's `usb-serial` device (an FTDI FT232, 0403:6001)
// carries its bytes over a chardev socket, and here that socket becomes a pseudo-terminal the real
// `dockhand agent` serves, exactly as it would serve a UART. QEMU connects to our UNIX socket as a client
// when it starts (before the guest boots); the connection is handed to socat, which makes the pty.
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

export function adapterBridge(runDir: string): AdapterBridge {
  const socketPath = path.join(runDir, 'adapter.sock');
  const pty = path.join(runDir, 'adapter-tty');
  let socat: ChildProcess | undefined;
  let log = '';
  // Paused: nothing may be read here before socat owns the connection.
  const server = net.createServer({ pauseOnConnect: true }, (conn) => {
    server.close();
    socat = spawn('socat', ['-d', '-d', 'FD:3', `PTY,link=${pty},raw,echo=0`], { stdio: ['ignore', 'ignore', 'pipe', conn] });
    socat.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    conn.destroy(); // socat holds its own copy of the descriptor
  });
  server.listen(socketPath);
  return {
    socket: socketPath,
    pty,
    log: () => log,
    close() {
      server.close();
      socat?.kill('SIGKILL');
    },
  };
}
