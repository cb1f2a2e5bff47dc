// The chat example and the browser pub/sub client (/clients/pubsub.js) in
// headless Chromium, two windows, on the embedded default: the server as
// `npm start` runs it with no Redis (its chat hooks on), restarted mid-chat;
// the page before joining, with `?name=`, and with a name the server refuses.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createStreamer } from '../../src/app.js';
import type { Streamer } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { MemoryBus } from '../../src/sources/MemoryBus.js';
import { launchBrowser } from '../support/browser.js';
import { expectContrast } from '../support/contrast.js';
import type { TestBrowser } from '../support/browser.js';
import { isControl, openWs } from '../support/ws.js';

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
    DEMO_RATE: '5',
  });
  streamer = createStreamer({ config, source: new MemoryBus(), demo: true });
  port = (await streamer.listen()).port;
}

async function join(name: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/examples/chat.html`);
  await page.fill('#name', name);
  await page.click('#join button');
  await page.waitForSelector('#say[data-ready="true"]', WAIT);
  return page;
}

const say = async (page: Page, text: string) => {
  await page.fill('#text', text);
  await page.click('#say button');
};
/** Each message line as `<name>:<text> ` (the text node between the name and the time). */
const LINES = `[...document.querySelectorAll('#messages li')].map(
  (li) => li.querySelector('strong').textContent + ':' + li.childNodes[1].textContent)`;
const lines = (page: Page) => page.evaluate<string[]>(LINES);
const seen = (page: Page, line: string) =>
  page.waitForFunction(`${LINES}.includes(${JSON.stringify(line)})`, undefined, WAIT);
const stateIs = (page: Page, state: string) =>
  page.waitForFunction(
    `document.getElementById('state').dataset.state === ${JSON.stringify(state)}`,
    undefined,
    WAIT,
  );

beforeAll(async () => {
  await serve();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await streamer?.close();
});

it('two windows chat, the server stamps names, and both carry on after a server restart', async () => {
  const [ada, grace] = [await join('Ada'), await join('Grace')];
  await say(ada, '   hello there   ');
  // Trimmed and signed by the server's push trap.
  for (const page of [ada, grace]) await seen(page, 'Ada: hello there ');
  await say(grace, 'hi Ada');
  await seen(ada, 'Grace: hi Ada ');

  await streamer.close();
  for (const page of [ada, grace]) await stateIs(page, 'reconnecting');
  await serve();
  // Each client subscribes again by itself; the page marks the acknowledgement.
  for (const page of [ada, grace]) {
    await stateIs(page, 'open');
    await page.waitForSelector('#say[data-ready="true"]', WAIT);
  }
  await say(grace, 'back again');
  await seen(ada, 'Grace: back again ');
  expect(await lines(ada)).toEqual(['Ada: hello there ', 'Grace: hi Ada ', 'Grace: back again ']);
  expect(pageErrors).toEqual([]);
});

it('lets no one in the room without a name, and keeps texts bounded', async () => {
  const anonymous = await openWs(`ws://127.0.0.1:${port}/pubsub`);
  anonymous.send({ action: 'subscribe', payload: { channel: 'chat.lobby' } });
  await anonymous.next(isControl('not allowed to subscribe chat.lobby', true));
  const named = await openWs(`ws://127.0.0.1:${port}/pubsub?name=Bob`);
  named.send({
    action: 'publish',
    payload: { channel: 'chat.lobby', message: { text: 'x'.repeat(501) } },
  });
  await named.next(isControl('not allowed to publish to chat.lobby', true));
  for (const c of [anonymous, named]) c.close();
});

it('shows no message form before joining, and fills the name from ?name=', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`http://127.0.0.1:${port}/examples/chat.html?name=Ada%20L`);
    expect(await page.inputValue('#name')).toBe('Ada L');
    expect(await page.isVisible('#join')).toBe(true);
    expect(await page.isVisible('#say')).toBe(false);
    expect(await page.isVisible('#text')).toBe(false);
    // Enter in the (hidden) message field does nothing, and throws nothing.
    await page.dispatchEvent('#say', 'submit');
    await page.click('#join button');
    await page.waitForSelector('#say[data-ready="true"]', WAIT);
    expect(await page.isVisible('#say')).toBe(true);
    await say(page, 'from the query');
    await seen(page, 'Ada L: from the query ');
    expect(errors).toEqual([]);
  } finally {
    await page.close();
  }
});

it('shows a refused name as a refusal, not as open, and lets another name in', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`http://127.0.0.1:${port}/examples/chat.html`);
    await page.fill('#name', '<Ada>');
    await page.click('#join button');
    await stateIs(page, 'refused');
    expect(await page.textContent('#state')).toBe('refused');
    const notice = await page.textContent('#notice');
    expect(notice).toContain('The server refused the name “<Ada>”');
    expect(notice).toContain('not allowed to subscribe chat.lobby');
    expect(await page.isVisible('#say')).toBe(false);
    // It stays a refusal: the page has let go of its connection, and does not come back as open.
    await page.waitForTimeout(1_500);
    expect(await page.getAttribute('#state', 'data-state')).toBe('refused');
    const colorOf = (selector: string) =>
      page.evaluate<string>(`getComputedStyle(document.querySelector('${selector}')).color`);
    expect(await colorOf('#state')).not.toBe(await colorOf('h1'));
    await expectContrast(page, ['#state', '#notice']);

    await page.fill('#name', 'Ada');
    await page.click('#join button');
    await page.waitForSelector('#say[data-ready="true"]', WAIT);
    expect(await page.getAttribute('#state', 'data-state')).toBe('open');
    expect(await page.textContent('#notice')).toBe('');
    await say(page, 'let in');
    await seen(page, 'Ada: let in ');
    expect(errors).toEqual([]);
  } finally {
    await page.close();
  }
});
