// The live page in headless Chromium against the server on a real socket, fed
// by the demo feeder through the in-process bus: it loads, its scores rise, the
// detail view shows one emoji's tweets only, and it rides out a server restart.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page, Request } from 'playwright-core';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStreamer } from '../../src/app.js';
import { builtInProtocols } from '../../src/protocols/builtInProtocols.js';
import type { Streamer } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { demoFeed } from '../../src/protocols/emojitrack/demoFeed.js';
import { expectContrast } from '../support/contrast.js';
import { launchBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const WAIT = { timeout: 15_000 };

const bus = new MemoryBus();
let feeding: Subscription;
let streamer: Streamer;
let port = 0;
let url = '';
let browser: TestBrowser;
let page: Page;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];

const feed = () => demoFeed({ rate: 200 }).subscribe((p) => bus.publish(p.channel, p.payload));

async function startServer(onPort: number): Promise<void> {
  const config = loadConfig({
    PORT: String(onPort),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
  });
  streamer = createStreamer({
    config,
    source: bus,
    protocols: builtInProtocols({ emojitrack: { keepScores: true } }),
  });
  port = (await streamer.listen()).port;
  url = `http://127.0.0.1:${port}/`;
}

// Code that runs in the page is passed as expressions: the project's types
// describe Node, not the DOM.
const inPage = <T>(p: Page, expression: string) => p.evaluate<T>(expression);
const until = (p: Page, expression: string, timeout = WAIT.timeout) =>
  p.waitForFunction(expression, undefined, { timeout });

const total = async (p: Page) => Number((await p.getAttribute('#board', 'data-total')) ?? 0);
const detailId = (p: Page) => p.getAttribute('dialog#detail', 'data-id');
const detailOpen = async (p: Page) => (await p.getAttribute('dialog#detail', 'open')) !== null;
const stateIs = (p: Page, text: string, timeout?: number) =>
  until(
    p,
    `document.getElementById('state-text').textContent === ${JSON.stringify(text)}`,
    timeout,
  );

async function waitForTotalAbove(p: Page, floor: number): Promise<number> {
  await until(p, `Number(document.getElementById('board').dataset.total ?? 0) > ${floor}`);
  return total(p);
}

/** The live page's kinds of text, whose contrast the page keeps at 4.5:1 or more. */
const LIVE_PAGE_TEXT = [
  'h1',
  'h1 .sub',
  '.lede',
  '#state-text',
  '.figures dt',
  '.figures dd',
  '.toolbar h2',
  '#hold-order',
  '.cell .rank',
  '.cell .score',
  '.foot',
  '.foot a',
];

function tweet(text: string): string {
  return JSON.stringify({
    id: '1',
    text,
    screen_name: 'marker',
    name: 'Marker Test',
    links: [],
    profile_image_url: '',
    created_at: new Date().toUTCString(),
  });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  feeding = feed();
  await startServer(0);
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await streamer?.close();
  feeding?.unsubscribe();
});

