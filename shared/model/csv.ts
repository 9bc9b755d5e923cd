// RFC 4180 CSV (quoted where needed, CRLF rows) with a byte-order mark so spreadsheet programs read it as
// UTF-8. Cells that a spreadsheet would run as a formula (=, +, -, @) get a leading apostrophe: exported
// text quotes what servers and devices sent, which must not become a formula on a technician's machine.
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvDocument(rows: string[][]): string {
  return `\ufeff${rows.map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
