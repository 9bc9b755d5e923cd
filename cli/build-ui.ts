// The built UI (renderer/dist) for the headless console: built on first need, as `npm start` and
// `dockhand station --ui` both do, so a fresh checkout serves its console without a separate step.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const RENDERER_DIST = path.join(REPO_ROOT, 'renderer', 'dist');

/** Builds the UI into `dir` when its index.html is missing; returns what went wrong, or null. */
export function ensureUiBuilt(dir: string, say: (line: string) => void): string | null {
  if (existsSync(path.join(dir, 'index.html'))) return null;
  say('building the UI (npm run build:renderer)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['run', '--silent', 'build:renderer'], { cwd: REPO_ROOT, stdio: ['ignore', 2, 2], shell: process.platform === 'win32' });
  if (r.status !== 0 || !existsSync(path.join(dir, 'index.html'))) {
    return `the UI is not built and \`npm run build:renderer\` failed (${r.error ? r.error.message : `exit ${r.status}`}); fix the build and run again`;
  }
  return null;
}
