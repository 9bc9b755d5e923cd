// A target's client settings (spec §4.1, §5.2, §17): factory defaults, the server's changes from the poll
// response, and the identity values echoed on every message (X-Device-Auth, X-Device-Timestamp).
import type { ClientSettings, ReportSettings } from '../../shared/protocol/types.js';
import type { ClientStore } from '../store/client-store.js';
import { parsePollServer, pollServerUrl, ProtocolError } from '../../shared/protocol/index.js';

export const DEFAULT_POLL_INTERVAL_MS = 60 * 60 * 1000; // 1 hour (spec §4.1)
export const DEFAULT_RETRY_COUNT = 5; // MaxRetry (spec §17)
export const DEFAULT_RETRY_INTERVAL_MS = 3 * 60 * 1000; // RetryTime 00-00-00 00:03:00 (spec §17)
export const CLIENT_VERSION = '1.0'; // registry `Version` default (spec §17)
/** `ManagementSystem/Name` of every poll: Dockhand's own, so a server can tell Dockhand clients from stock ones. */
export const MANAGEMENT_SYSTEM_NAME = 'Dockhand';

export type ReportKind = 'software-inventory' | 'machine-inventory' | 'file-collection';
export const REPORT_KINDS: ReportKind[] = ['software-inventory', 'machine-inventory', 'file-collection'];

export interface Settings {
  server: string;
  pollIntervalMs: number;
  retryCount: number;
  retryIntervalMs: number;
  auth: string;
  timestamp: string;
}

const intOr = (v: string | null, d: number): number => (v === null || !Number.isFinite(Number(v)) ? d : Number(v));

export function readSettings(store: ClientStore): Settings {
  return {
    server: store.get('server') ?? '',
    pollIntervalMs: intOr(store.get('poll_interval_ms'), DEFAULT_POLL_INTERVAL_MS),
    retryCount: intOr(store.get('retry_count'), DEFAULT_RETRY_COUNT),
    retryIntervalMs: intOr(store.get('retry_interval_ms'), DEFAULT_RETRY_INTERVAL_MS),
    auth: store.get('auth') ?? '',
    timestamp: store.get('timestamp') ?? '',
  };
}

/**
 * The URL the station polls after the server's `PollServer` (spec §2.1, §17; shared/protocol/poll-server.ts):
 * a host alone fills the documented `SvrFmt`, `<scheme>://HOST/devicemgmt/server.aspx`, on the scheme's
 * default port; `host:port` keeps that port; a full http(s) URL is taken as it is (a Dockhand extension).
 * The scheme is the one the station polls with now: the format fixes it, the server only names the host.
 */
export function serverUrlForPollServer(current: string, pollServer: string): string {
  let address;
  try {
    address = parsePollServer(pollServer);
  } catch (err) {
    const problem = err instanceof ProtocolError ? err.problem : String(err);
    throw new Error(`the server's PollServer ${problem}; the station keeps polling ${current || 'its configured server'}`, { cause: err });
  }
  return pollServerUrl(current, address);
}

/** Applies `ClientSettings` from a poll response; returns lines describing what changed. */
export function applyClientSettings(store: ClientStore, cs: ClientSettings): string[] {
  const changes: string[] = [];
  const put = (key: string, value: string, what: string) => {
    if (store.get(key) !== value) {
      store.set(key, value);
      changes.push(what);
    }
  };
  if (cs.PollServer !== undefined && cs.PollServer.trim() !== '') {
    const current = store.get('server') ?? '';
    const next = serverUrlForPollServer(current, cs.PollServer);
    put('server', next, `poll server is now ${next}`);
  }
  if (cs.PollInterval !== undefined && cs.PollInterval > 0) put('poll_interval_ms', String(cs.PollInterval), `poll interval ${cs.PollInterval} ms`);
  if (cs.FailureRetryCount !== undefined && cs.FailureRetryCount >= 0) put('retry_count', String(cs.FailureRetryCount), `retry count ${cs.FailureRetryCount}`);
  if (cs.FailureRetryInterval !== undefined && cs.FailureRetryInterval > 0) put('retry_interval_ms', String(cs.FailureRetryInterval), `retry interval ${cs.FailureRetryInterval} ms`);
  return changes;
}

export function reportSettings(store: ClientStore, kind: ReportKind): ReportSettings | null {
  return store.getJson<ReportSettings>(`report.${kind}`);
}

export function saveReportSettings(store: ClientStore, kind: ReportKind, s: ReportSettings): void {
  store.setJson(`report.${kind}`, s);
}
