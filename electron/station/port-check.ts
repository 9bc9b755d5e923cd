// A serial port given by a technician is checked before the station opens it: a path that exists but is a
// regular file or a folder (a typo: --serial /etc/hostname) is "not a serial port", said plainly, instead
// of the operating system's "Inappropriate ioctl for device". A path that does not exist yet is fine:
// the station watches it and docks the device when it appears.
import { statSync } from 'node:fs';

export function serialPathProblem(p: string): string {
  if (process.platform === 'win32' && /^COM\d+$/i.test(p)) return '';
  let st;
  try {
    st = statSync(p);
  } catch {
    return '';
  }
  if (st.isCharacterDevice()) return '';
  const what = st.isDirectory() ? 'a folder' : st.isFile() ? 'a regular file' : 'not a character device';
  return `${p} is not a serial port (it is ${what}); give the device's port, e.g. /dev/ttyACM0 or a /dev/serial/by-id/… link`;
}
