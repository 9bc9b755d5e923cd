// Finds the link's vendor-specific interface (class 0xFF) with one bulk IN and one bulk OUT endpoint, in the
// active configuration first and then in the others, so a device that boots unconfigured or exposes the
// link beside a CDC or mass-storage function still works. The refusal says what the device does expose.
import { DockhandError } from '../../shared/model/errors.js';
import { describeUsbDevice, type UsbConfigurationLike, type UsbDeviceLike, type UsbEndpointLike } from './usb-types.js';

export const VENDOR_SPECIFIC_CLASS = 0xff;

export interface VendorInterfaceChoice {
  configurationValue: number;
  interfaceNumber: number;
  alternateSetting: number;
  inEndpoint: UsbEndpointLike;
  outEndpoint: UsbEndpointLike;
}

export interface VendorInterfaceWanted {
  /** Take this interface number only (a composite device with several vendor interfaces). */
  interfaceNumber?: number | undefined;
  interfaceClass?: number | undefined;
}

function readConfigurations(device: UsbDeviceLike): UsbConfigurationLike[] {
  const found: UsbConfigurationLike[] = [];
  // node-usb computes both properties from descriptors and may throw when the device cannot be read.
  try {
    if (device.configuration) found.push(device.configuration);
  } catch {
    // unconfigured or unreadable; the list below may still help
  }
  try {
    for (const c of device.configurations) {
      if (!found.some((f) => f.configurationValue === c.configurationValue)) found.push(c);
    }
  } catch {
    // nothing more to look at
  }
  return found;
}

const isBulk = (e: UsbEndpointLike, direction: 'in' | 'out') => e.type === 'bulk' && e.direction === direction;

export function findVendorInterface(device: UsbDeviceLike, wanted: VendorInterfaceWanted = {}): VendorInterfaceChoice {
  const cls = wanted.interfaceClass ?? VENDOR_SPECIFIC_CLASS;
  const seen: string[] = [];
  for (const config of readConfigurations(device)) {
    for (const iface of config.interfaces) {
      if (wanted.interfaceNumber !== undefined && iface.interfaceNumber !== wanted.interfaceNumber) continue;
      const alternates = iface.alternates.length > 0 ? iface.alternates : iface.alternate ? [iface.alternate] : [];
      for (const alt of alternates) {
        seen.push(`interface ${iface.interfaceNumber} alt ${alt.alternateSetting} class 0x${alt.interfaceClass.toString(16).padStart(2, '0')}`);
        if (alt.interfaceClass !== cls) continue;
        const ins = alt.endpoints.filter((e) => isBulk(e, 'in'));
        const outs = alt.endpoints.filter((e) => isBulk(e, 'out'));
        if (ins.length === 1 && outs.length === 1) {
          return {
            configurationValue: config.configurationValue,
            interfaceNumber: iface.interfaceNumber,
            alternateSetting: alt.alternateSetting,
            inEndpoint: ins[0]!,
            outEndpoint: outs[0]!,
          };
        }
        seen[seen.length - 1] += ` (${ins.length} bulk IN, ${outs.length} bulk OUT endpoints)`;
      }
    }
  }
  const which = wanted.interfaceNumber === undefined ? 'a vendor-specific interface' : `interface ${wanted.interfaceNumber} as a vendor-specific interface`;
  throw new DockhandError(
    'LINK',
    `the ${describeUsbDevice(device)} does not offer ${which} (class 0x${cls.toString(16)}) with one bulk IN and one bulk OUT endpoint` +
      (seen.length ? `; it has: ${seen.join('; ')}` : '; its descriptors could not be read') +
      '. Is the device running the Dockhand agent firmware?',
    { detail: { seen } },
  );
}
