// Words for answers that are not Device Management documents: a captive portal's login page, a proxy's HTML
// error page, a stock server's plain-text complaint ("Unknown X-Device-Action field: Status"). Such bodies
// reach a technician as one short, cleaned line — the page's title and first words — never as raw markup.

/** How much of a body is looked at to describe it; the rest cannot change a one-line summary. */
const LOOK_AT_CHARS = 64 * 1024;
const WORDS_CHARS = 120;

/** True when the text is an HTML page rather than XML: an HTML doctype, or an `<html>`, `<head>` or `<body>` root. */
export function looksLikeHtml(text: string): boolean {
  const head = text.slice(0, 4096).replace(/^\uFEFF/, '');
  return /^\s*(?:<\?xml[^>]*>\s*)?(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html\b|html\b|head\b|body\b)/i.test(head);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeSome(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code >= 0x20 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : ' ';
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Collapses whitespace, drops control characters and shortens to `max` characters with an ellipsis. */
export function oneLine(text: string, max = WORDS_CHARS): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.slice(0, max * 8).replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max).trimEnd()}…` : flat;
}

/** The visible words of an HTML page: its title, then its text, without markup, scripts or styles. */
export function htmlWords(html: string, max = WORDS_CHARS): string {
  const page = html.slice(0, LOOK_AT_CHARS);
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(page)?.[1] ?? '';
  const body = page
    .replace(/<(script|style|head|title|template|noscript)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(/<[^>]*>?/g, ' ');
  const heading = oneLine(decodeSome(title.replace(/<[^>]*>/g, ' ')), max);
  let text = oneLine(decodeSome(body), max * 2);
  // Error pages repeat their title as the first heading: say it once.
  if (heading !== '' && text.startsWith(heading)) text = text.slice(heading.length).trim();
  return oneLine([heading, text].filter((w) => w !== '').join(' — '), max);
}

/**
 * One short line describing a body that was not the expected document: `an HTML page ('Guest Wi-Fi — Please
 * sign in')`, `'Unknown X-Device-Action field: Status'`, or `an empty answer`.
 */
export function describeAnswer(body: string): string {
  if (body.trim() === '') return 'an empty answer';
  if (looksLikeHtml(body)) {
    const words = htmlWords(body);
    return words === '' ? 'an HTML page' : `an HTML page ('${words}')`;
  }
  return `'${oneLine(body)}'`;
}

/**
 * Names an HTML page where a DM document was expected, for a sentence that starts with who said it: "the
 * server dm.example answered with " + `an HTML page, not a Device Management document — a login or captive
 * portal? (first words: 'Guest Wi-Fi — Please sign in')`.
 */
export function htmlPageWords(body: string): string {
  const words = htmlWords(body);
  return 'an HTML page, not a Device Management document — a login or captive portal?' +
    (words === '' ? '' : ` (first words: '${words}')`);
}

/** The problem a parser reports for an HTML page where a DM document was expected. */
export function htmlPageProblem(body: string): string {
  return `the answer is ${htmlPageWords(body)}`;
}
