// Whether dist/cli (scripts/build-cli.ts) was built after the last change to every file it was built from,
// as listed in its inputs.json. bin/dockhand.mjs runs the bundle only then; the build skips work then.
import { readFileSync, statSync } from 'node:fs';

/** `root`: the repository, as a file URL ending in '/'. */
export function bundleIsCurrent(root) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('dist/cli/inputs.json', root), 'utf8'));
  } catch {
    return false;
  }
  for (const input of manifest.inputs) {
    const stat = statSync(new URL(input, root), { throwIfNoEntry: false });
    if (!stat || stat.mtimeMs > manifest.builtAt) return false;
  }
  return true;
}