describe('the live page', () => {
  it('is served at / with its scripts and styles, and goes live', async () => {
    const res = await page.goto(url);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.title()).toContain('rx-streamer');
    await stateIs(page, 'Live');
    await page.waitForSelector('#board button[data-id]', WAIT);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('shows the scores rising while the feeder runs', async () => {
    const first = await waitForTotalAbove(page, 0);
    const later = await waitForTotalAbove(page, first + 100);
    expect(later).toBeGreaterThan(first);
    // The rate is a per-second figure: on a busy machine a second can pass with a
    // late tick, so wait for it rather than read it once.
    await page.waitForFunction(
      "Number(document.getElementById('rate-updates')?.textContent?.replace(/\\D/g, '')) > 0",
      undefined,
      WAIT,
    );
    await page.screenshot({ path: `${ARTIFACTS}live-page.png` });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: `${ARTIFACTS}live-page-dark.png` });
    await page.emulateMedia({ colorScheme: 'light' });

    // Once the feeder pauses and the page has re-ranked, the grid is in score order.
    feeding.unsubscribe();
    await page.waitForTimeout(1_500);
    const scores = await inPage<number[]>(
      page,
      `[...document.querySelectorAll('#board button[data-id]')].map((c) => Number(c.dataset.score))`,
    );
    feeding = feed();
    expect(scores.length).toBeGreaterThan(10);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('flashes updates, except when reduced motion is asked for', async () => {
    const flashing = `[...document.querySelectorAll('#board .cell')].filter((c) =>
      getComputedStyle(c, '::after').animationName.startsWith('flash')).length`;
    await until(page, `${flashing} > 0`);
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await inPage<number>(page, flashing)).toBe(0);
    await page.emulateMedia({ reducedMotion: null });
  });

  it('keeps text at a contrast of 4.5:1 or more, light and dark', async () => {
    // Measured at rest: the flashes would change the colours under the probe.
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await expectContrast(page, LIVE_PAGE_TEXT);
    await page.emulateMedia({ reducedMotion: null });
  });

  it('starts a new visitor from the snapshot, not from zeros', async () => {
    const other = await browser.newPage();
    try {
      const snapshot = other.waitForResponse((r) => r.url().endsWith('/api/scores'), WAIT);
      await other.goto(url);
      const body = (await (await snapshot).json()) as { id: string; score: number }[];
      expect(body.length).toBeGreaterThan(10);
      const sum = body.reduce((s, e) => s + e.score, 0);
      await waitForTotalAbove(other, sum - 1);
      const cells = await other.locator('#board button[data-id]').count();
      expect(cells).toBeGreaterThanOrEqual(body.length);
    } finally {
      await other.close();
    }
  });

  it('fits a phone screen', async () => {
    const phone = await browser.newPage();
    try {
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(url);
      await waitForTotalAbove(phone, 0);
      const overflow = await inPage<number>(
        phone,
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await phone.screenshot({ path: `${ARTIFACTS}live-page-phone.png` });
    } finally {
      await phone.close();
    }
  });

  it('opens the detail view of a clicked emoji, with its tweets only', async () => {
    await page.click('#board button[data-id="1F602"]');
    await expect.poll(() => detailId(page), WAIT).toBe('1F602');
    expect(await detailOpen(page)).toBe(true);
    await until(page, `document.getElementById('detail').dataset.state === 'live'`);
    // Record every tweet the view shows, however fast its list scrolls.
    await inPage(
      page,
      `window.seen = [];
      new MutationObserver((records) => {
        for (const r of records)
          for (const n of r.addedNodes) window.seen.push(n.querySelector('.text').textContent);
      }).observe(document.getElementById('tweets'), { childList: true });`,
    );
    bus.publish('stream.tweet_updates.2665', tweet('MARKER-OTHER ♥'));
    bus.publish('stream.tweet_updates.1F6021', tweet('MARKER-PREFIX'));
    bus.publish('stream.tweet_updates.1F602', tweet('MARKER-MINE 😂'));
    await until(page, `window.seen.some((t) => t.includes('MARKER-MINE'))`);
    await until(page, 'window.seen.length >= 5');
    const seen = await inPage<string[]>(page, 'window.seen');
    expect(seen.filter((t) => /MARKER-(OTHER|PREFIX)/.test(t))).toEqual([]);
    // Every demo tweet carries the emoji it was published for.
    for (const text of seen) expect(text).toContain('😂');
    expect(streamer.hub.clientCount('details')).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}live-page-detail.png` });

    // Closing tells the server too, with the token the stream was opened with.
    const beacon = page.waitForRequest((r) => r.url().includes('/subscribe/cleanup/'), WAIT);
    await page.click('#detail-close');
    expect(await detailOpen(page)).toBe(false);
    const request = await beacon;
    expect(request.method()).toBe('POST');
    expect(request.url()).toMatch(/\/subscribe\/cleanup\/details\/1F602\?cleanup=[0-9a-f]{32}$/);
    await expect.poll(() => streamer.hub.clientCount('details'), WAIT).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('works from the keyboard: Enter and Space open, Escape closes, focus returns', async () => {
    const cell = page.locator('#board button[data-id="2665"]');
    for (const key of ['Enter', ' ']) {
      await cell.focus();
      await page.keyboard.press(key);
      await expect.poll(() => detailId(page), WAIT).toBe('2665');
      await page.keyboard.press('Escape');
      await expect.poll(() => detailOpen(page), WAIT).toBe(false);
      expect(await inPage(page, `document.activeElement.getAttribute('data-id')`)).toBe('2665');
    }
    await expect.poll(() => streamer.hub.clientCount('details'), WAIT).toBe(0);
  });

  it('says when the server is gone, and recovers by itself when it returns', async () => {
    const snapshots: Request[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/scores')) snapshots.push(r);
    });
    await streamer.close();
    await stateIs(page, 'Reconnecting…');
    expect(await page.isVisible('#notice')).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}live-page-reconnecting.png` });

    await startServer(port);
    // The browser's own retry interval decides when; give it room.
    await stateIs(page, 'Live', 30_000);
    expect(await page.isVisible('#notice')).toBe(false);
    await expect.poll(() => snapshots.length, WAIT).toBeGreaterThan(0);
    const after = await total(page);
    await waitForTotalAbove(page, after + 50);
    expect(await page.textContent('#state-text')).toBe('Live');
    expect(pageErrors).toEqual([]);
  });
});
