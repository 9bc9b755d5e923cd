// The board's density and manners in a real browser (Debian's Chromium) with the real renderer and the real
// web console, fed by a station double (FixedStation: the layout is under test here; the verdicts are made
// by the real verdict module from invented facts, and a real station drives test/ui/console-board.test.ts).
// 16 devices fit a 1024×700 window and 32 a 1920×1080 one without scrolling; failures come first; the
// filter, the keyboard and the detail dialog work; screenshots in light and dark at both sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startWebConsole } from '../../electron/station/web-console.js';
import { rendererDist } from '../../electron/station/cli.js';
import { benchSnapshot, FixedStation } from '../helpers/board-fixtures.js';
import { ensureRendererBuilt, focusedAttribute, openConsole } from '../helpers/browser.js';

async function boardOf(t: { after(fn: () => unknown): void }, n: number) {
  await ensureRendererBuilt();
  const station = new FixedStation(benchSnapshot(n));
  const ui = await startWebConsole(station, { staticDir: rendererDist() });
  t.after(() => ui.close());
  return { station, url: ui.url };
}

/** Every tile lies inside the window, and the view does not scroll. */
async function assertAllVisible(page: Page, n: number, size: { width: number; height: number }) {
  const tiles = page.locator('li.tile');
  await tiles.nth(n - 1).waitFor();
  assert.equal(await tiles.count(), n);
  for (let i = 0; i < n; i += 1) {
    const box = (await tiles.nth(i).boundingBox())!;
    assert.ok(box.y >= 0 && box.y + box.height <= size.height && box.x + box.width <= size.width,
      `tile ${i + 1} of ${n} lies inside ${size.width}×${size.height} (it spans y ${box.y.toFixed(0)}–${(box.y + box.height).toFixed(0)})`);
  }
  const scroll = await page.locator('main.content').evaluate((el) => ({ h: (el as { scrollHeight: number }).scrollHeight, c: (el as { clientHeight: number }).clientHeight }));
  assert.ok(scroll.h <= scroll.c, `the board does not scroll (${scroll.h} > ${scroll.c})`);
}

for (const [n, size] of [[16, { width: 1024, height: 700 }], [32, { width: 1920, height: 1080 }]] as const) {
  test(`${n} devices fit a ${size.width}×${size.height} window without scrolling, failures first, light and dark`, async (t) => {
    const { url } = await boardOf(t, n);
    for (const scheme of ['light', 'dark'] as const) {
      const ui = await openConsole(t, url, { colorScheme: scheme, viewport: size });
      await ui.steps(async () => {
        await assertAllVisible(ui.page, n, size);
        const order = await ui.page.locator('li.tile').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { verdict: string } }).dataset.verdict));
        const rank = { failed: 0, undocked: 1, waiting: 2, working: 3, done: 4 } as Record<string, number>;
        assert.deepEqual(order, [...order].sort((a, b) => rank[a]! - rank[b]!), 'failures first, then undocked, waiting, working, done');
        assert.equal(order[0], 'failed');
        await ui.shoot(`board-${n}-${size.width}x${size.height}-${scheme}`);
        assert.deepEqual(ui.problems(), []);
      });
    }
  });
}

test('the board by keyboard: filter by verdict, arrows between tiles, Enter opens the detail, Escape returns to the tile', async (t) => {
  const { url } = await boardOf(t, 16);
  const ui = await openConsole(t, url);
  const { page } = ui;
  await ui.steps(async () => {
    await page.locator('li.tile').nth(15).waitFor();
    // Every tile's accessible name carries where, who and the verdict in words.
    const failed = page.getByRole('article', { name: /^Slot 4, scanner-44: Failed: Scanner firmware 7\.0, command: the command exited with code 3$/ });
    await failed.waitFor();
    await page.getByRole('radio', { name: /^Failed/ }).click();
    assert.equal(await page.locator('li.tile').count(), 1);
    await page.keyboard.press('ArrowRight'); // the radio group: arrows move the choice
    assert.equal(await page.getByRole('radio', { name: /^Undocked/ }).getAttribute('aria-checked'), 'true');
    assert.deepEqual(await page.locator('li.tile').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { verdict: string } }).dataset.verdict)), ['undocked']);
    await page.getByRole('radio', { name: /^All/ }).click();
    assert.equal(await page.locator('li.tile').count(), 16);

    await page.locator('button.tile-open').first().focus();
    await page.keyboard.press('ArrowRight');
    const second = await page.locator('button.tile-open').nth(1).innerText();
    assert.equal(await page.evaluate('document.activeElement.innerText'), second);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: /scanner-44/ });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Next step:[\s\S]*Scanner firmware 7\.0[\s\S]*Failed[\s\S]*3/);
    const dir = path.join(process.env.DOCKHAND_TEST_OUTPUT ?? '.test-output', 'screenshots');
    mkdirSync(dir, { recursive: true });
    await ui.shoot('board-detail-failed-light');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await focusedAttribute(page, 'class'), 'tile-open', 'focus returns to the tile');
    assert.deepEqual(ui.problems(), []);
  });
});
