// A real reference server (in-process, real HTTP on 127.0.0.1, real SQLite) and a real station engine
// (real SQLite client database, real files) driven by a manual clock, so a test can run days of schedule.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { startServer } from '../../server/http-server.js';
import * as admin from '../../server/admin.js';
import type { AddPackageOptions } from '../../server/admin.js';
import type { SettingsChange } from '../../server/settings.js';
import { Station, type StationOptions } from '../../electron/station/station.js';
import { ManualClock } from '../../electron/engine/clock.js';
import type { EngineEvent } from '../../shared/model/events.js';
import { tempDir } from './tmp.js';

export const STATION_ID = 'A1B2C3D4-0000-4000-8000-0000000000AA';

export interface Harness {
  dir: string;
  serverData: string;
  stationData: string;
  root: string;
  serverUrl: string;
  port: number;
  clock: ManualClock;
  events: EngineEvent[];
  /** Every line the server logged (requests, duplicates it answered but did not store again). */
  serverLines: string[];
  addPackage(name: string, content: string | Buffer, o?: Partial<AddPackageOptions> & { device?: string }): Promise<string>;
  settings(change: SettingsChange, device?: string): void;
  log(): ReturnType<typeof admin.readLog>;
  statuses(): Array<{ packageID: string; messageID: number; parameters: Array<{ name: string; value: string }> }>;
  openStation(o?: Partial<StationOptions>): Promise<Station>;
  stopServer(): Promise<void>;
  /** Restarts the server on the same port; `publicUrl` makes its package URLs point elsewhere (a proxy). */
  startServer(publicUrl?: string): Promise<void>;
}

export async function harness(t: TestContext, o: { port?: number } = {}): Promise<Harness> {
  const dir = tempDir(t);
  const serverData = path.join(dir, 'server');
  const stationData = path.join(dir, 'station');
  const root = path.join(dir, 'root');
  const files = path.join(dir, 'files');
  mkdirSync(files, { recursive: true });
  const serverLines: string[] = [];
  const log = (line: string) => { serverLines.push(line); };
  let running = await startServer({ dataDir: serverData, host: '127.0.0.1', port: o.port ?? 0, log });
  const port = running.port;
  const stations: Station[] = [];
  t.after(async () => {
    for (const s of stations) s.close();
    await running.close();
  });
  const clock = new ManualClock(Date.now());
  const events: EngineEvent[] = [];
  const h: Harness = {
    dir, serverData, stationData, root, clock, events, port, serverLines,
    serverUrl: `${running.url}/devicemgmt/server.aspx`,
    async addPackage(name, content, opts = {}) {
      const fileName = opts.file ?? `${name.replace(/\W+/g, '-')}.bin`;
      const file = path.join(files, fileName);
      writeFileSync(file, content);
      const { device, ...rest } = opts;
      const p = await admin.addPackage(serverData, { name, localDestination: '\\Temp', ...rest, file });
      admin.assignPackage(serverData, p.id, device ?? STATION_ID);
      return p.id;
    },
    settings(change, device) {
      admin.setSettings(serverData, change, device);
    },
    log() {
      return admin.readLog(serverData);
    },
    statuses() {
      return admin.readLog(serverData).flatMap((e) => (e.kind === 'status'
        ? [{ packageID: e.packageID, messageID: e.messageID, parameters: e.parameters }] : []));
    },
    async openStation(so = {}) {
      const s = await Station.open({
        dataDir: stationData, root, server: h.serverUrl, id: STATION_ID, clock, emit: (e) => events.push(e), ...so,
      });
      stations.push(s);
      return s;
    },
    async stopServer() {
      await running.close();
    },
    async startServer(publicUrl) {
      running = await startServer({ dataDir: serverData, host: '127.0.0.1', port, log, ...(publicUrl ? { publicUrl } : {}) });
    },
  };
  return h;
}
