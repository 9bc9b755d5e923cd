// Boots the test guest (guest-image.ts) under QEMU with software emulation and gives the host three handles
// on it: QMP (to plug and unplug devices), a control channel (newline-delimited JSON over a virtio serial
// port: the guest asks, the host answers), and the run folder (shared read-write over 9p at /dockhand-run:
// the guest's logs, its results and its exit code).
//
// The host listens on every socket before QEMU starts, and QEMU connects as a client, so nothing the guest
// says can be lost to a host that has not connected yet.
//
// The guest ends by sending `bye`: the host answers and closes the channel (see serveControl).
//
// In the guest, the run's init.sh (written here) is PID 1: it mounts the kernel's file systems and the
// shared folders, loads the USB host driver, starts udev (triggering only USB and USB serial ports: a full
// coldplug costs half a minute under emulation), brings up loopback, runs the guest command with its
// output in guest.log, writes its exit status to exit-code and powers off.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { GuestImage } from './guest-image.js';
import { Qmp } from './qmp.js';

export interface Share {
  tag: string;
  hostPath: string;
  guestPath: string;
  readonly: boolean;
}

export type ControlHandler = (op: string, args: Record<string, unknown>) => Promise<unknown>;

export interface VmOptions {
  image: GuestImage;
  /** Shared read-write at /dockhand-run. */
  runDir: string;
  shares: Share[];
  /** Shell command line the guest runs (in /dockhand-run) once the system is up. */
  command: string;
  /** More QEMU arguments (USB controllers and devices). */
  qemuArgs?: string[];
  /** The guest's requests on the control channel. */
  onRequest: ControlHandler;
  /** Lines the guest sends as notes (progress, for the host's log). */
  onNote?: (text: string) => void;
  memoryMb?: number;
  /** QEMU is killed after this long. */
  timeoutMs: number;
}

export interface VmRun {
  qmp: Promise<Qmp>;
  /** Resolves when QEMU has exited: the guest's exit code (null when it wrote none), and why QEMU ended. */
  finished: Promise<{ guestExit: number | null; qemu: string; timedOut: boolean }>;
  console(): string;
  kill(): void;
}

const NINEP = 'trans=virtio,version=9p2000.L,msize=512000';

