// The main window's size and place, remembered between runs in USERDATA/window-state.json. The file is
// read defensively: a damaged file, absurd numbers, or bounds on a monitor that is no longer attached
// (a laptop undocked from its external screen) fall back to the default size, centred by the OS, so the
// window never opens where nobody can see it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export interface Rect { x: number; y: number; width: number; height: number }

export interface WindowState {
  /** Absent when the OS should choose (first run, or the saved place is off-screen). */
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export const DEFAULT_WINDOW: Readonly<WindowState> = { width: 1200, height: 800, maximized: false };
export const MIN_WIDTH = 640;
export const MIN_HEIGHT = 420;
/** How much of the window must overlap one display's work area to count as visible. */
const VISIBLE_MARGIN = 64;

const coord = z.number().int().min(-100_000).max(100_000);
const size = (min: number) => z.number().int().min(min).max(20_000);
const SavedSchema = z.object({
  x: coord, y: coord, width: size(MIN_WIDTH), height: size(MIN_HEIGHT), maximized: z.boolean(),
});

export const windowStateFile = (userData: string) => path.join(userData, 'window-state.json');

/** True when `bounds` overlaps some work area by at least VISIBLE_MARGIN pixels each way. */
export function isVisibleOn(bounds: Rect, workAreas: readonly Rect[]): boolean {
  return workAreas.some((a) => {
    const w = Math.min(bounds.x + bounds.width, a.x + a.width) - Math.max(bounds.x, a.x);
    const h = Math.min(bounds.y + bounds.height, a.y + a.height) - Math.max(bounds.y, a.y);
    return w >= VISIBLE_MARGIN && h >= VISIBLE_MARGIN;
  });
}

/**
 * The state to open the window with. `warn` hears why a saved file was ignored (never thrown: a bad
 * window-state file must not stop the station from starting).
 */
export function loadWindowState(file: string, workAreas: readonly Rect[], warn: (m: string) => void = () => {}): WindowState {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return { ...DEFAULT_WINDOW }; // first run
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    warn(`window: ignoring ${file}: it is not JSON`);
    return { ...DEFAULT_WINDOW };
  }
  const parsed = SavedSchema.safeParse(json);
  if (!parsed.success) {
    warn(`window: ignoring ${file}: ${parsed.error.issues[0]?.message ?? 'unexpected content'}`);
    return { ...DEFAULT_WINDOW };
  }
  const saved = parsed.data;
  if (!isVisibleOn(saved, workAreas)) {
    warn('window: the saved position is off every screen; opening at the default place');
    return { ...DEFAULT_WINDOW, maximized: saved.maximized };
  }
  return saved;
}

/** Writes the state atomically (temp file + rename) so a crash mid-write leaves the old file intact. */
export function saveWindowState(file: string, bounds: Rect, maximized: boolean): void {
  const state = {
    x: Math.round(bounds.x), y: Math.round(bounds.y),
    width: Math.max(MIN_WIDTH, Math.round(bounds.width)), height: Math.max(MIN_HEIGHT, Math.round(bounds.height)),
    maximized,
  };
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}
