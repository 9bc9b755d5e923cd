// The text of a document that arrived as bytes. The protocol is UTF-8 (spec §2.2), but the XML reader on a
// real Windows CE device (MSXML) also reads UTF-16, told by a byte order mark or, without one, by the first
// character in two-byte form (XML 1.0, appendix F) — and a server written on .NET easily sends it
// (XmlDocument.Save with its default writer, Encoding.Unicode). A real client reads such a document, so
// Dockhand reads it too instead of refusing it whole. Everything else is read as UTF-8, a leading BOM dropped.

export type DocumentEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** The encoding the first bytes announce: a byte order mark, or `<` as a two-byte character. */
export function documentEncoding(bytes: Uint8Array): DocumentEncoding {
  const [a, b] = bytes;
  if ((a === 0xff && b === 0xfe) || (a === 0x3c && b === 0x00)) return 'utf-16le';
  if ((a === 0xfe && b === 0xff) || (a === 0x00 && b === 0x3c)) return 'utf-16be';
  return 'utf-8';
}

/**
 * Decodes a document's bytes (the BOM, if any, dropped). With `fatal`, bytes that are not valid in the
 * announced encoding throw a TypeError; without, they read as U+FFFD and the parser says what is wrong.
 */
export function documentText(bytes: Uint8Array, options: { fatal?: boolean } = {}): string {
  return new TextDecoder(documentEncoding(bytes), { fatal: options.fatal ?? false }).decode(bytes);
}
