// A real browser for UI tests: Debian's Chromium driven by playwright-core, headless, kept off the network,
// with a fresh profile per test (removed afterwards). Also: building the renderer once when its sources are
// newer than renderer/dist (the web console serves that folder), starting a station with its web console,
// and where screenshots go (kept with the test output so a person can look at them).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startDockhand, type Proc } from './processes.js';
import { waitFor } from './tmp.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
export const CHROMIUM = process.env.DOCKHAND_CHROMIUM ?? '/usr/bin/chromium';
const OFFLINE_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((name) => newestMtime(path.join(p, name))));
}

function rendererIsFresh(): boolean {
  const built = path.join(repo, 'renderer', 'dist', 'index.html');
  if (!existsSync(built)) return false;
  const sources = ['renderer/src', 'renderer/index.html', 'renderer/vite.config.ts', 'shared/contract'].map((p) => newestMtime(path.join(repo, p)));
  return statSync(built).mtimeMs >= Math.max(...sources);
}

/**
 * Builds renderer/dist when it is missing or older than its sources. Test files run in parallel, so the
 * build holds a lock directory; a lock older than two minutes is a crashed build's and is taken over.
 */
export async function ensureRendererBuilt(): Promise<void> {
  if (rendererIsFresh()) return;
  const lock = path.join(os.tmpdir(), `dockhand-renderer-build-${Buffer.from(repo).toString('hex').slice(-24)}.lock`);
  await waitFor('the renderer build lock', () => {
    try {
      mkdirSync(lock);
      return true;
    } catch {
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      return false;
    }
  }, 180_000, 100);
  try {
    if (rendererIsFresh()) return;
    const vite = path.join(repo, 'node_modules', 'vite', 'bin', 'vite.js');
    const r = spawnSync(process.execPath, [vite, 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: repo, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build:renderer failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** `dockhand station … --ui`, waiting for the console's address. */
export async function startStationUi(t: { after(fn: () => unknown): void }, args: string[]): Promise<{ proc: Proc; url: string }> {
  await ensureRendererBuilt();
  const proc = startDockhand(t, ['station', ...args, '--ui']);
  const m = await waitFor('the station to print its web console address', () => {
    if (proc.child.exitCode !== null) throw new Error(`the station exited (${proc.child.exitCode}): ${proc.err()}${proc.out()}`);
    return /web console: (http:\/\/\S+)/.exec(proc.out());
  }, 60_000);
  return { proc, url: m[1]! };
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Page errors, console errors and CSP violations seen so far. */
  problems(): string[];
  /** Saves a screenshot named `name` (see screenshotPath). */
  shoot(name: string): Promise<void>;
  /**
   * Runs the test's steps; when one fails, the page is saved as `failed-<test name>` first, while the
   * station is still running (after-hooks stop it before they could take the picture).
   */
  steps(fn: () => Promise<void>): Promise<void>;
}

/** Opens the console (1024×700 unless told) in a fresh headless Chromium profile; closed when the test ends. */
export async function openConsole(t: { name: string; after(fn: () => unknown): void }, url: string,
  opts: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } } = {}): Promise<ConsolePage> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing; UI tests need Debian's chromium (apt-get install -y chromium)`);
  // The profile goes only after Chromium has closed (after-hooks run in the order they were added).
  const profile = mkdtempSync(path.join(os.tmpdir(), 'dockhand-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: OFFLINE_FLAGS, viewport: opts.viewport ?? { width: 1024, height: 700 },
      colorScheme: opts.colorScheme ?? 'light', acceptDownloads: true, locale: 'en-GB', timezoneId: 'UTC',
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  await page.goto(url);
  const shoot = async (name: string) => {
    await page.screenshot({ path: screenshotPath(name) });
  };
  const steps = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      await shoot(`failed-${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`).catch(() => undefined);
      throw err;
    }
  };
  return { page, context, problems: () => [...problems], shoot, steps };
}

/** Where a screenshot named `name` is kept: DOCKHAND_TEST_OUTPUT (or .test-output)/screenshots/NAME.png. */
export function screenshotPath(name: string): string {
  const dir = path.join(process.env.DOCKHAND_TEST_OUTPUT ?? path.join(repo, '.test-output'), 'screenshots');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}

// The tests type-check without the DOM library (they run in Node); these read the page through
// Playwright with the few DOM shapes spelled out.
type StyleWindow = { getComputedStyle(el: unknown): Record<string, string> };

/** One computed CSS property of the first element a locator matches. */
export function computedStyle(locator: Locator, property: string): Promise<string> {
  return locator.first().evaluate((el, p) => (globalThis as unknown as StyleWindow).getComputedStyle(el)[p] ?? '', property);
}

/** The current value of a <progress> (0 when it is gone or indeterminate). */
export async function progressValue(locator: Locator): Promise<number> {
  return locator.first().evaluate((el) => (el as { value: number }).value).catch(() => 0);
}

/** An attribute of the element that has the keyboard focus (null when none has it, or it lacks one). */
export function focusedAttribute(page: Page, name: string): Promise<string | null> {
  return page.evaluate(`document.activeElement?.getAttribute(${JSON.stringify(name)}) ?? null`);
}