function initScript(shares: Share[], command: string): string {
  const mounts = shares.map((s) => `mkdir -p '${s.guestPath}' && mount -t 9p -o ${NINEP}${s.readonly ? ',ro,cache=loose' : ''} ${s.tag} '${s.guestPath}' || echo "init: cannot mount ${s.tag}"`);
  return `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
modprobe configfs && mount -t configfs configfs /sys/kernel/config
${mounts.join('\n')}
busybox ip link set lo up
modprobe virtio_console
modprobe xhci_pci
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add --subsystem-match=usb
udevadm trigger --action=add --subsystem-match=tty --sysname-match='ttyUSB*' --sysname-match='ttyACM*'
udevadm settle --timeout=30
echo "init: ready after $(cut -d' ' -f1 /proc/uptime) s"
cd /dockhand-run
sh -c '${command.replace(/'/g, `'\\''`)}' > /dockhand-run/guest.log 2>&1
echo $? > /dockhand-run/exit-code
echo "init: done after $(cut -d' ' -f1 /proc/uptime) s, exit $(cat /dockhand-run/exit-code)"
sync
mkfifo /run/halt
echo o > /proc/sysrq-trigger
read _ < /run/halt
`;
}

/** A UNIX socket server for one connection from QEMU. */
function listenOnce(file: string): { connected: Promise<net.Socket>; server: net.Server } {
  let resolve!: (s: net.Socket) => void;
  const connected = new Promise<net.Socket>((r) => (resolve = r));
  const server = net.createServer((socket) => resolve(socket));
  server.listen(file);
  return { connected, server };
}

/** Serves the guest's requests: `{"id":1,"op":"…","args":{…}}` → `{"id":1,"ok":true,"result":…}`. */
function serveControl(socket: net.Socket, onRequest: ControlHandler, onNote: (text: string) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const msg = JSON.parse(line) as { id?: number; op?: string; args?: Record<string, unknown>; note?: string };
      if (msg.note !== undefined) {
        onNote(msg.note);
        continue;
      }
      if (msg.op === 'bye') {
        // The guest is done. Closing our end ends its pending read of the port (EOF), which Node must see
        // before it can exit: a thread-pool read still blocked in the kernel would hold process.exit().
        socket.end(`${JSON.stringify({ id: msg.id, ok: true, result: null })}\n`);
        continue;
      }
      onRequest(msg.op ?? '', msg.args ?? {}).then(
        (result) => socket.write(`${JSON.stringify({ id: msg.id, ok: true, result: result ?? null })}\n`),
        (err: unknown) => socket.write(`${JSON.stringify({ id: msg.id, ok: false, error: (err as Error).message })}\n`),
      );
    }
  });
}

export async function bootVm(opts: VmOptions): Promise<VmRun> {
  const { image, runDir } = opts;
  writeFileSync(path.join(runDir, 'init.sh'), initScript(opts.shares, opts.command), { mode: 0o755 });
  const qmpSock = listenOnce(path.join(runDir, 'qmp.sock'));
  const ctlSock = listenOnce(path.join(runDir, 'ctl.sock'));
  const consoleFile = path.join(runDir, 'console.log');
  const virtfs = (tag: string, dir: string, readonly: boolean) =>
    ['-virtfs', `local,path=${dir},mount_tag=${tag},security_model=passthrough${readonly ? ',readonly=on' : ''}`];
  const args = [
    '-accel', 'tcg', '-cpu', 'max', '-smp', '1', '-m', String(opts.memoryMb ?? 1024), '-nic', 'none',
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', image.vmlinux, '-initrd', image.initramfs,
    '-append', 'console=ttyS0 quiet loglevel=4 panic=-1',
    '-serial', `file:${consoleFile}`,
    ...virtfs('rootfs', image.rootfs, true), ...virtfs('run', runDir, false),
    ...opts.shares.flatMap((s) => virtfs(s.tag, s.hostPath, s.readonly)),
    '-chardev', `socket,id=qmp,path=${path.join(runDir, 'qmp.sock')}`, '-mon', 'chardev=qmp,mode=control',
    '-device', 'virtio-serial-pci',
    '-chardev', `socket,id=ctl,path=${path.join(runDir, 'ctl.sock')}`, '-device', 'virtserialport,chardev=ctl,name=dockhand.ctl',
    ...(opts.qemuArgs ?? []),
  ];
  const qemu: ChildProcess = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let qemuOut = '';
  qemu.stdout!.on('data', (c: Buffer) => (qemuOut += c.toString()));
  qemu.stderr!.on('data', (c: Buffer) => (qemuOut += c.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    qemu.kill('SIGKILL');
  }, opts.timeoutMs);
  const exited = new Promise<string>((resolve) => {
    qemu.once('error', (err) => resolve(`QEMU could not be started: ${err.message}`));
    qemu.once('exit', (code, signal) => resolve(signal ? `QEMU killed by ${signal}` : `QEMU exited ${code}`));
  });

  const qmp = Promise.race([
    qmpSock.connected.then(async (socket) => {
      const client = new Qmp(socket);
      await client.start();
      return client;
    }),
    exited.then((why) => Promise.reject(new Error(`${why} before QMP was up: ${qemuOut.trim()}`))),
  ]);
  qmp.catch(() => undefined);
  void ctlSock.connected.then((socket) => serveControl(socket, opts.onRequest, opts.onNote ?? (() => undefined)));

  const finished = exited.then((qemuWhy) => {
    clearTimeout(timer);
    qmpSock.server.close();
    ctlSock.server.close();
    const codeFile = path.join(runDir, 'exit-code');
    const guestExit = existsSync(codeFile) ? Number(readFileSync(codeFile, 'utf8').trim()) : null;
    return { guestExit, qemu: `${qemuWhy}${qemuOut.trim() ? `: ${qemuOut.trim()}` : ''}`, timedOut };
  });
  return {
    qmp,
    finished,
    console: () => (existsSync(consoleFile) ? readFileSync(consoleFile, 'utf8') : ''),
    kill: () => qemu.kill('SIGKILL'),
  };
}
