// The header's contact with the server (electron/station/contact.ts), from a real client database: when the
// server went away in the middle of a download, the header says why from that download's own words, before
// any poll has failed; a failed poll's words come first once there is one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ClientStore } from '../../electron/store/client-store.js';
import { contactState } from '../../electron/station/contact.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const SERVER = 'http://127.0.0.1:8080/devicemgmt/server.aspx';
const CUT = 'the server at 127.0.0.1:8080 dropped the connection after 1.2 MB of 40 MB; 1.2 MB are kept and the download will resume from there';

test('a download the server stopped gives the header its words and its retry time before any poll failed', (t) => {
  const store = new ClientStore(path.join(tempDir(t), 'client.sqlite'));
  t.after(() => store.close());
  store.scheduleTask('poll', '', NOW + 3000, NOW - 60_000);
  const download = store.scheduleTask('download', 'PKG-1', NOW, NOW - 60_000);
  store.updateTask(download.id, { wait: { kind: 'server', until: NOW + 100_000 }, lastError: CUT }, NOW);
  const source = { session: { isOffline: () => false }, store, talks: true };

  const cut = contactState([source], SERVER);
  assert.deepEqual([cut.state, cut.server, cut.problem, cut.retryAt], ['unreachable', '127.0.0.1:8080', CUT, new Date(NOW + 100_000).toISOString()]);

  const poll = store.task('poll')!;
  store.updateTask(poll.id, { lastError: 'the server at 127.0.0.1:8080 refused the connection', nextRun: NOW + 90_000 }, NOW);
  const polled = contactState([source], SERVER);
  assert.equal(polled.problem, 'the server at 127.0.0.1:8080 refused the connection', 'a failed poll says it first');
  assert.equal(polled.retryAt, new Date(NOW + 90_000).toISOString(), 'the earliest retry');
});
