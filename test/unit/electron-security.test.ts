// The untrusted renderer (architecture §3.3): hardened window preferences, navigation/new windows/webviews
// blocked, permissions denied, only the app's own files loadable, the CSP header added. Electron itself
// cannot run here, so the shell runs against the Electron double (test/helpers/electron-double.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CSP, hardenSession, hardenWebContents, hardenedWebPreferences, isAppUrl, isInsideDir } from '../../electron/main/security.js';
import { createMainWindow } from '../../electron/main/window.js';
import { CONSOLE_CSP } from '../../electron/station/web-console.js';
import { createElectronDouble, FakeWebContents } from '../helpers/electron-double.js';
import { tempDir } from '../helpers/tmp.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
const rendererDir = path.join(path.sep, 'opt', 'Dockhand', 'resources', 'app.asar', 'renderer', 'dist');
const indexFile = path.join(rendererDir, 'index.html');
const indexUrl = pathToFileURL(indexFile).href;

test('the main window is created with sandbox, context isolation, no Node and web security', (t) => {
  const dir = tempDir(t);
  const e = createElectronDouble({ userData: dir, appPath: dir });
  const preload = path.join(dir, 'dist', 'preload.cjs');
  createMainWindow(e.asElectron(), { indexFile, preload, stateFile: path.join(dir, 'window-state.json'), warn: () => {}, saveDelayMs: 0 });
  assert.equal(e.windows.length, 1);
  const prefs = e.windows[0]!.options.webPreferences!;
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.allowRunningInsecureContent, false);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.preload, preload);
  assert.equal(e.windows[0]!.loadedFile, indexFile, 'the UI is loaded from disk, not from a URL');
  assert.deepEqual(hardenedWebPreferences(preload), prefs);
});

test('navigation away from the app page is blocked; moving within it is allowed', () => {
  const warnings: string[] = [];
  const contents = new FakeWebContents();
  hardenWebContents(contents as unknown as Parameters<typeof hardenWebContents>[0], indexFile, (m) => warnings.push(m));
  assert.equal(contents.tryNavigate('https://evil.example/phish'), false);
  assert.equal(contents.tryNavigate('file:///etc/passwd'), false);
  assert.equal(contents.tryNavigate(pathToFileURL(path.join(rendererDir, 'other.html')).href), false);
  assert.equal(contents.tryNavigate('https://evil.example/', 'will-redirect'), false);
  assert.equal(contents.tryNavigate(`${indexUrl}#/devices`), true, 'the same page with a route is ours');
  assert.equal(contents.tryNavigate(`${indexUrl}?view=queue`), true);
  assert.equal(warnings.filter((w) => w.includes('blocked')).length, 4);
});

test('window.open and <webview> are refused', () => {
  const warnings: string[] = [];
  const contents = new FakeWebContents();
  hardenWebContents(contents as unknown as Parameters<typeof hardenWebContents>[0], indexFile, (m) => warnings.push(m));
  assert.deepEqual(contents.windowOpenHandler!({ url: 'https://example.com/', frameName: '' }), { action: 'deny' });
  assert.deepEqual(contents.windowOpenHandler!({ url: indexUrl, frameName: '' }), { action: 'deny' }, 'even our own page gets no second window');
  let prevented = false;
  contents.emit('will-attach-webview', { preventDefault: () => { prevented = true; } }, {}, {});
  assert.equal(prevented, true);
  assert.ok(warnings.some((w) => w.includes('new window for https://example.com/')));
});

test('the session denies every permission, loads only the renderer folder, and adds the CSP header', async (t) => {
  const dir = tempDir(t);
  const e = createElectronDouble({ userData: dir, appPath: dir });
  const warnings: string[] = [];
  hardenSession(e.session.defaultSession as unknown as Parameters<typeof hardenSession>[0], rendererDir, (m) => warnings.push(m));
  const s = e.session.defaultSession;

  for (const permission of ['media', 'geolocation', 'notifications', 'serial', 'usb', 'openExternal']) {
    const granted = await new Promise<boolean>((resolve) => s.permissionRequestHandler!({}, permission, resolve, {}));
    assert.equal(granted, false, permission);
  }
  assert.equal(s.permissionCheckHandler!({}, 'usb', 'file://', {}), false);

  const cancelled = (url: string) => new Promise<boolean>((resolve) => s.beforeRequest!({ url }, (r) => resolve(r.cancel === true)));
  assert.equal(await cancelled(indexUrl), false);
  assert.equal(await cancelled(pathToFileURL(path.join(rendererDir, 'assets', 'index-abc.js')).href), false);
  assert.equal(await cancelled('data:image/png;base64,AAAA'), false);
  assert.equal(await cancelled('https://cdn.example.com/x.js'), true, 'no network for the renderer');
  assert.equal(await cancelled('ws://127.0.0.1:8080/api'), true);
  assert.equal(await cancelled('file:///etc/passwd'), true, 'no files outside the renderer folder');
  assert.equal(await cancelled(`${pathToFileURL(rendererDir).href}/../../../../../etc/passwd`), true);
  assert.ok(warnings.some((w) => w.includes('cdn.example.com')));

  const headers = await new Promise<Record<string, string[]>>((resolve) =>
    s.headersReceived!({ url: 'https://x/', responseHeaders: { 'Content-Type': ['text/html'] } }, (r) => resolve(r.responseHeaders!)));
  assert.deepEqual(headers['Content-Security-Policy'], [CSP]);
  assert.deepEqual(headers['Content-Type'], ['text/html']);
});

test('the CSP allows only the app itself', () => {
  for (const rule of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
    assert.ok(CSP.includes(rule), rule);
  }
  assert.doesNotMatch(CSP, /unsafe-inline|unsafe-eval|\*|https?:/);
});

test("the renderer's <meta> CSP and the web console's header are the app's CSP", () => {
  const html = readFileSync(path.join(repo, 'renderer', 'index.html'), 'utf8');
  const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html);
  assert.ok(meta, 'renderer/index.html declares a CSP');
  // frame-ancestors is ignored in a <meta> (it only works as a header), so the page leaves it out.
  const withoutFrameAncestors = CSP.split('; ').filter((d) => !d.startsWith('frame-ancestors')).join('; ');
  assert.equal(meta[1], withoutFrameAncestors);
  assert.equal(CONSOLE_CSP, CSP);
});

test('app URLs: only file: URLs of exactly the index page count', () => {
  assert.equal(isAppUrl(indexUrl, indexFile), true);
  assert.equal(isAppUrl(`${indexUrl}#x`, indexFile), true);
  assert.equal(isAppUrl(indexUrl.replace('file:///', 'file://evil-host/'), indexFile), false);
  assert.equal(isAppUrl(indexUrl.replace('file:', 'https:'), indexFile), false);
  assert.equal(isAppUrl('not a url', indexFile), false);
  assert.equal(isAppUrl('', indexFile), false);
  const spaced = path.join(path.sep, 'opt', 'Dock hand', 'index.html');
  assert.equal(isAppUrl('file:///opt/Dock%20hand/index.html', spaced), true, 'compared decoded, as paths');
  assert.equal(isAppUrl('file:///opt/Dock%20hand/../Dock%20hand/index.html', spaced), true);
  assert.equal(isInsideDir(pathToFileURL(path.join(rendererDir, 'a', 'b.css')).href, rendererDir), true);
  assert.equal(isInsideDir(pathToFileURL(rendererDir).href, rendererDir), false, 'the folder itself is not a file in it');
  assert.equal(isInsideDir(pathToFileURL(`${rendererDir}-evil/x.js`).href, rendererDir), false);
});
