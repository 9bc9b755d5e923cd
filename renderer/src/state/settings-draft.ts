// The Settings form's working copy: text as typed, checked before anything is sent, and turned into the
// commands that carry the difference — serial ports by addSerialPort/forgetSerialPort (the station starts
// or stops watching them at once), everything else in one updateSettings with only the changed fields.
import type { Command, StationSettings } from '../../../shared/contract/station-api.js';

export interface SettingsDraft {
  server: string;
  /** KiB/s as typed; 0 means no limit. */
  rateLimitKiB: string;
  allowCommands: boolean;
  serialPorts: string[];
  baudRate: string;
  usb: string[];
  concurrency: string;
  /** Field-kit profiles as typed, `NAME=DEVICE-ID` each. */
  profiles: string[];
  /** The default profile's name; '' = the first. */
  defaultProfile: string;
}

export type DraftErrors = Partial<Record<keyof SettingsDraft, string>>;

export function draftFrom(s: StationSettings): SettingsDraft {
  return {
    server: s.server,
    rateLimitKiB: String(Math.round((s.rateLimit / 1024) * 100) / 100),
    allowCommands: s.allowCommands,
    serialPorts: [...s.serialPorts],
    baudRate: String(s.baudRate),
    usb: [...s.usb],
    concurrency: String(s.concurrency),
    profiles: s.profiles.map((p) => `${p.name}=${p.device}`),
    defaultProfile: s.defaultProfile,
  };
}

/** `scanner=SCANNER-01` → a profile; null when it is not one. */
export function profileOf(text: string): { name: string; device: string } | null {
  const at = text.indexOf('=');
  const name = text.slice(0, at).trim();
  const device = text.slice(at + 1).trim();
  // eslint-disable-next-line no-control-regex -- a device ID goes into a header: no control characters
  return at > 0 && name.length <= 64 && device !== '' && device.length <= 128 && !/[\u0000-\u001f\u007f]/.test(device) ? { name, device } : null;
}

/** Why a typed profile is not one, or '' when it is. */
export function profileProblem(text: string): string {
  return profileOf(text) ? '' : `"${text}" is not a profile; write NAME=DEVICE-ID, e.g. scanner=SCANNER-01 (the device identity the server knows)`;
}

const USB_ID = /^(?:0x)?[0-9a-f]{1,4}:(?:0x)?[0-9a-f]{1,4}$/i;

/** `0x1209:0xD0C4` → `1209:d0c4`, the form the station's config file keeps. */
export function normalUsbId(text: string): string {
  return text.trim().toLowerCase().replace(/0x/g, '');
}

/** Why a typed USB filter is not one, or '' when it is. */
export function usbFilterProblem(text: string): string {
  return USB_ID.test(text.trim()) ? '' : `"${text}" is not a USB ID; write VID:PID in hex as lsusb prints it, e.g. 1209:d0c4`;
}

export function validateDraft(d: SettingsDraft): DraftErrors {
  const errors: DraftErrors = {};
  let url: URL | null = null;
  try {
    url = new URL(d.server.trim());
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) errors.server = 'Enter the server as an http:// or https:// address.';
  const rate = Number(d.rateLimitKiB);
  if (d.rateLimitKiB.trim() === '' || !Number.isFinite(rate) || rate < 0) errors.rateLimitKiB = 'Enter KiB per second as a number, or 0 for no limit.';
  const baud = Number(d.baudRate);
  if (!Number.isInteger(baud) || baud <= 0) errors.baudRate = 'Enter the baud rate as a positive whole number, e.g. 115200.';
  const conc = Number(d.concurrency);
  if (!Number.isInteger(conc) || conc < 1 || conc > 64) errors.concurrency = 'Enter a whole number from 1 to 64.';
  const badUsb = d.usb.map(usbFilterProblem).find(Boolean);
  if (badUsb) errors.usb = badUsb;
  const badProfile = d.profiles.map(profileProblem).find(Boolean);
  const names = d.profiles.map((p) => profileOf(p)?.name);
  if (badProfile) errors.profiles = badProfile;
  else if (new Set(names).size !== names.length) errors.profiles = 'Two profiles have the same name.';
  if (d.defaultProfile.trim() && !badProfile && d.profiles.length && !names.includes(d.defaultProfile.trim())) {
    errors.defaultProfile = `"${d.defaultProfile}" is none of the profiles above.`;
  }
  return errors;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** The commands that make the station's settings match the draft (the draft must be valid). */
export function draftCommands(current: StationSettings, d: SettingsDraft): Command[] {
  const change: Partial<StationSettings> = {};
  if (d.server.trim() !== current.server) change.server = d.server.trim();
  const rate = Math.round(Number(d.rateLimitKiB) * 1024);
  if (rate !== current.rateLimit) change.rateLimit = rate;
  if (d.allowCommands !== current.allowCommands) change.allowCommands = d.allowCommands;
  if (Number(d.baudRate) !== current.baudRate) change.baudRate = Number(d.baudRate);
  const usb = d.usb.map(normalUsbId);
  if (!sameList(usb, current.usb.map((u) => u.toLowerCase()))) change.usb = usb;
  if (Number(d.concurrency) !== current.concurrency) change.concurrency = Number(d.concurrency);
  const profiles = d.profiles.map((p) => profileOf(p)!);
  if (!sameList(profiles.map((p) => `${p.name}=${p.device}`), current.profiles.map((p) => `${p.name}=${p.device}`))) change.profiles = profiles;
  if (d.defaultProfile.trim() !== current.defaultProfile) change.defaultProfile = d.defaultProfile.trim();
  const commands: Command[] = [];
  if (Object.keys(change).length > 0) commands.push({ type: 'updateSettings', settings: change });
  for (const p of d.serialPorts) if (!current.serialPorts.includes(p)) commands.push({ type: 'addSerialPort', path: p });
  for (const p of current.serialPorts) if (!d.serialPorts.includes(p)) commands.push({ type: 'forgetSerialPort', path: p });
  return commands;
}
