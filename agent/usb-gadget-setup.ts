// `dockhand agent gadget setup|teardown`: the configfs work that makes a Linux board a USB device with the
// link's function (Documentation/usb/gadget_configfs.rst), for device makers to run once at boot, as root:
//
//   /sys/kernel/config/usb_gadget/NAME/         idVendor, idProduct, bcdDevice, bcdUSB
//     strings/0x409/                            manufacturer, product, serialnumber
//     configs/c.1/                              MaxPower, strings/0x409/configuration
//     functions/ffs.NAME  ← linked into c.1     the FunctionFS function the agent fills in
//   mount -t functionfs NAME /dev/ffs-NAME
//
// Binding to a UDC is left to the agent (`dockhand agent --usb-gadget`), because the kernel only accepts it
// once the agent has written the function's descriptors. Teardown undoes it all in reverse order.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DockhandError, describeError } from '../shared/model/errors.js';
import { unbindGadget } from './usb-gadget.js';

export interface GadgetSetup {
  /** The gadget's name in configfs and the FunctionFS instance's name (default `dockhand`). */
  name: string;
  vendorId: number;
  productId: number;
  manufacturer: string;
  product: string;
  serialNumber: string;
  /** Where FunctionFS is mounted (default /dev/ffs-NAME). */
  ffs: string;
  /** configfs's mount point (default /sys/kernel/config). */
  configfs: string;
  /** The device release, bcdDevice (default 0x0100). */
  deviceRelease?: number;
}

export const DEFAULT_GADGET_NAME = 'dockhand';
/** pid.codes' open-source vendor ID with a development product ID: a device maker sets its own. */
export const DEFAULT_USB_ID = { vendorId: 0x1209, productId: 0xd0c4 };

export function gadgetDir(configfs: string, name: string): string {
  return path.join(configfs, 'usb_gadget', name);
}

const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

function fail(what: string, err: unknown): never {
  const denied = /EACCES|EPERM/.test((err as NodeJS.ErrnoException).code ?? '');
  throw new DockhandError('LINK', `gadget setup: ${what}: ${denied ? 'permission denied (run it as root)' : describeError(err)}`, { cause: err });
}

/** configfs needs its gadget support loaded; the modules are tried once, quietly, when it is missing. */
function ensureGadgetSupport(configfs: string): void {
  const root = path.join(configfs, 'usb_gadget');
  if (existsSync(root)) return;
  spawnSync('modprobe', ['libcomposite'], { stdio: 'ignore' });
  spawnSync('modprobe', ['usb_f_fs'], { stdio: 'ignore' });
  if (!existsSync(root)) {
    throw new DockhandError('LINK', `gadget setup: ${root} does not exist: mount configfs (mount -t configfs none ${configfs}) and load ` +
      'libcomposite and usb_f_fs (a kernel with CONFIG_USB_CONFIGFS_F_FS)');
  }
}

function isMounted(dir: string): boolean {
  try {
    return readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === dir);
  } catch {
    return false;
  }
}

/** Creates (or completes) the gadget and mounts its FunctionFS; safe to run again. */
export function setupGadget(g: GadgetSetup): string[] {
  ensureGadgetSupport(g.configfs);
  const dir = gadgetDir(g.configfs, g.name);
  const done: string[] = [];
  const mkdir = (p: string) => {
    if (existsSync(p)) return;
    try {
      mkdirSync(p);
    } catch (err) {
      fail(`cannot create ${p}`, err);
    }
  };
  const put = (file: string, value: string) => {
    try {
      writeFileSync(path.join(dir, file), value);
    } catch (err) {
      fail(`cannot write ${path.join(dir, file)}`, err);
    }
  };
  mkdir(dir);
  if (readFileSync(path.join(dir, 'UDC'), 'utf8').trim() !== '') {
    throw new DockhandError('LINK', `gadget setup: ${dir} is bound to a UDC (in use); stop the agent or run \`dockhand agent gadget teardown\` first`);
  }
  put('idVendor', hex4(g.vendorId));
  put('idProduct', hex4(g.productId));
  put('bcdDevice', hex4(g.deviceRelease ?? 0x0100));
  put('bcdUSB', '0x0200');
  mkdir(path.join(dir, 'strings', '0x409'));
  put('strings/0x409/manufacturer', g.manufacturer);
  put('strings/0x409/product', g.product);
  put('strings/0x409/serialnumber', g.serialNumber);
  mkdir(path.join(dir, 'configs', 'c.1'));
  mkdir(path.join(dir, 'configs', 'c.1', 'strings', '0x409'));
  put('configs/c.1/strings/0x409/configuration', 'Dockhand link');
  put('configs/c.1/MaxPower', '250');
  const fn = path.join(dir, 'functions', `ffs.${g.name}`);
  mkdir(fn);
  const link = path.join(dir, 'configs', 'c.1', `ffs.${g.name}`);
  if (!existsSync(link)) {
    try {
      symlinkSync(fn, link);
    } catch (err) {
      fail(`cannot link ${fn} into ${path.dirname(link)}`, err);
    }
  }
  done.push(`gadget ${dir} (${hex4(g.vendorId).slice(2)}:${hex4(g.productId).slice(2)}, "${g.manufacturer}" "${g.product}" serial ${g.serialNumber})`);
  if (!isMounted(g.ffs)) {
    mkdirSync(g.ffs, { recursive: true });
    const r = spawnSync('mount', ['-t', 'functionfs', g.name, g.ffs], { encoding: 'utf8' });
    if (r.status !== 0) throw new DockhandError('LINK', `gadget setup: cannot mount FunctionFS ${g.name} on ${g.ffs}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  done.push(`FunctionFS ${g.name} mounted on ${g.ffs}`);
  return done;
}

/** Unbinds, unmounts and removes what setupGadget made; what is already gone is skipped. */
export function teardownGadget(g: Pick<GadgetSetup, 'name' | 'ffs' | 'configfs'>): string[] {
  const dir = gadgetDir(g.configfs, g.name);
  const done: string[] = [];
  if (existsSync(dir)) {
    unbindGadget(dir);
    done.push(`unbound ${dir}`);
  }
  if (isMounted(g.ffs)) {
    const r = spawnSync('umount', [g.ffs], { encoding: 'utf8' });
    if (r.status !== 0) throw new DockhandError('LINK', `gadget teardown: cannot unmount ${g.ffs} (is the agent still running?): ${(r.stderr || '').trim()}`);
    done.push(`unmounted ${g.ffs}`);
  }
  if (!existsSync(dir)) return done;
  const remove = (p: string, how: (p: string) => void) => {
    if (!existsSync(p)) return;
    try {
      how(p);
    } catch (err) {
      fail(`cannot remove ${p}`, err);
    }
  };
  remove(path.join(dir, 'configs', 'c.1', `ffs.${g.name}`), unlinkSync);
  remove(path.join(dir, 'configs', 'c.1', 'strings', '0x409'), rmdirSync);
  remove(path.join(dir, 'configs', 'c.1'), rmdirSync);
  remove(path.join(dir, 'functions', `ffs.${g.name}`), rmdirSync);
  remove(path.join(dir, 'strings', '0x409'), rmdirSync);
  remove(dir, rmdirSync);
  done.push(`removed ${dir}`);
  return done;
}
