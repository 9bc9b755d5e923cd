// A transfer whose every byte has arrived is finished whatever its last event said: the station sends a
// final progress event at 100% and may not send another, so "active at 100%" is read as done.
import type { Transfer } from '../../../shared/contract/station-api.js';

export function shownState(t: Transfer): Transfer['state'] {
  return t.state === 'active' && t.total !== null && t.bytesDone >= t.total ? 'done' : t.state;
}
