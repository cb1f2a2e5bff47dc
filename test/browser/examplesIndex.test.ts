// The examples' index in headless Chromium, on the embedded default (what
// `npm start` serves): the live page links to /examples/, which lists every
// example page, and each of those opens.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStreamer } from '../../src/app.js';
import type { Streamer } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { launchBrowser } from '../support/browser.js';
import { expectContrast } from '../support/contrast.js';
import type { TestBrowser } from '../support/browser.js';

const EXAMPLES = fileURLToPath(new URL('../../public/examples/', import.meta.url));
let streamer: Streamer;
let origin = '';
let browser: TestBrowser;

beforeAll(async () => {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    DEMO_RATE: '5',
  });
  streamer = createStreamer({ config, source: new MemoryBus(), demo: true });
  origin = `http://127.0.0.1:${(await streamer.listen()).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await streamer?.close();
});

it('the live page links to /examples/, which lists the example pages', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${origin}/`);
    await page.click('footer a:text("the example pages")');
    await page.waitForURL(`${origin}/examples/`);
    expect(await page.title()).toBe('rx-streamer · examples');
    await expectContrast(page, [
      'h1',
      '.lede',
      '.examples h2 a',
      '.examples p',
      '.examples code',
      '.foot',
      '.foot a',
    ]);
    const links = await page.evaluate<[string, string][]>(
      `[...document.querySelectorAll('#examples h2 a')].map((a) => [a.textContent, a.href])`,
    );
    expect(links).toEqual([
      ['Live emoji ranking', `${origin}/`],
      ['Notification stream', `${origin}/examples/notifications.html`],
      ['Chat', `${origin}/examples/chat.html`],
      ['Sites', `${origin}/examples/sites.html`],
    ]);
    // Every example page there is in the list (a new one must be added to it).
    const listed = new Set(links.map(([, href]) => href));
    const pages = readdirSync(EXAMPLES).filter((f) => f.endsWith('.html') && f !== 'index.html');
    expect(pages.length).toBeGreaterThan(0);
    for (const file of pages) expect(listed.has(`${origin}/examples/${file}`), file).toBe(true);
    for (const [, href] of links) {
      const res = await page.goto(href);
      expect(res?.status(), href).toBe(200);
      expect(await page.title()).toMatch(/^rx-streamer/);
    }
    expect(errors).toEqual([]);
  } finally {
    await page.close();
  }
});

it('/examples without the slash comes to the same list, as HTML, not a JSON 404', async () => {
  const page = await browser.newPage();
  try {
    const res = await page.goto(`${origin}/examples`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toMatch(/^text\/html/);
    expect(page.url()).toBe(`${origin}/examples/`);
    expect(await page.locator('#examples li').count()).toBe(4);
  } finally {
    await page.close();
  }
});
