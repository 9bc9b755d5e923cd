// Reading a PDF the way a person would: rendered by poppler (Debian `poppler-utils`: pdftoppm, pdftotext).
// Its text (with the page breaks), and how much of each page carries ink — a blank page has none.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { screenshotPath } from './browser.js';

function tool(name: string, args: string[]): string {
  const r = spawnSync(name, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${name} is not installed; PDF tests need Debian's poppler-utils (apt-get install -y poppler-utils)`);
  if (r.status !== 0) throw new Error(`${name} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The PDF's text, pages separated by form feeds (\f). */
export function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-pdf-'));
  try {
    writeFileSync(path.join(dir, 'r.pdf'), pdf);
    return tool('pdftotext', ['-layout', path.join(dir, 'r.pdf'), '-']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Renders every page (grey, 50 dpi) and returns the share of non-white pixels per page; keeps the first
 * page as a PNG named `keepAs` with the test's screenshots, for a person to look at.
 */
export function pdfInk(pdf: Buffer, keepAs?: string): number[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockhand-pdf-'));
  try {
    const file = path.join(dir, 'r.pdf');
    writeFileSync(file, pdf);
    tool('pdftoppm', ['-r', '50', '-gray', file, path.join(dir, 'page')]);
    const pages = readdirSync(dir).filter((f) => f.endsWith('.pgm')).sort();
    const ink = pages.map((p) => {
      const img = readFileSync(path.join(dir, p));
      // Binary PGM: "P5", width, height, maxval, each after whitespace, then one byte per pixel.
      const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(img.subarray(0, 64).toString('latin1'))!;
      const pixels = img.subarray(header[0].length);
      let dark = 0;
      for (const v of pixels) if (v < 200) dark += 1;
      return dark / pixels.length;
    });
    if (keepAs) {
      tool('pdftoppm', ['-r', '70', '-png', '-f', '1', '-l', '1', '-singlefile', file, path.join(dir, 'first')]);
      copyFileSync(path.join(dir, 'first.png'), screenshotPath(keepAs));
    }
    return ink;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
