// The renderer is untrusted (architecture §3.3). Everything here narrows what a page in our window can do:
// hardened webPreferences, one strict Content-Security-Policy, no navigation away from the app's own
// index.html, no new windows, no <webview>, no permissions, and no network requests at all — the renderer
// reaches the station only through the preload's IPC, so any http(s)/ws request is a sign of injected code.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Session, WebContents, WebPreferences } from 'electron';

/**
 * The one CSP of the app (the same as the web console's). Also written as a <meta http-equiv> in
 * renderer/index.html, because responses for file:// pages carry no headers to rewrite; the header covers
 * every response that has them. (frame-ancestors only works as a header; the meta tag leaves it out.)
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export type Warn = (message: string) => void;

/** The preferences of every window we open; nothing in the renderer gets Node or a relaxed sandbox. */
export function hardenedWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

/** The local file a file: URL names (no host: a UNC share is never ours), or null. */
function localFile(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'file:' || parsed.host !== '') return null;
    return path.resolve(fileURLToPath(parsed));
  } catch {
    return null;
  }
}

/** Paths compared as the OS does: Windows and macOS file systems ignore case by default. */
const samePath = (a: string, b: string) =>
  process.platform === 'linux' ? a === b : a.toLowerCase() === b.toLowerCase();

/**
 * True when `url` is the app's own page: a file: URL naming exactly index.html (a #hash or ?query the UI
 * uses for its own routing is fine). Compared as decoded paths, because Chromium and Node percent-encode
 * file URLs differently (spaces in "Program Files", drive letters).
 */
export function isAppUrl(url: string, indexFile: string): boolean {
  const file = localFile(url);
  return file !== null && samePath(file, path.resolve(indexFile));
}

/** True for a file: URL inside `dir` (the renderer's build folder), after resolving `..` segments. */
export function isInsideDir(url: string, dir: string): boolean {
  const file = localFile(url);
  if (file === null) return false;
  const rel = path.relative(path.resolve(dir), file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Locks down one webContents: navigation only to the app's own index.html, redirects refused, new windows
 * denied, <webview> refused. Applied to every webContents the app creates (app 'web-contents-created').
 */
export function hardenWebContents(contents: WebContents, indexFile: string, warn: Warn): void {
  const guard = (what: string) => (event: { preventDefault(): void }, url: string) => {
    if (isAppUrl(url, indexFile)) return;
    event.preventDefault();
    warn(`security: blocked ${what} to ${url}`);
  };
  contents.on('will-navigate', guard('navigation'));
  contents.on('will-redirect', guard('redirect'));
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    warn('security: blocked a <webview>');
  });
  contents.setWindowOpenHandler(({ url }) => {
    warn(`security: blocked a new window for ${url}`);
    return { action: 'deny' };
  });
}

/**
 * Session-wide rules: every permission request and check answered "no", only the renderer's own files
 * (and data: images) may load, and the CSP header added to every response that has headers.
 */
export function hardenSession(session: Session, rendererDir: string, warn: Warn): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    warn(`security: denied the permission '${permission}'`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => {
    const ok = isInsideDir(details.url, rendererDir) || details.url.startsWith('data:') ||
      details.url.startsWith('devtools:');
    if (!ok) warn(`security: blocked a request for ${details.url.slice(0, 200)}`);
    callback({ cancel: !ok });
  });
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
}
