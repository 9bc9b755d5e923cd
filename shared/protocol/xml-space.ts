// XML white space (space, tab, CR, LF: XML 1.0 §2.3) around a value, trimmed by index scans. A regular
// expression such as /[ \t\r\n]+$/ backtracks over every inner run of blanks from each of its starts, which
// is quadratic: 80,000 spaces inside a value took 12 s. No-break and other Unicode spaces are data.

const isXmlSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The text without XML white space at either end; linear in the length of the text. */
export function trimXml(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isXmlSpace(text.charCodeAt(start))) start += 1;
  while (end > start && isXmlSpace(text.charCodeAt(end - 1))) end -= 1;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}
