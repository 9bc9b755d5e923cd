// Who the device is, kept across restarts: the ID a WinCE-DM server knows it by is generated once (a GUID,
// like a CE client's) and stored in the state folder; `--id` and `--name` override and are stored too, so
// the next start without them keeps the same identity. The rest of the identity (platform, processor, code
// page, locale, network) is read from the host at each HELLO, since addresses change between dockings.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hostIdentification } from '../electron/engine/local/host-identity.js';
import type { DeviceIdentity } from '../shared/link/hello.js';

export interface StoredIdentity {
  id: string;
  name: string;
}

export async function loadIdentity(stateDir: string, overrides: { id?: string; name?: string } = {}): Promise<StoredIdentity> {
  const file = path.join(stateDir, 'identity.json');
  let kept: Partial<StoredIdentity> = {};
  try {
    kept = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<StoredIdentity>;
  } catch {
    // first start
  }
  const identity: StoredIdentity = {
    id: overrides.id?.trim() || (typeof kept.id === 'string' && kept.id) || randomUUID().toUpperCase(),
    name: overrides.name?.trim() || (typeof kept.name === 'string' && kept.name) || os.hostname(),
  };
  if (identity.id !== kept.id || identity.name !== kept.name) {
    await fs.mkdir(stateDir, { recursive: true });
    await fs.writeFile(file, JSON.stringify(identity, null, 2));
  }
  return identity;
}

/** The identity block of HELLO_REPLY: stored ID and name, the rest from the host now. */
export function deviceIdentity(stored: StoredIdentity): DeviceIdentity {
  const host = hostIdentification(stored.id);
  return {
    id: stored.id,
    name: stored.name,
    platform: host.Platform,
    processor: host.Processor,
    codePage: host.CodePage,
    lcid: host.SystemDefaultLCID,
    ...(host.NetworkAdapter
      ? { network: { ipAddress: host.NetworkAdapter.IPAddress, ipSubnet: host.NetworkAdapter.IPSubnet, mac: host.NetworkAdapter.MAC } }
      : {}),
  };
}
