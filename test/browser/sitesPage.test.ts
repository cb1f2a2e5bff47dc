// The sites example and the browser site stream client (/clients/datastream.js)
// in headless Chromium, on the embedded default: the server as `npm start` runs
// it with no Redis, its demo sites mrc and sro reporting every second. The page
// follows mrc, switches to sro, and is on sro again after a server restart
// (told that what it missed is lost: the new process has no history), and
// resumes with nothing missed or repeated after its socket alone is dropped.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStreamer } from '../../src/app.js';
import type { Streamer } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { launchBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';

const WAIT = { timeout: 10_000 };
let streamer: Streamer;
let port = 0;
let browser: TestBrowser;
const pageErrors: string[] = [];

async function serve(): Promise<void> {
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
  });
  streamer = createStreamer({ config, source: new MemoryBus(), demo: true });
  port = (await streamer.listen()).port;
}

interface LogItem {
  readonly seq: number;
  readonly site: string;
  readonly topic: string;
  readonly id: string;
}

const logItems = (page: Page) =>
  page.evaluate<LogItem[]>(`[...document.querySelectorAll('#log li')].map((li) => ({
    seq: Number(li.dataset.seq), site: li.dataset.site, topic: li.dataset.topic,
    id: li.dataset.id }))`);
const lastSeq = async (page: Page) => Math.max(0, ...(await logItems(page)).map((i) => i.seq));
/** Waits for `count` log items after `seq`, and returns them. */
async function itemsAfter(page: Page, seq: number, count: number): Promise<LogItem[]> {
  await page.waitForFunction(
    `[...document.querySelectorAll('#log li')].filter((li) => Number(li.dataset.seq) > ${seq})
      .length >= ${count}`,
    undefined,
    WAIT,
  );
  return (await logItems(page)).filter((i) => i.seq > seq);
}
const stateIs = (page: Page, state: string) =>
  page.waitForFunction(
    `document.getElementById('state').dataset.state === ${JSON.stringify(state)}`,
    undefined,
    WAIT,
  );
const acknowledged = (page: Page, site: string) =>
  page.waitForSelector(`#site[data-site="${site}"]`, WAIT);
const recovered = (page: Page, value: boolean) =>
  page.waitForSelector(`#state[data-recovered="${String(value)}"]`, WAIT);
/** An entry id's parts, to order them. */
const idParts = (id: string) => id.split('-').map(BigInt) as [bigint, bigint];
const before = (a: string, b: string) => {
  const [[am, as], [bm, bs]] = [idParts(a), idParts(b)];
  return am < bm || (am === bm && as < bs);
};
/** Waits for the panel to show `updates` more messages of `site` than `after`. */
const panelUpdated = (page: Page, panel: string, site: string, after = 0, updates = 1) =>
  page.waitForFunction(
    `(() => { const p = document.getElementById(${JSON.stringify(panel)});
      return p.dataset.site === ${JSON.stringify(site)} && Number(p.dataset.count) >= ${after + updates}; })()`,
    undefined,
    WAIT,
  );
const panelCount = async (page: Page, panel: string) =>
  Number(await page.getAttribute(`#${panel}`, 'data-count'));
async function field(page: Page, panel: string, name: string) {
  const selector = `#${panel} [data-field="${name}"]`;
  return {
    text: (await page.textContent(selector)) ?? '',
    value: JSON.parse((await page.getAttribute(selector, 'data-value')) ?? 'null') as unknown,
  };
}

beforeAll(async () => {
  await serve();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await streamer?.close();
});

it('follows mrc live, switches to sro, and is on sro again after a server restart', async () => {
  const page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/examples/sites.html?site=mrc`);

  // (a) mrc, live: the weather panel updates, every log item is mrc's.
  await stateIs(page, 'open');
  await acknowledged(page, 'mrc');
  await panelUpdated(page, 'weather', 'mrc', 0, 2);
  const temperature = await field(page, 'weather', 'temperature_c');
  expect(typeof temperature.value).toBe('number');
  expect(temperature.text).toBe(`${String(temperature.value)} °C`);
  for (const name of ['humidity_pct', 'wind_mps', 'sky_temp_c'])
    expect(typeof (await field(page, 'weather', name)).value).toBe('number');
  expect(typeof (await field(page, 'weather', 'open_ok')).value).toBe('boolean');
  // The first round of the demo carries a status too.
  await panelUpdated(page, 'status', 'mrc');
  expect(['open', 'closed']).toContain((await field(page, 'status', 'enclosure')).value);
  const first = await logItems(page);
  expect(first.length).toBeGreaterThanOrEqual(2);
  expect(first.every((i) => i.site === 'mrc')).toBe(true);
  expect(first.some((i) => i.topic === 'weather')).toBe(true);
  expect(first.map((i) => i.seq)).toEqual([...first.map((i) => i.seq)].sort((a, b) => b - a));

  // (b) the picker switches to sro: acknowledged, then only sro, and the panel follows.
  await page.click('#picker button[data-site="sro"]');
  await acknowledged(page, 'sro');
  expect(await page.getAttribute('#picker button[data-site="sro"]', 'aria-pressed')).toBe('true');
  expect(page.url()).toContain('site=sro');
  const switched = await lastSeq(page);
  const fromSro = await itemsAfter(page, switched, 4);
  expect(fromSro.every((i) => i.site === 'sro')).toBe(true);
  await panelUpdated(page, 'weather', 'sro', 0, 2);
  await panelUpdated(page, 'status', 'sro');

  // (c) a server restart: the page reconnects on sro by itself.
  await streamer.close();
  await stateIs(page, 'reconnecting');
  expect(await page.$('#site[data-site]')).toBeNull();
  await serve();
  await stateIs(page, 'open');
  await acknowledged(page, 'sro');
  await recovered(page, false);
  const reopened = await lastSeq(page);
  const weatherBefore = await panelCount(page, 'weather');
  const again = await itemsAfter(page, reopened, 4);
  expect(again.every((i) => i.site === 'sro')).toBe(true);
  await panelUpdated(page, 'weather', 'sro', weatherBefore, 1);
  expect(await page.textContent('#notice')).toBe('');

  // The log stays bounded, newest first.
  expect((await logItems(page)).length).toBeLessThanOrEqual(50);

  // (e) its socket dropped, the server still up: it resumes after the last id it got.
  const seen = await lastSeq(page);
  await page.evaluate(`document.getElementById('state').dataset.recovered = ''`);
  streamer.hub.destroyAll();
  await stateIs(page, 'reconnecting');
  await stateIs(page, 'open');
  await recovered(page, true);
  await itemsAfter(page, seen, 3);
  // Every id once, each newer than the one logged before it.
  const ids = (await logItems(page)).filter((i) => i.site === 'sro').map((i) => i.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (let i = 1; i < ids.length; i++)
    expect(before(ids[i] as string, ids[i - 1] as string), `${ids[i]} before ${ids[i - 1]}`).toBe(
      true,
    );

  // (d) no page errors.
  expect(pageErrors).toEqual([]);
  await page.close();
});

it('follows mrc when the page names no site, and falls back to it from a bad name', async () => {
  for (const query of ['', '?site=no%20such%20site']) {
    const page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/examples/sites.html${query}`);
    await acknowledged(page, 'mrc');
    await panelUpdated(page, 'weather', 'mrc');
    if (query) expect(await page.textContent('#notice')).toMatch(/site must be .*; showing mrc/);
    await page.close();
  }
  expect(pageErrors).toEqual([]);
});
