// Draws Dockhand's icon (a handheld device standing in its cradle, on a teal tile) and writes every
// format the installers and the shell need. The images are checked in; run this again only to change
// the drawing: `node bin/run-ts.mjs scripts/make-icons.ts`.
//   build/icons/icon.png (512)         source for electron-builder (dmg/AppImage; mac converts it)
//   build/icons/icon.ico               Windows: 16, 24, 32, 48, 64, 128, 256 (PNG-compressed entries)
//   build/icons/icon.icns              macOS: 128, 256, 512 (PNG entries)
//   build/icons/png/NxN.png            Linux icon set
//   resources/tray/tray.png, @2x       tray icon (Windows, Linux)
//   resources/tray/trayTemplate.png    macOS menu-bar template (black + alpha, the OS tints it)
//   resources/tray/app.png (256)       window and notification icon
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

type Rgba = [number, number, number, number];

/** Signed distance to a rounded rectangle centred at (cx, cy) with half-size (hw, hh) and radius r. */
function roundRect(x: number, y: number, cx: number, cy: number, hw: number, hh: number, r: number): number {
  const qx = Math.abs(x - cx) - hw + r;
  const qy = Math.abs(y - cy) - hh + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}

/** The drawing in unit coordinates (0..1): which colour a point has, or null for transparent. */
function shade(x: number, y: number, mono: boolean): Rgba | null {
  const ink: Rgba = mono ? [0, 0, 0, 255] : [255, 255, 255, 255];
  const tile = roundRect(x, y, 0.5, 0.5, 0.46, 0.46, 0.1);
  if (!mono && tile > 0) return null;
  const device = roundRect(x, y, 0.5, 0.4, 0.15, 0.25, 0.05);
  const screen = roundRect(x, y, 0.5, 0.36, 0.1, 0.15, 0.02);
  const cradle = Math.min(
    roundRect(x, y, 0.5, 0.74, 0.3, 0.05, 0.03), // base
    roundRect(x, y, 0.24, 0.64, 0.04, 0.12, 0.03), // left arm
    roundRect(x, y, 0.76, 0.64, 0.04, 0.12, 0.03), // right arm
  );
  if (screen < 0) return mono ? null : [31, 111, 139, 255];
  if (device < 0 || cradle < 0) return ink;
  if (mono) return null;
  const t = y; // a gentle vertical gradient on the tile
  return [Math.round(24 + 20 * t), Math.round(130 - 40 * t), Math.round(160 - 40 * t), 255];
}

/** Renders at `size` pixels with 4×4 supersampling for smooth edges. */
function render(size: number, mono = false): Buffer {
  const px = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const c = shade((i + (sx + 0.5) / n) / size, (j + (sy + 0.5) / n) / size, mono);
          if (!c) continue;
          r += c[0] * c[3]; g += c[1] * c[3]; b += c[2] * c[3]; a += c[3];
        }
      }
      const o = (j * size + i) * 4;
      if (a > 0) {
        px[o] = Math.round(r / a); px[o + 1] = Math.round(g / a); px[o + 2] = Math.round(b / a);
        px[o + 3] = Math.round(a / (n * n));
      }
    }
  }
  return px;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function encodePng(size: number, rgba: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const png = (size: number, mono = false) => encodePng(size, render(size, mono));

function ico(sizes: number[]): Buffer {
  const images = sizes.map((s) => png(s));
  const header = Buffer.alloc(6 + 16 * sizes.length);
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(sizes.length, 4);
  let offset = header.length;
  sizes.forEach((s, k) => {
    const e = 6 + 16 * k;
    header[e] = s >= 256 ? 0 : s; // 0 means 256
    header[e + 1] = s >= 256 ? 0 : s;
    header.writeUInt16LE(1, e + 4); // planes
    header.writeUInt16LE(32, e + 6); // bits per pixel
    header.writeUInt32LE(images[k]!.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += images[k]!.length;
  });
  return Buffer.concat([header, ...images]);
}

function icns(entries: Array<[string, number]>): Buffer {
  const parts = entries.map(([type, size]) => {
    const data = png(size);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

export function makeIcons(root: string): string[] {
  const written: string[] = [];
  const put = (rel: string, data: Buffer) => {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data);
    written.push(rel);
  };
  put('build/icons/icon.png', png(512));
  for (const s of [16, 32, 48, 64, 128, 256, 512]) put(`build/icons/png/${s}x${s}.png`, png(s));
  put('build/icons/icon.ico', ico([16, 24, 32, 48, 64, 128, 256]));
  put('build/icons/icon.icns', icns([['ic07', 128], ['ic08', 256], ['ic09', 512]]));
  put('resources/tray/tray.png', png(32));
  put('resources/tray/tray@2x.png', png(64));
  put('resources/tray/trayTemplate.png', png(16, true));
  put('resources/tray/trayTemplate@2x.png', png(32, true));
  put('resources/tray/app.png', png(256));
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  for (const f of makeIcons(path.resolve(import.meta.dirname, '..'))) process.stdout.write(`wrote ${f}\n`);
}
