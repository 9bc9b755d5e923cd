// What a poll is answered with — the device's packages and settings, built into a PollResponse — changes
// only when an administrator changes the catalog, assignments or settings. Those changes come from other
// connections (the admin CLI), and SQLite counts commits from other connections in `PRAGMA data_version`.
// So each device's answer is built once and reused until that number moves: a poll then costs one pragma
// instead of three queries and a document build. The memo is bounded; past the bound it starts afresh.
import { buildPollResponse } from '../shared/protocol/index.js';
import { applicablePackageIds } from './catalog.js';
import { prepared, type Db } from './db.js';
import { effectiveSettings, toPollResponseSettings } from './settings.js';

export interface PollAnswer {
  applicable: string[];
  xml: string;
}

export class PollAnswers {
  private version: number | undefined;
  private byDevice = new Map<string, PollAnswer>();

  constructor(private readonly db: Db, private readonly maxDevices = 100_000) {}

  /** `ids`: the poll's Identification/ID, then X-Device-UUID when it differs. Settings follow the first. */
  get(ids: [string] | [string, string]): PollAnswer {
    const version = prepared(this.db, 'PRAGMA data_version').pluck().get() as number;
    if (version !== this.version || this.byDevice.size >= this.maxDevices) {
      this.version = version;
      this.byDevice = new Map();
    }
    const key = ids.join('\n');
    let answer = this.byDevice.get(key);
    if (!answer) {
      const applicable = applicablePackageIds(this.db, ids);
      const xml = buildPollResponse({ Settings: toPollResponseSettings(effectiveSettings(this.db, ids[0])), ApplicablePackages: applicable });
      answer = { applicable, xml };
      this.byDevice.set(key, answer);
    }
    return answer;
  }
}
