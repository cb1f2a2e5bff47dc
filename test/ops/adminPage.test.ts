// The admin page in headless Chromium against the server on a real socket: it
// loads, shows a connection the test opened (escaped, as text), its counters
// and chart move, and a new connection appears without a reload.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { demoFeed } from '../../src/protocols/emojitrack/demoFeed.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { launchBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { openSse } from '../support/sse.js';
import type { RawSse } from '../support/sse.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const WAIT = { timeout: 15_000 };
/** A user agent that would run script if the page used it as markup. */
const NASTY_UA = 'probe/1.0 <img src=x onerror="window.__owned=1">';

const bus = new MemoryBus();
let feeding: Subscription;
let app: TestApp;
let browser: TestBrowser;
let page: Page;
const streams: RawSse[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  feeding = demoFeed({ rate: 200 }).subscribe((p) => bus.publish(p.channel, p.payload));
  app = await startApp({ source: bus, env: { NODE_NAME: 'admin-test-node' } });
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
});

afterAll(async () => {
  await browser?.close();
  for (const s of streams) s.close();
  await app?.close();
  feeding?.unsubscribe();
});

// Page-side code is passed as strings: the project's TypeScript has no DOM types.
const inPage = <T>(expression: string) => page.evaluate<T>(expression);
const until = (expression: string) => page.waitForFunction(expression, undefined, WAIT);

const rowTexts = () =>
  inPage<string[][]>(
    `[...document.querySelectorAll('#connections tbody tr')].map((r) => [...r.cells].map((c) => c.textContent))`,
  );

describe('/admin/', () => {
  it('loads and shows the node, its uptime and memory', async () => {
    const eps = await openSse(`${app.url}/subscribe/eps`, { headers: { 'User-Agent': NASTY_UA } });
    streams.push(eps);
    const res = await page.goto(`${app.url}/admin/?every=300`);
    expect(res?.status()).toBe(200);
    await until(`document.getElementById('node').textContent === 'admin-test-node'`);
    expect(await page.title()).toBe('rx-streamer admin · admin-test-node');
    expect(await page.textContent('#state')).toBe('OK');
    expect(await page.textContent('#uptime')).toMatch(/^\d+s$/);
    expect(await page.textContent('#memory')).toMatch(/^\d+(\.\d)? (MiB|GiB)$/);
  });

  it('shows the connection the test opened, with its user agent as plain text', async () => {
    await until(`document.querySelectorAll('#connections tbody tr').length === 1`);
    const [row] = await rowTexts();
    expect(row?.slice(0, 3)).toEqual(['/subscribe/eps', '127.0.0.*', NASTY_UA]);
    expect(await page.textContent('#connections-total')).toBe('1');
    expect(await page.$('#connections img')).toBeNull();
    expect(await inPage('window.__owned')).toBeUndefined();
    const families = await inPage<string[][]>(
      `[...document.querySelectorAll('#families tbody tr')].map((r) => [r.dataset.family, r.cells[1].textContent])`,
    );
    expect(families).toContainEqual(['eps', '1']);
    expect(families).toContainEqual(['raw', '0']);
  });

  it('updates: messages sent grow, rates and the chart appear, a new connection shows up', async () => {
    const sentBefore = Number((await rowTexts())[0]?.[4]);
    await until(
      `Number(document.querySelector('#connections tbody tr td:nth-child(5)').textContent) > ${sentBefore}`,
    );
    await until(`Number(document.getElementById('rate-in').textContent) > 0`);
    // The chart has drawn something: some pixel is not transparent.
    const drawn = await inPage<boolean>(`(() => {
      const c = document.getElementById('chart');
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      return data.some((v, i) => i % 4 === 3 && v > 0);
    })()`);
    expect(drawn).toBe(true);

    const detail = await openSse(`${app.url}/subscribe/details/1F602`, {
      headers: { 'User-Agent': 'second-client' },
    });
    streams.push(detail);
    await until(`document.getElementById('connections-total').textContent === '2'`);
    const paths = (await rowTexts()).map((r) => r[0]);
    expect(paths.sort()).toEqual(['/subscribe/details/1F602', '/subscribe/eps']);

    await page.fill('#filter', 'second-client');
    expect((await rowTexts()).map((r) => r[0])).toEqual(['/subscribe/details/1F602']);
    await page.fill('#filter', '');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}admin-page.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('redirects /admin to /admin/', async () => {
    const res = await fetch(`${app.url}/admin`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/admin/');
  });
});
