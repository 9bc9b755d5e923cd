// §10 Download Event Status (`Status`, device → server): 11030 starting, 11031/11032 download result,
// 11035 executed, and Dockhand's private 20035 "execution failed or refused" (spec A9).
import type { Status, StatusMessage } from './types.js';
import { El, openDocument } from './element.js';
import { parseUint32, formatDecimal } from './numbers.js';
import { ProtocolError } from './errors.js';
import { el, need, serialize, textEl } from './writer.js';
import type { ParseOptions } from './xml.js';

const DOC = 'Status';

/**
 * The printed schema leaves the StatusMessage start tag open before its first Parameter (errata 8). A sender
 * that copied it writes `<StatusMessage a="…" b="…"\n <Parameter …>`; this closes such a tag and nothing
 * else (a well-formed start tag always ends in `>` before the next `<`, so it never matches one).
 */
export function repairStatusStartTags(xml: string): string {
  return xml.replace(/<StatusMessage((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'))*)\s*(?=<)/g, '<StatusMessage$1>');
}

export function parseStatus(xml: string, options?: ParseOptions): Status {
  return readStatus(openDocument(repairStatusStartTags(xml), DOC, options));
}

export function readStatus(root: El): Status {
  const messages: StatusMessage[] = [];
  // Walk in document order: a Parameter written as a sibling after a self-closed StatusMessage (another way
  // of "fixing" the broken schema) belongs to the message before it.
  const items = root.all('StatusMessage', 'Parameter');
  for (const item of items) {
    if (item.name === 'StatusMessage') {
      messages.push({
        packageID: item.requireAttr('packageID'),
        messageID: item.readAttr('messageID', parseUint32) ?? item.fail('missing required attribute messageID'),
        // Informational and device-local (spec A9); real CE clients send it empty, so it is kept as written.
        timestamp: item.attr('timestamp') ?? '',
        Parameters: item.all('Parameter').map(readParameter),
      });
    } else {
      const last = messages[messages.length - 1] ?? item.fail('a <Parameter> comes before any <StatusMessage>');
      last.Parameters.push(readParameter(item));
    }
  }
  if (messages.length === 0) root.fail('no <StatusMessage> element');
  return { StatusMessages: messages };
}

function readParameter(p: El): { name: string; value: string } {
  return { name: p.requireAttr('name'), value: p.text() };
}

export function buildStatus(v: Status): string {
  if (v.StatusMessages.length === 0) throw new ProtocolError(DOC, `/${DOC}`, 'there must be at least one status message');
  return serialize(el(DOC, [], ...v.StatusMessages.map((m, i) => el('StatusMessage', [
    ['packageID', need(m.packageID, DOC, `/${DOC}/StatusMessage[${i + 1}]/@packageID`)],
    ['messageID', formatDecimal(m.messageID, DOC, `/${DOC}/StatusMessage[${i + 1}]/@messageID`, 0xffffffff)],
    ['timestamp', m.timestamp],
  ], ...m.Parameters.map((p, j) => textEl('Parameter', p.value,
    [['name', need(p.name, DOC, `/${DOC}/StatusMessage[${i + 1}]/Parameter[${j + 1}]/@name`)]]))))),
  { declaration: true, namespace: true });
}
