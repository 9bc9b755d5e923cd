// How the station reports what it read leniently (docs/protocol-decisions.md, "Reception rule"): the parts of
// a server's document it left out, and the words a server put in answers that should have been empty. Each
// distinct note is logged once per session — a server that sends the same odd document every poll must not
// fill the log — and a note never carries raw markup (answer-text.ts makes it one short line).
import type { Ignored } from '../../shared/protocol/types.js';
import type { OutboxRecord } from '../../shared/model/client.js';
import { describeAnswer, documentText } from '../../shared/protocol/index.js';
import type { ClientSession } from './session.js';
import { hostOf } from './dm-http.js';

/** Distinct notes remembered per session; past this, notes are logged again rather than remembered. */
const MAX_REMEMBERED = 2000;
const logged = new WeakMap<ClientSession, Set<string>>();

function firstTime(session: ClientSession, key: string): boolean {
  let seen = logged.get(session);
  if (seen === undefined) logged.set(session, (seen = new Set()));
  if (seen.has(key)) return false;
  if (seen.size < MAX_REMEMBERED) seen.add(key);
  return true;
}

/** Logs `message` unless this session already logged it. */
export function logOnce(session: ClientSession, level: 'info' | 'warn' | 'error', message: string, packageId = ''): void {
  if (firstTime(session, `message ${message}`)) session.log(level, message, packageId);
}

/** Logs, once per session each, what the reader of `document` left out of the server's answer. */
export function logIgnored(session: ClientSession, document: string, ignored: readonly Ignored[] | undefined, packageId = ''): void {
  for (const note of ignored ?? []) {
    if (!firstTime(session, `ignored ${document} ${note.path} ${note.problem}`)) continue;
    session.log('warn', `ignored part of the server's ${document} (${hostOf(session.settings().server)}): ${note.path}: ${note.problem}`, packageId);
  }
}

// Words with which servers say they did not take a message ("Unknown X-Device-Action field: Status").
const REFUSAL = /\b(unknown|unsupported|not supported|not implemented|unrecogni[sz]ed|not understood|invalid|bad request|malformed|error|fail(?:ed|ure)?|refused|denied|not allowed|rejected)\b/i;

/**
 * A status message or report was answered with 2xx and a body. DM servers answer those with an empty body
 * (spec §2.2), so words in it are the server talking: the message stays delivered (a 2xx is a 2xx, and
 * sending it again would not change the server's mind), and the technician is told, with the server's words.
 */
export function noteAnswerText(session: ClientSession, item: Pick<OutboxRecord, 'action' | 'reportType' | 'summary'>, body: Uint8Array): void {
  const text = documentText(body.subarray(0, 64 * 1024));
  if (text.trim() === '') return;
  const words = describeAnswer(text);
  const server = hostOf(session.settings().server);
  const summary = item.summary;
  if (!firstTime(session, `answer ${item.action} ${item.reportType ?? ''} ${words}`)) return;
  if (REFUSAL.test(text.slice(0, 4096))) {
    session.log('warn', `the server ${server} answered the ${summary} with ${words}; it counts as delivered and is not sent ` +
      'again, but the server may not have understood it (check that it handles this kind of message)');
  } else {
    session.log('info', `the server ${server} answered the ${summary} with ${words}`);
  }
}
